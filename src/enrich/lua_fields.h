/*
 * enrich/lua_fields.h - the enrichment as fields of the Lua event: e.exe,
 * e.parent, e.ancestors, e.container and e.k8s, read from
 * tp_event_meta.proc (proc_ctx.h) through the Lua bridge's virtual fields.
 *
 * Unknown reads as nil at the leaves; the nested fields are always tables
 * (empty when unknown) so that a rule can write e.container.id ~= nil or
 * e.parent.comm == "sshd" without guarding every level.
 */
#ifndef TAPIO_ENRICH_LUA_FIELDS_H
#define TAPIO_ENRICH_LUA_FIELDS_H

/* Register the fields, before the first Lua VM is made. Idempotent.
 * Returns 0 or -errno. */
int tp_enrich_lua_register(void);

#endif
