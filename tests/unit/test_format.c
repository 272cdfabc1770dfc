/* Formatter: exact JSON for known events, escaping of hostile strings,
 * alerts, and text output with and without colour; every type's JSON line
 * and every symbolic name against plain references. */
#include <arpa/inet.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"

#include "events/decode.h"
#include "events/format.h"
#include "events/proc_ctx.h"

static struct tp_event ev;

static void make_exec(const char *comm, const char *filename, const char *argv, size_t argv_len)
{
	struct tp_exec_event e;

	tp_fx_exec_record(&e, comm, filename, argv, argv_len);
	e.hdr.ts_ns = 1;
	e.hdr.pid = 10;
	e.hdr.tid = 10;
	e.hdr.ppid = 1;
	e.hdr.uid = 0;
	e.hdr.gid = 0;
	e.hdr.cpu = 0;
	e.hdr.cgroup_id = 5;
	e.loginuid = 1000;
	assert_int_equal(tp_decode(&e, sizeof(e), 1795000000000000000LL - 1, &ev), 0);
}

static void test_json_exec_exact(void **state)
{
	struct tp_buf b;

	(void)state;
	make_exec("ls", "/bin/ls", "ls\0-la", 6);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	assert_string_equal(tp_buf_cstr(&b),
			    "{\"type\":\"process.exec\",\"ts\":1795000000000000000,\"cpu\":0,\"pid\":10,"
			    "\"tid\":10,\"ppid\":1,\"uid\":0,\"gid\":0,\"comm\":\"ls\",\"cgroup_id\":5,"
			    "\"filename\":\"/bin/ls\",\"argv\":[\"ls\",\"-la\"],\"ret\":0,"
			    "\"argv_truncated\":false,\"loginuid\":1000,\"env_truncated\":false,"
			    "\"sessionid\":0,\"sid\":0,\"stdin_socket\":false,\"stdout_socket\":false,"
			    "\"stderr_socket\":false}\n");
	tp_buf_free(&b);
}

static void test_json_escapes_hostile_strings(void **state)
{
	struct tp_buf b;
	const char *out;

	(void)state;
	/* quote, backslash, newline, ESC, invalid UTF-8, valid UTF-8 */
	make_exec("a\"b\\c\nd\x1b", "/tmp/\xff\xfe-\xc3\xa9", "x\"y\0\x01", 5);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "\"comm\":\"a\\\"b\\\\c\\nd\\u001b\""));
	assert_non_null(strstr(out, "\"filename\":\"/tmp/\\u00ff\\u00fe-\xc3\xa9\""));
	assert_non_null(strstr(out, "\"argv\":[\"x\\\"y\",\"\\u0001\"]"));
	/* One line, nothing raw below 0x20. */
	for (const char *p = out; *p; p++)
		assert_true((unsigned char)*p >= 0x20 || (*p == '\n' && p[1] == '\0'));
	tp_buf_free(&b);
}

static void test_json_alert(void **state)
{
	static const char *const tags[] = { "mitre:T1059", "container" };
	static const char *const extra_tags[] = { "suspicious" };
	struct tp_alert alert = {
		.rule = "shell_in_container",
		.severity = "warning",
		.importance = 0.9,
		.tags = tags,
		.ntags = 2,
		.output = "shell \"bash\" started",
	};
	struct tp_kv kv[] = {
		{ .key = "team", .value = { .kind = TP_V_STR, .str = { "payments", 8 } } },
		{ .key = "count", .value = { .kind = TP_V_INT, .i = -3 } },
	};
	struct tp_event_meta meta = {
		.importance = -1, .alert = &alert, .tags = extra_tags, .ntags = 1, .kv = kv, .nkv = 2,
	};
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("bash", "/bin/bash", "bash", 5);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, &meta);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, ",\"team\":\"payments\",\"count\":-3,"));
	assert_non_null(strstr(out, ",\"importance\":0.9,"));
	assert_non_null(strstr(out, ",\"rule\":\"shell_in_container\",\"severity\":\"warning\","
				    "\"output\":\"shell \\\"bash\\\" started\","
				    "\"tags\":[\"mitre:T1059\",\"container\",\"suspicious\"]}\n"));
	tp_buf_free(&b);
}

/* Numbers a rule or enrich function sets: "%.6g" of each, null when not
 * finite, the same bytes when a value comes again or another shares its
 * slot in the formatter's per-thread cache of recent values. */
static void check_num(double d, const char *want)
{
	struct tp_kv kv[] = { { .key = "n", .value = { .kind = TP_V_NUM, .d = d } } };
	struct tp_event_meta meta = { .importance = -1, .kv = kv, .nkv = 1 };
	struct tp_buf b;
	char expect[64];
	const char *out;

	tp_buf_init(&b);
	tp_format_json(&b, &ev, &meta);
	out = tp_buf_cstr(&b);
	snprintf(expect, sizeof(expect), ",\"n\":%s}\n", want);
	assert_true(strlen(out) >= strlen(expect));
	assert_string_equal(out + strlen(out) - strlen(expect), expect);
	tp_buf_free(&b);
}

static void test_json_numbers(void **state)
{
	static const double vals[] = { 0, -0.0, 1, -1, 0.5, 0.25, 0.9, 0.1 + 0.2, 1.0 / 3,
				       -2.5e-7, 123456, 1234567, -1234567.5, 1e300, -1e-300,
				       4.9e-324, 1.7976931348623157e308 };
	char want[64];
	double x = 0.001;

	(void)state;
	make_exec("ls", "/bin/ls", "ls", 3);
	for (int round = 0; round < 2; round++) /* the second from the cache */
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			snprintf(want, sizeof(want), "%.6g", vals[i]);
			check_num(vals[i], want);
		}
	/* Many values through few slots: each replaces another, none is mistaken. */
	for (int i = 0; i < 2000; i++, x = x * 1.37 + 0.11) {
		double d = (i & 1) ? -x : x;

		snprintf(want, sizeof(want), "%.6g", d);
		check_num(d, want);
		snprintf(want, sizeof(want), "%.6g", vals[i % 17]);
		check_num(vals[i % 17], want);
	}
	check_num(NAN, "null");
	check_num(-NAN, "null");
	check_num(INFINITY, "null");
	check_num(-INFINITY, "null");
}

/* The header's numbers, as printf writes them: times below and above the
 * 10^8 the formatter keeps the digits over (the same time twice, from its
 * cache), and a tid equal to the pid, a gid equal to the uid, of every
 * length (written once and copied). */
static void test_json_header_numbers(void **state)
{
	static const uint64_t ts[] = { 0, 9, 99999999, 100000000, 100000001, 199999999,
				       1795000000123456789ull, 1795000000199999999ull,
				       1795000000200000000ull, UINT64_MAX };
	static const uint32_t ids[] = { 0, 7, 10, 99999999, 100000000, 123456789, 4294967295u };
	struct tp_exec_event e;
	struct tp_buf b;
	char want[256];

	(void)state;
	tp_buf_init(&b);
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		for (size_t j = 0; j < sizeof(ids) / sizeof(ids[0]); j++) {
			uint32_t other = ids[(j + 3) % (sizeof(ids) / sizeof(ids[0]))];

			tp_fx_exec_record(&e, "cat", "/bin/cat", "cat\0", 4);
			e.hdr.ts_ns = 0;
			e.hdr.cpu = 1;
			e.hdr.pid = e.hdr.tid = ids[j];
			e.hdr.ppid = other;
			e.hdr.uid = e.hdr.gid = ids[j];
			if (i % 2) {
				e.hdr.tid = other;
				e.hdr.gid = other;
			}
			assert_int_equal(tp_decode(&e, sizeof(e), (int64_t)ts[i], &ev), 0);
			snprintf(want, sizeof(want),
				 "{\"type\":\"process.exec\",\"ts\":%llu,\"cpu\":1,\"pid\":%u,\"tid\":%u,"
				 "\"ppid\":%u,\"uid\":%u,\"gid\":%u,\"comm\":\"cat\",",
				 (unsigned long long)ts[i], e.hdr.pid, e.hdr.tid, e.hdr.ppid, e.hdr.uid,
				 e.hdr.gid);
			for (int twice = 0; twice < 2; twice++) {
				tp_buf_reset(&b);
				tp_format_json(&b, &ev, NULL);
				assert_true(b.len > strlen(want));
				assert_memory_equal(b.data, want, strlen(want));
			}
		}
	}
	tp_buf_free(&b);
}

/* An IPv4 address's text is inet_ntop's: every byte value at every
 * position, and a buffer too small for it (inet_ntop's answer then too). */
static void test_ipv4_text_is_inet_ntop(void **state)
{
	const struct tp_event_type *t = tp_event_type_by_name("network.connect");
	const struct tp_field *f = tp_event_field(t, "daddr");
	struct tp_net_conn_event c;
	char got[64], want[64];

	(void)state;
	assert_non_null(f);
	for (unsigned pos = 0; pos < 4; pos++) {
		for (unsigned v = 0; v < 256; v++) {
			memset(&c, 0, sizeof(c));
			c.hdr.type = TP_EV_NETWORK_CONNECT;
			c.hdr.size = sizeof(c);
			c.family = AF_INET;
			memcpy(c.daddr, "\x0a\x00\xc8\x09", 4);
			c.daddr[pos] = (uint8_t)v;
			assert_int_equal(tp_decode(&c, sizeof(c), 1, &ev), 0);
			assert_int_equal(tp_field_ipaddr(&ev, f, got, sizeof(got)), AF_INET);
			assert_non_null(inet_ntop(AF_INET, c.daddr, want, sizeof(want)));
			assert_string_equal(got, want);
			memset(got, 'x', sizeof(got));
			tp_field_ipaddr(&ev, f, got, 8);
			if (!inet_ntop(AF_INET, c.daddr, want, 8))
				want[0] = '\0';
			assert_string_equal(got, want);
		}
	}
}

static void test_json_exit_signal_name(void **state)
{
	struct tp_exit_event x;
	struct tp_buf b;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.hdr.type = TP_EV_PROCESS_EXIT;
	x.hdr.size = sizeof(x);
	x.signal = 15;
	x.exit_code = 0;
	assert_int_equal(tp_decode(&x, sizeof(x), 0, &ev), 0);
	tp_buf_init(&b);
	tp_format_json(&b, &ev, NULL);
	assert_non_null(strstr(tp_buf_cstr(&b), "\"signal\":15,\"signal_str\":\"SIGTERM\""));
	tp_buf_free(&b);
}

static void test_text_plain_and_color(void **state)
{
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("evil\x1b[31m", "/bin/sh", "sh\0-c\0echo hi", 13);
	tp_buf_init(&b);
	tp_format_text(&b, &ev, NULL, false);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "process.exec"));
	assert_non_null(strstr(out, " pid=10 ppid=1 uid=0 comm=evil\\x1b[31m"));
	assert_non_null(strstr(out, " filename=/bin/sh argv=[sh -c \"echo hi\"]"));
	assert_null(strchr(out, '\x1b')); /* a hostile comm cannot inject escapes */
	assert_int_equal(out[strlen(out) - 1], '\n');

	tp_buf_reset(&b);
	tp_format_text(&b, &ev, NULL, true);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "\033[32mprocess.exec"));
	tp_buf_free(&b);
}

static void test_text_alert(void **state)
{
	struct tp_alert alert = {
		.rule = "r1", .severity = "critical", .importance = 1, .output = "bad\nthing",
	};
	struct tp_event_meta meta = { .importance = -1, .alert = &alert };
	struct tp_buf b;
	const char *out;

	(void)state;
	make_exec("x", "/x", "x", 2);
	tp_buf_init(&b);
	tp_format_text(&b, &ev, &meta, false);
	out = tp_buf_cstr(&b);
	assert_non_null(strstr(out, "ALERT critical r1: bad\\nthing | process.exec"));
	tp_buf_free(&b);
}

static void test_format_parse(void **state)
{
	enum tp_output_format f;

	(void)state;
	assert_int_equal(tp_format_parse("json", &f), 0);
	assert_int_equal(f, TP_FMT_JSON);
	assert_int_equal(tp_format_parse("text", &f), 0);
	assert_int_equal(f, TP_FMT_TEXT);
	assert_int_equal(tp_format_parse("none", &f), 0);
	assert_int_equal(f, TP_FMT_NONE);
	assert_int_not_equal(tp_format_parse("xml", &f), 0);
}

/* ---- The formatter against a plain reference, every type -------------- */

/* Symbolic names as the formatter wrote them before its cache: snprintf of
 * each name into buf (cut at len), false when none or cut (flags). */
static bool ref_sym(const struct tp_field *f, uint64_t v, char *buf, size_t len)
{
	size_t used = 0;
	uint64_t rest = v;

	if (!f->syms || len == 0)
		return false;
	buf[0] = '\0';
	if (!f->flags) {
		for (const struct tp_sym *s = f->syms; s->name; s++)
			if (s->value == v)
				return snprintf(buf, len, "%s", s->name), true;
		return false;
	}
	for (const struct tp_sym *s = f->syms; s->name; s++) {
		if (s->value == 0 || (rest & s->value) != s->value)
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "|" : "", s->name);
		rest &= ~s->value;
	}
	if (rest)
		used += snprintf(buf + used, used < len ? len - used : 0, "%s0x%llx", used ? "|" : "",
				 (unsigned long long)rest);
	if (!used) {
		for (const struct tp_sym *s = f->syms; s->name; s++)
			if (s->value == 0)
				return snprintf(buf, len, "%s", s->name), true;
		return false;
	}
	return used < len;
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
	return *x;
}

/* Each symbolic field of each type, for its names, OR-ed names, other bits
 * and 0, cut at several lengths, each asked twice (the second from the
 * per-thread cache) and in an order that sends a length after another. */
static void test_sym_names_against_reference(void **state)
{
	static const size_t lens[] = { 1024, 1, 2, 3, 5, 8, 12, 20, 40, 1024, 4 };
	const struct tp_event_type *t;
	uint64_t x = 0x853c49e6748fea9bull;
	size_t checked = 0;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		for (uint32_t j = 0; j < t->nfields; j++) {
			const struct tp_field *f = &t->fields[j];
			uint64_t vals[64];
			size_t nv = 0, nsyms = 0;

			if (!f->syms)
				continue;
			while (f->syms[nsyms].name)
				nsyms++;
			vals[nv++] = 0;
			vals[nv++] = UINT64_MAX;
			for (size_t k = 0; k < nsyms && nv < 40; k++)
				vals[nv++] = f->syms[k].value;
			while (nv < 64) {
				uint64_t a = f->syms[rnd(&x) % nsyms].value, b = f->syms[rnd(&x) % nsyms].value;

				vals[nv++] = (rnd(&x) & 3) ? (a | b) : (a | (rnd(&x) & 0xffff));
			}
			for (size_t r = 0; r < 2; r++)
				for (size_t k = 0; k < nv; k++)
					for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
						size_t len = lens[(l + k + r) % (sizeof(lens) / sizeof(lens[0]))];
						char got[1024], want[1024];
						bool w = ref_sym(f, vals[k], want, len);
						ssize_t n = tp_field_sym_len(f, vals[k], got, len);

						assert_int_equal(n >= 0, w);
						assert_int_equal(tp_field_sym(f, vals[k], got, len), w);
						if (w) {
							assert_string_equal(got, want);
							assert_int_equal((size_t)n, strlen(want));
						}
						checked++;
					}
		}
	}
	assert_true(checked > 1000);
}

static void ref_key(struct tp_buf *b, const char *name, const char *suffix)
{
	tp_buf_printf(b, ",\"%s%s\":", name, suffix);
}

static void ref_proc_ref(struct tp_buf *b, const struct tp_proc_ref *r)
{
	tp_buf_printf(b, "{\"pid\":%u", r->pid);
	if (r->comm) {
		tp_buf_puts(b, ",\"comm\":");
		tp_buf_json_str(b, r->comm, strlen(r->comm));
	}
	if (r->exe) {
		tp_buf_puts(b, ",\"exe\":");
		tp_buf_json_str(b, r->exe, strlen(r->exe));
	}
	tp_buf_putc(b, '}');
}

static void ref_argv(struct tp_buf *b, const char *av, uint32_t len)
{
	size_t n;
	bool first = true;

	tp_buf_putc(b, '[');
	for (const char *p = tp_argv_next(av, len, NULL, &n); p; p = tp_argv_next(av, len, p, &n)) {
		if (!first)
			tp_buf_putc(b, ',');
		tp_buf_json_str(b, p, n);
		first = false;
	}
	tp_buf_putc(b, ']');
}

/* One line by the field API, printf for numbers and keys, ref_sym. */
static void ref_json(struct tp_buf *b, const struct tp_event *e, const struct tp_event_meta *meta)
{
	const struct tp_hdr *h = &e->rec.hdr;
	const struct tp_event_type *t = e->type;
	char tmp[1024];

	tp_buf_printf(b, "{\"type\":\"%s\",\"ts\":%llu,\"cpu\":%u,\"pid\":%u,\"tid\":%u,\"ppid\":%u,"
			 "\"uid\":%u,\"gid\":%u,\"comm\":",
		      t->name, (unsigned long long)e->ts_wall_ns, h->cpu, h->pid, h->tid, h->ppid,
		      h->uid, h->gid);
	tp_buf_json_str(b, h->comm, strnlen(h->comm, sizeof(h->comm)));
	tp_buf_printf(b, ",\"cgroup_id\":%llu", (unsigned long long)h->cgroup_id);
	if (h->cgroup_v1_id)
		tp_buf_printf(b, ",\"cgroup_v1_id\":%llu", (unsigned long long)h->cgroup_v1_id);
	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint64_t u = 0;
		int64_t sv = 0;
		uint32_t len;

		if (!tp_field_present(e, f))
			continue;
		ref_key(b, f->name, "");
		switch (f->kind) {
		case TP_FK_STR: {
			const char *str = tp_field_str(e, f);

			tp_buf_json_str(b, str, strlen(str));
			continue;
		}
		case TP_FK_ARGV: {
			const char *av = tp_field_argv(e, f, &len);

			ref_argv(b, av, len);
			continue;
		}
		case TP_FK_ENV: {
			const char *av = tp_field_argv(e, f, &len);
			struct tp_env_entry en;
			bool first = true;

			tp_buf_putc(b, '{');
			for (bool ok = tp_env_next(av, len, NULL, &en); ok;
			     ok = tp_env_next(av, len, &en, &en), first = false) {
				if (!first)
					tp_buf_putc(b, ',');
				tp_buf_json_str(b, en.name, en.name_len);
				tp_buf_putc(b, ':');
				tp_buf_json_str(b, en.value, en.value_len);
			}
			tp_buf_putc(b, '}');
			continue;
		}
		case TP_FK_IPADDR:
			if (tp_field_ipaddr(e, f, tmp, sizeof(tmp)))
				tp_buf_json_str(b, tmp, strlen(tmp));
			else
				tp_buf_puts(b, "null");
			continue;
		case TP_FK_BOOL:
			assert_true(tp_field_u64(e, f, &u));
			tp_buf_puts(b, u ? "true" : "false");
			continue;
		case TP_FK_S32:
		case TP_FK_S64:
			assert_true(tp_field_i64(e, f, &sv));
			tp_buf_printf(b, "%lld", (long long)sv);
			u = (uint64_t)sv;
			break;
		default:
			assert_true(tp_field_u64(e, f, &u));
			tp_buf_printf(b, "%llu", (unsigned long long)u);
			break;
		}
		if (f->syms && ref_sym(f, u, tmp, sizeof(tmp))) {
			ref_key(b, f->name, "_str");
			tp_buf_json_str(b, tmp, strlen(tmp));
		}
	}
	if (meta && meta->proc) {
		const struct tp_proc_ctx *pc = meta->proc;

		if (pc->exe) {
			tp_buf_puts(b, ",\"exe\":");
			tp_buf_json_str(b, pc->exe, strlen(pc->exe));
		}
		if (pc->argv && !tp_event_field(t, "argv")) {
			tp_buf_puts(b, ",\"argv\":");
			ref_argv(b, pc->argv, pc->argv_len);
			if (pc->argv_truncated)
				tp_buf_puts(b, ",\"argv_truncated\":true");
		}
		if (pc->parent) {
			tp_buf_puts(b, ",\"parent\":");
			ref_proc_ref(b, pc->parent);
		}
		if (pc->nancestors && TP_TYPE_CATEGORY(t->id) == TP_CAT_PROCESS) {
			tp_buf_puts(b, ",\"ancestors\":[");
			for (size_t i = 0; i < pc->nancestors; i++) {
				if (i)
					tp_buf_putc(b, ',');
				ref_proc_ref(b, &pc->ancestors[i]);
			}
			tp_buf_putc(b, ']');
		}
		if (pc->container) {
			tp_buf_puts(b, ",\"container\":{\"id\":");
			tp_buf_json_str(b, pc->container->id, strlen(pc->container->id));
			tp_buf_puts(b, ",\"runtime\":");
			tp_buf_json_str(b, pc->container->runtime, strlen(pc->container->runtime));
			tp_buf_putc(b, '}');
		}
	}
	if (meta && meta->importance >= 0)
		tp_buf_printf(b, ",\"importance\":%.6g", meta->importance);
	tp_buf_puts(b, "}\n");
}

/* Every registered type from random bytes (counts of argv and env fields
 * within their fields, lengths from the smallest record to the largest),
 * with and without a process context: the formatter's line is the
 * reference's, byte for byte, each written twice. */
static void test_json_every_type_against_reference(void **state)
{
	static uint8_t rec[TP_RECORD_MAX];
	static const char argv[] = "/opt/app/bin/app-worker\0--config\0/etc/app/w\xc3\xa9rker.toml\0"
				   "--name\0\"quoted\"\0";
	struct tp_proc_ref parent = { .pid = 7808, .comm = "python3", .exe = "/usr/bin/python3.11" };
	struct tp_proc_ref anc[2] = { { .pid = 7000, .comm = "bash" }, { .pid = 1, .exe = "/sbin/init" } };
	struct tp_container_ctx ct = { .id = "3f0a9c", .runtime = "containerd" };
	struct tp_proc_ctx pc = { .exe = "/opt/app/bin/app-worker", .argv = argv,
				  .argv_len = sizeof(argv) - 1, .argv_truncated = true,
				  .parent = &parent, .ancestors = anc, .nancestors = 2, .container = &ct };
	const struct tp_event_type *t;
	uint64_t x = 0xda942042e4dd58b5ull;
	size_t lines = 0;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++) {
		size_t decoded = 0;

		for (int round = 0; round < 400; round++) {
			uint32_t len = t->min_size + (uint32_t)(round % 4 ? rnd(&x) % (t->size - t->min_size + 1)
								      : t->size - t->min_size);
			struct tp_hdr *h = (struct tp_hdr *)rec;
			struct tp_event_meta meta = { .importance = (round % 3) ? -1 : 0.25 * (round % 5),
						      .proc = (round & 1) ? &pc : NULL };
			struct tp_buf got, want;

			for (uint32_t k = 0; k < len; k += 8) {
				uint64_t r = rnd(&x);

				/* Small numbers, names' values and text more often than noise. */
				if (r % 4 == 0)
					r &= 0x0f0f;
				else if (r % 4 == 1)
					r = 0x2f7273752f6e6962ull; /* "bin/usr/" */
				memcpy(rec + k, &r, len - k < 8 ? len - k : 8);
			}
			h->type = (uint16_t)t->id;
			h->size = (uint16_t)len;
			for (uint32_t j = 0; j < t->nfields; j++) {
				const struct tp_field *f = &t->fields[j];

				if ((f->kind == TP_FK_ARGV || f->kind == TP_FK_ENV) && f->aux + 4u <= len) {
					uint32_t n = (uint32_t)(rnd(&x) % (f->size + 1u));

					memcpy(rec + f->aux, &n, 4);
				}
				if (f->syms && f->offset + f->size <= len && (round & 2) && f->size <= 8) {
					size_t ns = 0;

					while (f->syms[ns].name)
						ns++;
					uint64_t v = f->syms[rnd(&x) % ns].value | f->syms[rnd(&x) % ns].value;

					memcpy(rec + f->offset, &v, f->size);
				}
			}
			if (tp_decode(rec, len, (int64_t)(rnd(&x) >> 2), &ev) != 0)
				continue;
			decoded++;
			tp_buf_init(&got);
			tp_buf_init(&want);
			/* Each line twice: the second from the formatter's caches
			 * (symbolic fields by field and value). */
			tp_format_json(&got, &ev, &meta);
			ref_json(&want, &ev, &meta);
			ref_json(&want, &ev, &meta);
			tp_format_json(&got, &ev, &meta);
			if (got.len != want.len || memcmp(got.data, want.data, got.len)) {
				size_t at = 0;

				while (at < got.len && at < want.len && got.data[at] == want.data[at])
					at++;
				at = at > 40 ? at - 40 : 0;
				fail_msg("%s (%u bytes), from byte %zu:\n got %.100s\nwant %.100s", t->name,
					 len, at, tp_buf_cstr(&got) + at, tp_buf_cstr(&want) + at);
			}
			tp_buf_free(&got);
			tp_buf_free(&want);
			lines++;
		}
		if (!decoded)
			fail_msg("%s: no random record decoded: the test cannot compare it", t->name);
	}
	assert_true(lines > 1000);
}

/* The header's bytes from the pid to the cgroup ids are kept per thread:
 * events that differ from the one before in one of its fields (or in the
 * comm's bytes after its end) each get their own, as the reference. */
static void test_json_header_kept_per_process(void **state)
{
	struct tp_exec_event e;
	struct tp_buf got, want;

	(void)state;
	tp_buf_init(&got);
	tp_buf_init(&want);
	for (int round = 0; round < 2 * 10; round++) {
		tp_fx_exec_record(&e, "cat", "/bin/cat", "cat\0", 4);
		e.hdr.pid = e.hdr.tid = 4242;
		e.hdr.ppid = 7;
		e.hdr.uid = e.hdr.gid = 1000;
		e.hdr.cgroup_id = 1234567890123ull;
		e.hdr.cgroup_v1_id = 99;
		switch (round % 2 ? round / 2 : -1) { /* every other line the plain one */
		case 0:
			e.hdr.pid = 4243;
			break;
		case 1:
			e.hdr.tid = 4244;
			break;
		case 2:
			e.hdr.ppid = 8;
			break;
		case 3:
			e.hdr.uid = 0;
			break;
		case 4:
			e.hdr.gid = 1;
			break;
		case 5:
			e.hdr.comm[1] = 'u';
			break;
		case 6:
			memcpy(e.hdr.comm, "cat\0xyz", 8);
			break; /* the same name */
		case 7:
			e.hdr.cgroup_id = 1;
			break;
		case 8:
			e.hdr.cgroup_v1_id = 0;
			break;
		case 9:
			memcpy(e.hdr.comm, "a\"b\\c\x01", 7);
			break;
		default:
			break;
		}
		assert_int_equal(tp_decode(&e, sizeof(e), 1795000000123456789ll, &ev), 0);
		tp_buf_reset(&got);
		tp_buf_reset(&want);
		tp_format_json(&got, &ev, NULL);
		ref_json(&want, &ev, NULL);
		if (got.len != want.len || memcmp(got.data, want.data, got.len))
			fail_msg("round %d:\n got %.200s\nwant %.200s", round, tp_buf_cstr(&got),
				 tp_buf_cstr(&want));
	}
	tp_buf_free(&got);
	tp_buf_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_exec_exact),
	    cmocka_unit_test(test_json_escapes_hostile_strings),
	    cmocka_unit_test(test_json_alert),
	    cmocka_unit_test(test_json_numbers),
	    cmocka_unit_test(test_json_exit_signal_name),
	    cmocka_unit_test(test_ipv4_text_is_inet_ntop),
	    cmocka_unit_test(test_json_header_numbers),
	    cmocka_unit_test(test_text_plain_and_color),
	    cmocka_unit_test(test_text_alert),
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_sym_names_against_reference),
	    cmocka_unit_test(test_json_every_type_against_reference),
	    cmocka_unit_test(test_json_header_kept_per_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
