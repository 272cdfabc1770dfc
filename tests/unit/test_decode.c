/* Decoder: valid records decode; short, truncated, oversized and malformed
 * records are rejected without reading past their end (run under ASan). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/decode.h"

static struct tp_event ev;

static void fill_hdr(struct tp_hdr *h, uint32_t type, uint32_t size)
{
	memset(h, 0, sizeof(*h));
	h->ts_ns = 1000;
	h->cgroup_id = 77;
	h->type = type;
	h->size = size;
	h->pid = 42;
	h->tid = 43;
	h->ppid = 1;
	h->uid = 1000;
	h->gid = 1000;
	h->cpu = 1;
	memcpy(h->comm, "bash", 5);
}

static struct tp_exec_event *make_exec(void)
{
	struct tp_exec_event *e = calloc(1, sizeof(*e));
	static const char argv[] = "ls\0-l\0/tmp";

	fill_hdr(&e->hdr, TP_EV_PROCESS_EXEC, sizeof(*e));
	e->ret = -2;
	strcpy(e->filename, "/bin/ls");
	memcpy(e->argv, argv, sizeof(argv));
	e->argv_len = sizeof(argv);
	return e;
}

/* Decode from a heap copy of exactly len bytes, so ASan sees any over-read. */
static int decode_exact(const void *rec, size_t len)
{
	void *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, rec, len);
	r = tp_decode(copy, len, 5000, &ev);
	free(copy);
	return r;
}

static void test_valid_exec(void **state)
{
	struct tp_exec_event *e = make_exec();
	const struct tp_field *f;
	uint32_t len;
	size_t n;
	int64_t ret;
	const char *p;

	(void)state;
	assert_int_equal(decode_exact(e, sizeof(*e)), 0);
	assert_string_equal(ev.type->name, "process.exec");
	assert_int_equal(ev.ts_wall_ns, 6000);
	assert_int_equal(ev.rec.hdr.pid, 42);
	assert_string_equal(ev.rec.hdr.comm, "bash");

	f = tp_event_field(ev.type, "filename");
	assert_non_null(f);
	assert_string_equal(tp_field_str(&ev, f), "/bin/ls");
	f = tp_event_field(ev.type, "ret");
	assert_true(tp_field_i64(&ev, f, &ret));
	assert_int_equal(ret, -2);

	f = tp_event_field(ev.type, "argv");
	p = tp_field_argv(&ev, f, &len);
	assert_int_equal(len, 11);
	p = tp_argv_next(p, len, NULL, &n);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "ls", 2);
	p = tp_argv_next((const char *)ev.rec.bytes + f->offset, len, p, &n);
	assert_memory_equal(p, "-l", 2);
	p = tp_argv_next((const char *)ev.rec.bytes + f->offset, len, p, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "/tmp", 4);
	assert_null(tp_argv_next((const char *)ev.rec.bytes + f->offset, len, p, &n));
	free(e);
}

/* env: the first of each name, entries without '=' or a name skipped; an
 * exec record stored before the exec context (1368 bytes) still decodes,
 * without env or exe_* fields; an env count past the field is refused. */
static void test_exec_env_and_old_records(void **state)
{
	struct tp_exec_event *e = make_exec();
	static const char env[] = "LD_PRELOAD=/x.so\0junk\0=v\0HISTFILE=\0LD_PRELOAD=/y.so";
	const char *names[] = {"LD_PRELOAD", "HISTFILE"}, *values[] = {"/x.so", ""};
	const struct tp_field *f;
	struct tp_env_entry en;
	const char *p;
	uint32_t len;
	int n = 0;

	(void)state;
	memcpy(e->env, env, sizeof(env));
	e->env_len = sizeof(env);
	e->exe_flags = TP_EXE_KNOWN | TP_EXE_MEMFD;
	assert_int_equal(decode_exact(e, sizeof(*e)), 0);
	f = tp_event_field(ev.type, "env");
	assert_true(tp_field_present(&ev, f));
	p = tp_field_argv(&ev, f, &len);
	for (bool ok = tp_env_next(p, len, NULL, &en); ok; ok = tp_env_next(p, len, &en, &en), n++) {
		assert_true(n < 2);
		assert_int_equal(en.name_len, strlen(names[n]));
		assert_memory_equal(en.name, names[n], en.name_len);
		assert_int_equal(en.value_len, strlen(values[n]));
		assert_memory_equal(en.value, values[n], en.value_len);
	}
	assert_int_equal(n, 2);
	assert_true(tp_field_present(&ev, tp_event_field(ev.type, "exe_memfd")));

	e->hdr.size = offsetof(struct tp_exec_event, exe_ino);
	assert_int_equal(decode_exact(e, e->hdr.size), 0);
	assert_false(tp_field_present(&ev, tp_event_field(ev.type, "env")));
	assert_false(tp_field_present(&ev, tp_event_field(ev.type, "exe_memfd")));
	assert_false(tp_field_present(&ev, tp_event_field(ev.type, "sessionid")));
	assert_true(tp_field_present(&ev, tp_event_field(ev.type, "argv")));

	e->hdr.size = sizeof(*e);
	e->env_len = sizeof(e->env) + 1;
	assert_int_equal(decode_exact(e, sizeof(*e)), -TP_DECODE_BAD_FIELD);
	free(e);
}

static void test_short_records(void **state)
{
	struct tp_exec_event *e = make_exec();

	(void)state;
	/* Shorter than a header. */
	for (size_t len = 0; len < sizeof(struct tp_hdr); len++)
		assert_int_equal(decode_exact(e, len), -TP_DECODE_SHORT);
	/* A header that claims the full size on a truncated record. */
	for (size_t len = sizeof(struct tp_hdr); len < sizeof(*e); len += 37)
		assert_int_equal(decode_exact(e, len), -TP_DECODE_SIZE_MISMATCH);
	/* Header and length agree, but the type's fixed part is missing. */
	e->hdr.size = sizeof(struct tp_hdr) + 8;
	assert_int_equal(decode_exact(e, e->hdr.size), -TP_DECODE_SHORT);
	free(e);
}

static void test_oversized_records(void **state)
{
	uint8_t *big = calloc(1, TP_RECORD_MAX + 64);
	struct tp_hdr *h = (struct tp_hdr *)big;

	(void)state;
	fill_hdr(h, TP_EV_PROCESS_FORK, sizeof(struct tp_fork_event) + 8);
	assert_int_equal(decode_exact(big, h->size), -TP_DECODE_OVERSIZED);
	fill_hdr(h, TP_EV_PROCESS_EXEC, TP_RECORD_MAX + 8);
	assert_int_equal(decode_exact(big, TP_RECORD_MAX + 8), -TP_DECODE_OVERSIZED);
	/* A size field that disagrees with the real length. */
	fill_hdr(h, TP_EV_PROCESS_FORK, 4000);
	assert_int_equal(decode_exact(big, sizeof(struct tp_fork_event)), -TP_DECODE_SIZE_MISMATCH);
	free(big);
}

static void test_unknown_type(void **state)
{
	struct tp_fork_event f;
	static const uint32_t bad[] = { 0, 0xffff, 0x10000, TP_TYPE(TP_CAT_PROCESS, 63),
					TP_TYPE(TP_CAT_MAX, 1), 0xffffffff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fill_hdr(&f.hdr, bad[i], sizeof(f));
		assert_int_equal(decode_exact(&f, sizeof(f)), -TP_DECODE_UNKNOWN_TYPE);
	}
}

static void test_argv_count_past_buffer(void **state)
{
	struct tp_exec_event *e = make_exec();

	(void)state;
	e->argv_len = sizeof(e->argv) + 1;
	assert_int_equal(decode_exact(e, sizeof(*e)), -TP_DECODE_BAD_FIELD);
	e->argv_len = 0xffffffff;
	assert_int_equal(decode_exact(e, sizeof(*e)), -TP_DECODE_BAD_FIELD);
	e->argv_len = sizeof(e->argv); /* exactly full is fine */
	assert_int_equal(decode_exact(e, sizeof(*e)), 0);
	free(e);
}

static void test_unterminated_strings(void **state)
{
	struct tp_exec_event *e = make_exec();
	const struct tp_field *f;

	(void)state;
	memset(e->filename, 'A', sizeof(e->filename));
	memset(e->hdr.comm, 'B', sizeof(e->hdr.comm));
	assert_int_equal(decode_exact(e, sizeof(*e)), 0);
	f = tp_event_field(ev.type, "filename");
	assert_int_equal(strlen(tp_field_str(&ev, f)), sizeof(e->filename) - 1);
	assert_int_equal(strlen(ev.rec.hdr.comm), TP_COMM_LEN - 1);
	free(e);
}

static void test_fork_and_exit(void **state)
{
	struct tp_fork_event fk;
	struct tp_exit_event ex;
	const struct tp_field *f;
	uint64_t v;
	char name[32];

	(void)state;
	fill_hdr(&fk.hdr, TP_EV_PROCESS_FORK, sizeof(fk));
	fk.parent_pid = 7;
	assert_int_equal(decode_exact(&fk, sizeof(fk)), 0);
	f = tp_event_field(ev.type, "parent_pid");
	assert_true(tp_field_u64(&ev, f, &v));
	assert_int_equal(v, 7);

	memset(&ex, 0, sizeof(ex));
	fill_hdr(&ex.hdr, TP_EV_PROCESS_EXIT, sizeof(ex));
	ex.exit_code = 3;
	ex.signal = 9;
	assert_int_equal(decode_exact(&ex, sizeof(ex)), 0);
	assert_string_equal(ev.type->name, "process.exit");
	f = tp_event_field(ev.type, "signal");
	assert_true(tp_field_u64(&ev, f, &v));
	assert_true(tp_field_sym(f, v, name, sizeof(name)));
	assert_string_equal(name, "SIGKILL");
}

/* Random bytes behind a plausible header: every outcome is a clean result. */
static void test_random_records(void **state)
{
	uint8_t *buf = malloc(TP_RECORD_MAX + 16);
	uint32_t types[] = { TP_EV_PROCESS_EXEC, TP_EV_PROCESS_FORK, TP_EV_PROCESS_EXIT, 12345 };

	(void)state;
	srand(1234);
	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)rand() % (TP_RECORD_MAX + 16);
		struct tp_hdr h;
		int r;

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		if (len >= sizeof(h) && (i & 1)) {
			memcpy(&h, buf, sizeof(h));
			h.type = types[(size_t)rand() % 4];
			h.size = (uint32_t)len;
			memcpy(buf, &h, sizeof(h));
		}
		r = decode_exact(buf, len);
		assert_true(r == 0 || (r < 0 && -r < TP_DECODE_NERRORS));
	}
	free(buf);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int e = 1; e < TP_DECODE_NERRORS; e++)
		assert_string_not_equal(tp_decode_strerror(-e), "unknown decode error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_exec),
		cmocka_unit_test(test_exec_env_and_old_records),
		cmocka_unit_test(test_short_records),
		cmocka_unit_test(test_oversized_records),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_argv_count_past_buffer),
		cmocka_unit_test(test_unterminated_strings),
		cmocka_unit_test(test_fork_and_exit),
		cmocka_unit_test(test_random_records),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
