#include "fixtures.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/event.h"
#include "lua/lua_event.h"
#include "lua/sandbox.h"

void tp_fx_tmpdir(char *out, size_t len, const char *tag)
{
	snprintf(out, len, "/tmp/tapio-test-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(out));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path); /* and go on: remove what can be removed */
	return 0;
}

void tp_fx_rmtree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tp_fx_write(const char *dir, const char *name, const void *data, size_t n, mode_t mode,
		 char *path_out, size_t path_len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	if (path_out)
		snprintf(path_out, path_len, "%s", path);
}

void tp_fx_write_text(const char *dir, const char *name, const char *text, char *path_out,
		      size_t path_len)
{
	tp_fx_write(dir, name, text, strlen(text), 0644, path_out, path_len);
}

static int open_event_p(lua_State *L)
{
	return tp_lua_event_open(L);
}

void tp_fx_event_vm(struct tp_lua_vm **vm, lua_State **L, struct tp_lua_event **b)
{
	struct tp_lua_limits lim = {.mem_max = 32u << 20, .instr_budget = 1000000};
	char err[1024];

	assert_int_equal(tp_lua_vm_new(vm, &lim, err, sizeof(err)), 0);
	*L = tp_lua_vm_state(*vm);
	assert_int_equal(tp_lua_cpcall(*vm, open_event_p, NULL, err, sizeof(err)), TP_LUA_OK);
	*b = tp_lua_event_binding(*L);
}

void tp_fx_exec_record(struct tp_exec_event *e, const char *comm, const char *filename,
		       const void *argv, size_t argv_len)
{
	memset(e, 0, sizeof(*e));
	e->hdr.type = TP_EV_PROCESS_EXEC;
	e->hdr.size = sizeof(*e);
	memcpy(e->hdr.comm, comm, strnlen(comm, sizeof(e->hdr.comm)));
	memcpy(e->filename, filename, strnlen(filename, sizeof(e->filename)));
	if (argv_len > sizeof(e->argv))
		argv_len = sizeof(e->argv);
	memcpy(e->argv, argv, argv_len);
	e->argv_len = (uint32_t)argv_len;
}

const void *tp_fx_full_record(const struct tp_event_type *t)
{
	static uint8_t rec[TP_RECORD_MAX];
	struct tp_hdr *h = (struct tp_hdr *)rec;

	memset(rec, 0x41, t->size);
	memset(h, 0, sizeof(*h));
	h->type = t->id;
	h->size = t->size;
	h->pid = 7;
	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint32_t n = 4;

		if (f->kind == TP_FK_ARGV)
			memset(rec + f->aux, 0, 4);
		if (f->kind == TP_FK_ENV) { /* one variable: an empty env is absent */
			memcpy(rec + f->offset, "A=b", 4);
			memcpy(rec + f->aux, &n, 4);
		}
		if (f->present_mask) { /* the condition bit, where 0x41 bytes lack it */
			uint32_t c;

			memcpy(&c, rec + f->present_offset, 4);
			if (!(c & f->present_mask))
				c |= f->present_mask;
			memcpy(rec + f->present_offset, &c, 4);
		}
	}
	return rec;
}
