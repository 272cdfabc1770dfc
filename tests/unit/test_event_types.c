/* The descriptor tables of every family: each field lies inside its
 * record, names are unique identifiers, the type ids the contract names
 * are all registered, and any record of every type decodes and formats
 * without reading outside it (run under ASan). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/decode.h"
#include "events/format.h"

static const char *const contract[] = {
	"process.exec",       "process.fork",        "process.exit",      "file.open",
	"file.rename",        "file.unlink",         "file.chmod",        "file.chown",
	"file.link",          "file.symlink",        "file.mkdir",        "network.connect",
	"network.accept",     "network.close",       "network.state",     "network.dns",
	"security.setuid",    "security.setgid",     "security.capset",   "security.ptrace",
	"security.module_load", "security.bpf",      "security.memfd_create", "security.kill",
	"container.setns",    "container.unshare",   "container.mount",   "container.cgroup",
	"memory.oom",         "memory.mmap_exec",    "memory.page_fault",
	/* Added beside the design's table (issue 4): umount2. */
	"container.umount",
	/* Issue 11: the traces attackers' techniques leave. */
	"file.utimes",        "file.xattr",          "network.listen",    "network.stdio_socket",
	"security.process_vm", "process.rename",    "security.io_uring_setup", "security.io_uring",
	/* The agent's own (issue 12): the kernel dropped records. */
	"agent.drop",
};

static void test_contract_types_registered(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		const struct tp_event_type *t = tp_event_type_by_name(contract[i]);
		char cat[32];

		snprintf(cat, sizeof(cat), "%.*s", (int)strcspn(contract[i], "."), contract[i]);
		if (!t)
			fail_msg("type %s is not registered", contract[i]);
		assert_ptr_equal(tp_event_type_by_id(t->id), t);
		/* The category in the name is the category of the id. */
		assert_int_equal(tp_category_by_name(cat), TP_TYPE_CATEGORY(t->id));
	}
}

static const char *const header_names[] = {
	"type", "ts", "cpu", "pid", "tid", "ppid", "uid", "gid", "comm", "cgroup_id", "cgroup_v1_id",
};

static void test_fields_inside_records(void **state)
{
	const struct tp_event_type *t;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		assert_true(t->min_size >= sizeof(struct tp_hdr));
		assert_true(t->min_size <= t->size && t->size <= TP_RECORD_MAX);
		assert_int_equal(t->size % 8, 0);
		for (uint32_t f = 0; f < t->nfields; f++) {
			const struct tp_field *fd = &t->fields[f];

			if (fd->offset < sizeof(struct tp_hdr) || fd->offset + fd->size > t->size)
				fail_msg("%s.%s lies outside its record", t->name, fd->name);
			for (const char *c = fd->name; *c; c++)
				if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
					fail_msg("%s.%s is not a lower-case identifier", t->name, fd->name);
			/* JSON puts header and fields side by side: no shared names. */
			for (size_t h = 0; h < sizeof(header_names) / sizeof(header_names[0]); h++)
				if (!strcmp(fd->name, header_names[h]))
					fail_msg("%s.%s collides with a header field", t->name, fd->name);
			for (uint32_t g = 0; g < f; g++)
				if (!strcmp(t->fields[g].name, fd->name))
					fail_msg("%s has two fields named %s", t->name, fd->name);
			if (fd->kind == TP_FK_IPADDR || fd->kind == TP_FK_ARGV || fd->kind == TP_FK_ENV)
				assert_true(fd->aux + (fd->kind == TP_FK_IPADDR ? 2u : 4u) <= t->size);
			if (fd->kind != TP_FK_STR && fd->kind != TP_FK_ARGV && fd->kind != TP_FK_ENV &&
			    fd->kind != TP_FK_IPADDR &&
			    fd->size != 1 && fd->size != 2 && fd->size != 4 && fd->size != 8)
				fail_msg("%s.%s has a scalar size of %u", t->name, fd->name, fd->size);
		}
	}
}

/* Random bytes in every field of every type: decoding either rejects the
 * record or yields an event both formatters render into balanced JSON. */
static void test_random_records_of_every_type(void **state)
{
	static struct tp_event ev;
	const struct tp_event_type *t;
	struct tp_buf b;

	(void)state;
	srand(4);
	tp_buf_init(&b);
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		for (int round = 0; round < 200; round++) {
			uint8_t *rec = malloc(t->size);
			struct tp_hdr *h = (struct tp_hdr *)rec;
			int depth = 0;
			bool in_str = false;

			for (uint32_t k = 0; k < t->size; k++)
				rec[k] = (uint8_t)(round % 3 ? rand() : (rand() % 2 ? 0 : 'a'));
			h->type = t->id;
			h->size = t->size;
			if (tp_decode(rec, t->size, 0, &ev) == 0) {
				tp_buf_reset(&b);
				tp_format_json(&b, &ev, NULL);
				for (size_t k = 0; k < b.len; k++) {
					char c = tp_buf_cstr(&b)[k];

					if (in_str && c == '\\')
						k++;
					else if (c == '"')
						in_str = !in_str;
					else if (!in_str && (c == '{' || c == '['))
						depth++;
					else if (!in_str && (c == '}' || c == ']'))
						depth--;
				}
				assert_false(in_str);
				assert_int_equal(depth, 0);
				tp_buf_reset(&b);
				tp_format_text(&b, &ev, NULL, true);
			}
			free(rec);
		}
	}
	tp_buf_free(&b);
}

/* The decoder checks only the fields its per-type list names: the list is
 * every string, argv and env field, and every string field of every type
 * comes out terminated from a record with no NUL in it. */
static void test_decoder_checks_every_string(void **state)
{
	static struct tp_event ev;
	const struct tp_event_type *t;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		uint32_t n, k = 0;
		const uint8_t *idx = tp_event_type_checked_fields(t->id, &n);
		uint8_t *rec = malloc(t->size);
		struct tp_hdr *h = (struct tp_hdr *)rec;

		for (uint32_t j = 0; j < t->nfields; j++) {
			enum tp_field_kind kind = t->fields[j].kind;

			if (kind != TP_FK_STR && kind != TP_FK_ARGV && kind != TP_FK_ENV)
				continue;
			assert_true(k < n);
			assert_int_equal(idx[k++], j);
		}
		assert_int_equal(k, n);

		memset(rec, 'A', t->size);
		h->type = t->id;
		h->size = t->size;
		/* argv and env byte counts in range, so every type's record decodes */
		for (uint32_t j = 0; j < t->nfields; j++) {
			const struct tp_field *f = &t->fields[j];
			uint32_t zero = 0;

			if (f->kind == TP_FK_ARGV || f->kind == TP_FK_ENV)
				memcpy(rec + f->aux, &zero, 4);
		}
		assert_int_equal(tp_decode(rec, t->size, 0, &ev), 0);
		for (uint32_t j = 0; j < t->nfields; j++) {
			const struct tp_field *f = &t->fields[j];

			if (f->kind == TP_FK_STR)
				assert_non_null(memchr(ev.rec.bytes + f->offset, '\0', f->size));
		}
		free(rec);
	}
	{
		uint32_t n = 1;

		assert_null(tp_event_type_checked_fields(0xffffffffu, &n)); /* an unknown id */
		assert_int_equal(n, 0);
	}
}

/* container.unshare grew a syscall field when clone was reported: records
 * stored before (80 bytes) still decode, without it. */
static void test_unshare_records_before_syscall(void **state)
{
	static struct tp_event ev;
	struct tp_unshare_event rec;
	struct tp_buf b;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.hdr.type = TP_EV_CONTAINER_UNSHARE;
	rec.flags = 0x40000000;
	rec.syscall = TP_SYS_CLONE3;
	tp_buf_init(&b);

	rec.hdr.size = sizeof(rec);
	assert_int_equal(tp_decode(&rec, sizeof(rec), 0, &ev), 0);
	tp_format_json(&b, &ev, NULL);
	assert_non_null(strstr(tp_buf_cstr(&b), "\"syscall_str\":\"clone3\""));

	rec.hdr.size = 80;
	assert_int_equal(tp_decode(&rec, 80, 0, &ev), 0);
	tp_buf_reset(&b);
	tp_format_json(&b, &ev, NULL);
	assert_non_null(strstr(tp_buf_cstr(&b), "\"flags_str\":\"CLONE_NEWNET\""));
	assert_null(strstr(tp_buf_cstr(&b), "\"syscall"));
	assert_false(tp_field_present(&ev, tp_event_field(ev.type, "syscall")));

	rec.hdr.size = 79;
	assert_int_equal(tp_decode(&rec, 79, 0, &ev), -TP_DECODE_SHORT);
	tp_buf_free(&b);
}

/* Types that grew fields past their old end keep accepting the records
 * stored before (their old size is their min_size), and those records read
 * the new fields as absent. */
static void test_grown_types_accept_old_records(void **state)
{
	static const struct {
		const char *name;
		uint32_t old_size;
		const char *new_field;
	} grown[] = {
		{ "container.unshare", 80, "syscall" },
		{ "container.mount", 664, "move_flags" },
		{ "security.kill", 96, "fd" },
	};
	static struct tp_event ev;
	static uint8_t rec[TP_RECORD_MAX];
	struct tp_buf b;

	(void)state;
	tp_buf_init(&b);
	for (size_t i = 0; i < sizeof(grown) / sizeof(grown[0]); i++) {
		const struct tp_event_type *t = tp_event_type_by_name(grown[i].name);
		const struct tp_field *f = tp_event_field(t, grown[i].new_field);
		struct tp_hdr *h = (struct tp_hdr *)rec;
		char key[64];

		assert_non_null(f);
		assert_int_equal(t->min_size, grown[i].old_size);
		assert_true(f->offset >= grown[i].old_size);
		memset(rec, 0, sizeof(rec));
		h->type = t->id;
		h->size = grown[i].old_size;
		assert_int_equal(tp_decode(rec, grown[i].old_size, 0, &ev), 0);
		assert_false(tp_field_present(&ev, f));
		tp_buf_reset(&b);
		tp_format_json(&b, &ev, NULL);
		snprintf(key, sizeof(key), "\"%s\":", grown[i].new_field);
		assert_null(strstr(tp_buf_cstr(&b), key));
		h->size = t->size;
		assert_int_equal(tp_decode(rec, t->size, 0, &ev), 0);
		assert_true(tp_field_present(&ev, f));
		tp_buf_reset(&b);
		tp_format_json(&b, &ev, NULL);
		assert_non_null(strstr(tp_buf_cstr(&b), key));
	}
	tp_buf_free(&b);
}

/*
 * file.open records end with their path (bpf/file.bpf.c sends them up to
 * the 8-byte word that holds the path's NUL): a record cut inside the path
 * reads the path whole, proc_target_pid absent, in the C accessors and in
 * JSON. The records stored before (360 bytes, and 368 with proc_target_pid)
 * read as they did. A record cut before its path's NUL reads the path up to
 * its end; one that ends before the path's first word is too short.
 */
static void test_file_open_ends_with_its_path(void **state)
{
	static const char path[] = "/etc/shadow";
	static struct tp_event ev;
	static struct tp_file_open_event e;
	const struct tp_event_type *t = tp_event_type_by_name("file.open");
	const struct tp_field *fp = tp_event_field(t, "path");
	const struct tp_field *ft = tp_event_field(t, "proc_target_pid");
	/* The whole record first: its proc_target_pid is left in ev past the
	 * shorter records' ends. */
	const uint32_t sizes[] = {sizeof(struct tp_file_open_event),
				  offsetof(struct tp_file_open_event, path) + 16,
				  offsetof(struct tp_file_open_event, proc_target_pid)};
	struct tp_buf b;

	(void)state;
	tp_buf_init(&b);
	assert_int_equal(t->min_size, offsetof(struct tp_file_open_event, path) + 8);
	assert_true(t->ends_with_path); /* the ring reader cuts it at its header's size */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&e, 0xa5, sizeof(e)); /* what lies past the record must not be read */
		memset(&e.hdr, 0, sizeof(e.hdr));
		e.hdr.type = TP_EV_FILE_OPEN;
		e.hdr.size = sizes[i];
		e.path_flags = 0;
		memcpy(e.path, path, sizeof(path));
		memset(e.path + sizeof(path), 0, 16 - sizeof(path));
		e.proc_target_pid = 42;
		assert_int_equal(tp_decode(&e, sizes[i], 0, &ev), 0);
		assert_true(tp_field_present(&ev, fp));
		assert_string_equal(tp_field_str(&ev, fp), path);
		assert_int_equal(tp_field_present(&ev, ft), sizes[i] == sizeof(e));
		tp_buf_reset(&b);
		tp_format_json(&b, &ev, NULL);
		assert_non_null(strstr(tp_buf_cstr(&b), "\"path\":\"/etc/shadow\""));
		assert_int_equal(strstr(tp_buf_cstr(&b), "\"proc_target_pid\":42") != NULL,
				 sizes[i] == sizeof(e));
	}
	/* Cut before the NUL: the path up to the record's end, terminated. */
	e.hdr.size = offsetof(struct tp_file_open_event, path) + 8;
	assert_int_equal(tp_decode(&e, e.hdr.size, 0, &ev), 0);
	assert_string_equal(tp_field_str(&ev, fp), "/etc/sh");
	e.hdr.size = offsetof(struct tp_file_open_event, path) + 7;
	assert_int_equal(tp_decode(&e, e.hdr.size, 0, &ev), -TP_DECODE_SHORT);
	tp_buf_free(&b);
}

/*
 * file.unlink, file.chmod, file.mkdir, file.chown and file.utimes records
 * end with their path too (bpf/file.bpf.c, PATH_SEND; TP_PATH_RECORD_SIZE):
 * a record cut after the path's NUL reads every field, the path whole; one
 * cut before its NUL reads the path up to its end; one that ends before the
 * path's first word is too short. The whole record (as all were stored
 * before) reads as it did.
 */
static void test_path_records_end_with_their_path(void **state)
{
	static const char path[] = "/etc/cron.d/x";
	static const char *const names[] = {"file.unlink", "file.chmod", "file.mkdir", "file.chown",
					    "file.utimes"};
	static struct tp_event ev;
	static uint8_t rec[TP_RECORD_MAX];
	struct tp_hdr *h = (struct tp_hdr *)rec;
	struct tp_buf b;

	(void)state;
	tp_buf_init(&b);
	assert_int_equal(TP_PATH_RECORD_SIZE(struct tp_file_chown_event, sizeof(path) - 1),
			 offsetof(struct tp_file_chown_event, path) + 16);
	assert_int_equal(TP_PATH_RECORD_SIZE(struct tp_file_utimes_event, TP_PATH_MAX - 1),
			 sizeof(struct tp_file_utimes_event));
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		const struct tp_event_type *t = tp_event_type_by_name(names[n]);
		const struct tp_field *fp = tp_event_field(t, "path");
		const struct tp_field *fr = tp_event_field(t, "ret");
		const uint32_t off = fp->offset, sizes[] = {t->size, off + 16};
		int32_t ret = -13;

		assert_int_equal(t->min_size, off + 8);
		assert_true(t->ends_with_path);
		assert_int_equal(off + TP_PATH_MAX, t->size); /* the path is last */
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			memset(rec, 0xa5, sizeof(rec)); /* past the record: never read */
			memset(rec, 0, off);
			h->type = t->id;
			h->size = sizes[i];
			memcpy(rec + fr->offset, &ret, sizeof(ret));
			memcpy(rec + off, path, sizeof(path));
			memset(rec + off + sizeof(path), 0, 16 - sizeof(path));
			assert_int_equal(tp_decode(rec, sizes[i], 0, &ev), 0);
			assert_string_equal(tp_field_str(&ev, fp), path);
			assert_true(tp_field_present(&ev, fr));
			tp_buf_reset(&b);
			tp_format_json(&b, &ev, NULL);
			assert_non_null(strstr(tp_buf_cstr(&b), "\"path\":\"/etc/cron.d/x\""));
			assert_non_null(strstr(tp_buf_cstr(&b), "\"ret\":-13"));
		}
		h->size = off + 8;
		assert_int_equal(tp_decode(rec, h->size, 0, &ev), 0);
		assert_string_equal(tp_field_str(&ev, fp), "/etc/cr");
		h->size = off + 7;
		assert_int_equal(tp_decode(rec, h->size, 0, &ev), -TP_DECODE_SHORT);
	}
	/* The kernel sends every other type whole: none is cut by its header. */
	for (const char *const *w =
		 (const char *const[]){"file.rename", "file.link", "file.symlink", "file.xattr",
				       "process.exec", NULL};
	     *w; w++)
		assert_false(tp_event_type_by_name(*w)->ends_with_path);
	tp_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_contract_types_registered),
	    cmocka_unit_test(test_fields_inside_records),
	    cmocka_unit_test(test_random_records_of_every_type),
	    cmocka_unit_test(test_decoder_checks_every_string),
	    cmocka_unit_test(test_unshare_records_before_syscall),
	    cmocka_unit_test(test_grown_types_accept_old_records),
	    cmocka_unit_test(test_file_open_ends_with_its_path),
	    cmocka_unit_test(test_path_records_end_with_their_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
