#include "enrich/lua_fields.h"

#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "events/proc_ctx.h"
#include "lua/lua_event.h"

static const struct tp_proc_ctx *ctx_of(const struct tp_event_meta *meta)
{
	return meta ? meta->proc : NULL;
}

/* t[k] = v when v is known. Stack: [-0, +0] (the table on top) */
static void set_str(lua_State *L, const char *k, const char *v)
{
	if (!v)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

/* {pid =, comm =, exe =}. Stack: [-0, +1] */
static void push_ref(lua_State *L, const struct tp_proc_ref *r)
{
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, r->pid);
	lua_setfield(L, -2, "pid");
	set_str(L, "comm", r->comm);
	set_str(L, "exe", r->exe);
}

/* e.exe. Stack: [-0, +(0|1)] */
static int field_exe(lua_State *L, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);

	(void)ev;
	if (!pc || !pc->exe)
		return 0;
	lua_pushstring(L, pc->exe);
	return 1;
}

/* e.started: when the process started, in the wall clock of e.ts (the
 * event's own wall time less how long before it the process started).
 * Stack: [-0, +(0|1)] */
static int field_started(lua_State *L, const struct tp_event *ev,
			 const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);
	uint64_t ts = ev->rec.hdr.ts_ns;

	if (!pc || !pc->start_ns || pc->start_ns > ts || ts - pc->start_ns > ev->ts_wall_ns)
		return 0;
	lua_pushinteger(L, (lua_Integer)(ev->ts_wall_ns - (ts - pc->start_ns)));
	return 1;
}

/* e.parent: {pid, comm, exe}, {} when unknown. Stack: [-0, +1] */
static int field_parent(lua_State *L, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);

	(void)ev;
	if (pc && pc->parent)
		push_ref(L, pc->parent);
	else
		lua_createtable(L, 0, 0);
	return 1;
}

/* e.ancestors: the parent's ancestors, nearest first; {} when unknown.
 * Stack: [-0, +1] */
static int field_ancestors(lua_State *L, const struct tp_event *ev,
			   const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);
	size_t n = pc ? pc->nancestors : 0;

	(void)ev;
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		push_ref(L, &pc->ancestors[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* e.container: {id, runtime}, {} when not in a container. Stack: [-0, +1] */
static int field_container(lua_State *L, const struct tp_event *ev,
			   const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);

	(void)ev;
	lua_createtable(L, 0, 2);
	if (pc && pc->container) {
		set_str(L, "id", pc->container->id);
		set_str(L, "runtime", pc->container->runtime);
	}
	return 1;
}

/* e.k8s: {pod, namespace, pod_uid, container, qos}, {} when not in a pod.
 * Stack: [-0, +1] */
static int field_k8s(lua_State *L, const struct tp_event *ev, const struct tp_event_meta *meta)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);

	(void)ev;
	lua_createtable(L, 0, 5);
	if (pc && pc->k8s) {
		set_str(L, "pod", pc->k8s->pod);
		set_str(L, "namespace", pc->k8s->namespace);
		set_str(L, "pod_uid", pc->k8s->pod_uid);
		set_str(L, "container", pc->k8s->container);
		set_str(L, "qos", pc->k8s->qos);
	}
	return 1;
}

/* ------------------------------------------------------------ template text */

/* A string of the context as a template writes it: 0 (nil) when unknown. */
static int text_str(const char *v, struct tp_buf *out)
{
	if (!v)
		return 0;
	tp_buf_puts(out, v);
	return 1;
}

/* ${exe}, as field_exe. */
static int text_exe(const struct tp_event *ev, const struct tp_event_meta *meta,
		    const char *const *sub, size_t nsub, struct tp_buf *out)
{
	const struct tp_proc_ctx *pc = ctx_of(meta);

	(void)ev;
	(void)sub;
	if (nsub)
		return -1;
	return pc ? text_str(pc->exe, out) : 0;
}

/* The member sub of a table field_* would build from names[i] =
 * values[i]: nil for a name it does not have. */
static int text_member(const char *sub, const char *const *names, const char *const *values,
		       size_t n, struct tp_buf *out)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(sub, names[i]))
			return text_str(values[i], out);
	return 0;
}

/* ${parent.pid|comm|exe}, as field_parent's table. */
static int text_parent(const struct tp_event *ev, const struct tp_event_meta *meta,
		       const char *const *sub, size_t nsub, struct tp_buf *out)
{
	static const char *const names[] = {"comm", "exe"};
	const struct tp_proc_ctx *pc = ctx_of(meta);
	const struct tp_proc_ref *r;

	(void)ev;
	if (nsub != 1) /* the table itself, or deeper */
		return -1;
	if (!pc || !(r = pc->parent))
		return 0;
	if (!strcmp(sub[0], "pid")) {
		tp_buf_i64(out, r->pid);
		return 1;
	}
	return text_member(sub[0], names, (const char *const[]){r->comm, r->exe}, 2, out);
}

/* ${container.id|runtime}, as field_container's table. */
static int text_container(const struct tp_event *ev, const struct tp_event_meta *meta,
			  const char *const *sub, size_t nsub, struct tp_buf *out)
{
	static const char *const names[] = {"id", "runtime"};
	const struct tp_proc_ctx *pc = ctx_of(meta);
	const struct tp_container_ctx *c;

	(void)ev;
	if (nsub != 1)
		return -1;
	if (!pc || !(c = pc->container))
		return 0;
	return text_member(sub[0], names, (const char *const[]){c->id, c->runtime}, 2, out);
}

/* ${k8s.pod|namespace|pod_uid|container|qos}, as field_k8s's table. */
static int text_k8s(const struct tp_event *ev, const struct tp_event_meta *meta,
		    const char *const *sub, size_t nsub, struct tp_buf *out)
{
	static const char *const names[] = {"pod", "namespace", "pod_uid", "container", "qos"};
	const struct tp_proc_ctx *pc = ctx_of(meta);
	const struct tp_k8s_ctx *k;

	(void)ev;
	if (nsub != 1)
		return -1;
	if (!pc || !(k = pc->k8s))
		return 0;
	return text_member(
	    sub[0], names,
	    (const char *const[]){k->pod, k->namespace, k->pod_uid, k->container, k->qos}, 5, out);
}

int tp_enrich_lua_register(void)
{
	static const struct {
		const char *name;
		tp_lua_field_fn fn;
		tp_lua_field_text_fn text; /* what output templates read without Lua */
	} fields[] = {
	    {"exe", field_exe, text_exe},
	    {"started", field_started, NULL},
	    {"parent", field_parent, text_parent},
	    {"ancestors", field_ancestors, NULL},
	    {"container", field_container, text_container},
	    {"k8s", field_k8s, text_k8s},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int r = tp_lua_register_field(fields[i].name, fields[i].fn);

		if (r < 0 && r != -EEXIST)
			return r;
		/* Only to a getter of ours (-EEXIST: registered before, by us
		 * or by another unit). */
		if (r == 0 && fields[i].text &&
		    (r = tp_lua_register_field_text(fields[i].name, fields[i].text)) < 0)
			return r;
	}
	return 0;
}
