/*
 * tests/unit/fixtures.h - what many unit tests need, written once:
 * temporary folders removed with everything in them, and files written
 * with a given mode. Failures are cmocka assertions (fail the test).
 *
 * Linked into every unit test (tests/CMakeLists.txt, tapio_fixtures).
 */
#ifndef TAPIO_TEST_FIXTURES_H
#define TAPIO_TEST_FIXTURES_H

#include <stddef.h>
#include <sys/types.h>

#include <lua.h>

#include "events.h"

struct tp_lua_vm;
struct tp_lua_event;

/* mkdtemp("/tmp/tapio-test-<tag>-XXXXXX") into out (at least 64 bytes). */
void tp_fx_tmpdir(char *out, size_t len, const char *tag);
/* rm -rf path (a missing path is fine). */
void tp_fx_rmtree(const char *path);
/* Write n bytes to dir/name (created or truncated) with mode (chmod'ed,
 * whatever the umask); the path goes to path_out when it is not NULL. */
void tp_fx_write(const char *dir, const char *name, const void *data, size_t n, mode_t mode,
		 char *path_out, size_t path_len);
/* The same for a C string. */
void tp_fx_write_text(const char *dir, const char *name, const char *text, char *path_out,
		      size_t path_len);

/* A sandboxed VM (32 MiB, 1M instructions a call) with the reused event
 * userdata open; *b is its binding (unbound). Close with tp_lua_vm_close. */
void tp_fx_event_vm(struct tp_lua_vm **vm, lua_State **L, struct tp_lua_event **b);

/* A process.exec record: zeroed, type and size set, comm, filename and the
 * NUL-separated argv copied (each cut to its field). The header's numbers
 * are the test's to set. */
void tp_fx_exec_record(struct tp_exec_event *e, const char *comm, const char *filename,
		       const void *argv, size_t argv_len);

/* A record of type t with every byte set (strings end at their field's
 * last byte, argv lists are empty, env lists hold A=b), so that it decodes
 * with every field present: conditional fields get their condition bits.
 * A static buffer, valid until the next call. */
struct tp_event_type;
const void *tp_fx_full_record(const struct tp_event_type *t);

#endif
