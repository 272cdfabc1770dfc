/* The rules' state store (lua/state.h) without Lua: sliding windows,
 * distinct values, sequences, maps with a time to live, eviction under key
 * and memory bounds, exited processes, sweeps, and what a reload keeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lua/state.h"

#define MS  1000000ull
#define SEC 1000000000ull
/* Event times are wall-clock ns: start far from 0 like real ones. */
#define T0 (1700000000ull * SEC)

static struct tp_state_key skey(const char *s)
{
	struct tp_state_key k;

	tp_state_key_str(&k, s, strlen(s));
	return k;
}

static struct tp_state_key ikey(int64_t i)
{
	struct tp_state_key k;

	tp_state_key_int(&k, i);
	return k;
}

static struct tp_state_key pkey(uint32_t pid)
{
	struct tp_state_key k;

	tp_state_key_proc(&k, pid);
	return k;
}

static struct tp_state_store *store(uint64_t max, uint64_t group_max)
{
	struct tp_state_limits lim = {.max_bytes = max, .group_max_bytes = group_max};
	struct tp_state_store *st;

	assert_int_equal(tp_state_store_new(&st, &lim), 0);
	return st;
}

static struct tp_state_obj *obj(struct tp_state_group *g, const char *name,
				enum tp_state_kind kind, uint64_t window, uint32_t max_keys)
{
	struct tp_state_spec spec = {.kind = kind, .window_ns = window, .max_keys = max_keys};
	char err[128];
	struct tp_state_obj *o;

	if (kind == TP_STATE_SEQUENCE) {
		spec.nsteps = 3;
		spec.steps[0] = "written";
		spec.steps[1] = "chmod";
		spec.steps[2] = "exec";
	}
	o = tp_state_obj_new(g, name, &spec, err, sizeof(err));
	if (!o)
		fail_msg("%s", err);
	return o;
}

static void test_counter_window(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *c = obj(g, "runs", TP_STATE_COUNTER, 10 * SEC, 0);
	struct tp_state_key a = skey("a"), b = skey("b");
	uint64_t gran = 10 * SEC / TP_STATE_BUCKETS;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(tp_state_counter_add(c, &a, T0 + i * SEC, 1), i + 1);
	assert_int_equal(tp_state_counter_add(c, &b, T0 + 4 * SEC, 1), 1); /* keys apart */
	assert_int_equal(tp_state_counter_get(c, &a, T0 + 4 * SEC), 5);
	/* At 10.5 s the event of 0 s has left; those of 1..4 s count. */
	assert_int_equal(tp_state_counter_add(c, &a, T0 + 10 * SEC + 500 * MS, 1), 5);
	/* Never counted for a whole window, always for window - window/32. */
	assert_int_equal(tp_state_counter_add(c, &b, T0 + 100 * SEC, 1), 1);
	assert_int_equal(tp_state_counter_get(c, &b, T0 + 100 * SEC + 10 * SEC - gran - 1), 1);
	assert_int_equal(tp_state_counter_get(c, &b, T0 + 100 * SEC + 10 * SEC), 0);
	/* n at once, and a late event that still falls in the window. */
	assert_int_equal(tp_state_counter_add(c, &b, T0 + 200 * SEC, 7), 7);
	assert_int_equal(tp_state_counter_add(c, &b, T0 + 195 * SEC, 1), 8);
	/* Too late for the window: not counted, the count is returned. */
	assert_int_equal(tp_state_counter_add(c, &b, T0 + 150 * SEC, 1), 8);
	/* Integer and string keys of the same text are different keys. */
	{
		struct tp_state_key one = ikey(1), sone = skey("1");

		assert_int_equal(tp_state_counter_add(c, &one, T0, 1), 1);
		assert_int_equal(tp_state_counter_add(c, &sone, T0, 1), 1);
	}
	tp_state_store_free(st);
}

static void test_distinct_window(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *d = obj(g, "files", TP_STATE_DISTINCT, 60 * SEC, 0);
	struct tp_state_key k = pkey(42);
	const char *vals[] = {"/etc/shadow", "/etc/passwd", "/etc/shadow", "/root/.ssh/id_rsa"};
	const uint64_t want[] = {1, 2, 2, 3};
	const bool want_new[] = {true, true, false, true};
	uint64_t n;

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct tp_state_key v = skey(vals[i]);
		uint64_t h = tp_state_hash_value(st, &v);

		assert_int_equal(tp_state_distinct_add(d, &k, h, T0 + i * SEC, &n), want_new[i]);
		assert_int_equal(n, want[i]);
	}
	/* /etc/passwd (1 s) leaves at 61 s; /etc/shadow was seen again at 2 s. */
	assert_int_equal(tp_state_distinct_get(d, &k, T0 + 61 * SEC), 2);
	assert_int_equal(tp_state_distinct_get(d, &k, T0 + 62 * SEC), 1);
	assert_int_equal(tp_state_distinct_get(d, &k, T0 + 63 * SEC), 0);

	/* Many values: the table grows, counts stay exact, removals keep the
	 * probe chains whole (every value found again). */
	for (int i = 0; i < 900; i++) {
		struct tp_state_key v = ikey(i * 7919);

		assert_true(tp_state_distinct_add(d, &k, tp_state_hash_value(st, &v),
						   T0 + 100 * SEC + i * MS, &n));
		assert_int_equal(n, i + 1);
	}
	/* The first 300 leave the window; the rest are found as seen. */
	assert_int_equal(tp_state_distinct_get(d, &k, T0 + 160 * SEC + 300 * MS - 1), 600);
	assert_int_equal(tp_state_distinct_get(d, &k, T0 + 160 * SEC + 300 * MS), 599);
	for (int i = 301; i < 900; i++) {
		struct tp_state_key v = ikey(i * 7919);

		assert_false(tp_state_distinct_add(d, &k, tp_state_hash_value(st, &v),
						    T0 + 160 * SEC + 300 * MS, &n));
	}
	assert_int_equal(n, 599);
	tp_state_store_free(st);
}

static void test_distinct_max_values(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_spec spec = {
	    .kind = TP_STATE_DISTINCT, .window_ns = 3600 * SEC, .max_values = 100};
	char err[128];
	struct tp_state_obj *d = tp_state_obj_new(g, "v", &spec, err, sizeof(err));
	struct tp_state_key k = skey("k");
	uint64_t n = 0;

	(void)state;
	assert_non_null(d);
	for (int i = 0; i < 250; i++) {
		struct tp_state_key v = ikey(i);

		tp_state_distinct_add(d, &k, tp_state_hash_value(st, &v), T0 + i, &n);
		assert_true(n <= 100);
	}
	assert_int_equal(n, 100);
	/* The oldest went: 149 is kept, 149 - 100 is not. */
	{
		struct tp_state_key v = ikey(249);

		assert_false(tp_state_distinct_add(d, &k, tp_state_hash_value(st, &v), T0 + 300, &n));
		v = ikey(10);
		assert_true(tp_state_distinct_add(d, &k, tp_state_hash_value(st, &v), T0 + 301, &n));
	}
	tp_state_store_free(st);
}

static void test_sequence(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *q = obj(g, "drop", TP_STATE_SEQUENCE, 60 * SEC, 0);
	struct tp_state_key f = skey("/tmp/x"), other = skey("/tmp/y");

	(void)state;
	assert_int_equal(tp_state_obj_step(q, "chmod", 5), 2);
	assert_int_equal(tp_state_obj_step(q, "nope", 4), 0);
	/* In order, in time, same key. */
	assert_false(tp_state_seq_step(q, &f, 1, T0));
	assert_false(tp_state_seq_step(q, &f, 2, T0 + 10 * SEC));
	assert_int_equal(tp_state_seq_progress(q, &f, T0 + 10 * SEC), 2);
	assert_false(tp_state_seq_step(q, &other, 3, T0 + 11 * SEC)); /* another key */
	assert_true(tp_state_seq_step(q, &f, 3, T0 + 20 * SEC));
	assert_int_equal(tp_state_seq_progress(q, &f, T0 + 20 * SEC), 0); /* starts over */
	assert_false(tp_state_seq_step(q, &f, 3, T0 + 21 * SEC));

	/* Out of order: a step without its predecessor does nothing. */
	assert_false(tp_state_seq_step(q, &f, 2, T0 + 30 * SEC));
	assert_false(tp_state_seq_step(q, &f, 1, T0 + 31 * SEC));
	assert_false(tp_state_seq_step(q, &f, 3, T0 + 32 * SEC));
	assert_int_equal(tp_state_seq_progress(q, &f, T0 + 32 * SEC), 1);

	/* Too slow: the time counts from step 1. */
	assert_false(tp_state_seq_step(q, &f, 2, T0 + 31 * SEC + 61 * SEC));
	assert_false(tp_state_seq_step(q, &f, 3, T0 + 31 * SEC + 62 * SEC));

	/* Step 1 again restarts the time while at step 1, not later. */
	assert_false(tp_state_seq_step(q, &f, 1, T0 + 200 * SEC));
	assert_false(tp_state_seq_step(q, &f, 1, T0 + 250 * SEC));
	assert_false(tp_state_seq_step(q, &f, 2, T0 + 300 * SEC));
	assert_false(tp_state_seq_step(q, &f, 1, T0 + 301 * SEC)); /* a second write */
	assert_false(tp_state_seq_step(q, &f, 2, T0 + 302 * SEC)); /* chmod again */
	assert_true(tp_state_seq_step(q, &f, 3, T0 + 305 * SEC));
	tp_state_store_free(st);
}

static void test_map_ttl(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *m = obj(g, "seen", TP_STATE_MAP, 600 * SEC, 0);
	struct tp_state_key k = ikey(7);
	struct tp_state_value v = {.type = TP_VAL_STR, .str = {"curl", 4}}, out;
	struct tp_state_stats ss;

	(void)state;
	assert_true(tp_state_map_set(m, &k, &v, T0));
	assert_true(tp_state_map_get(m, &k, T0 + 599 * SEC, &out));
	assert_int_equal(out.type, TP_VAL_STR);
	assert_int_equal(out.str.len, 4);
	assert_memory_equal(out.str.s, "curl", 4);
	/* Set again: a number now, and the time to live starts over. */
	v.type = TP_VAL_INT;
	v.i = -5;
	assert_true(tp_state_map_set(m, &k, &v, T0 + 500 * SEC));
	assert_true(tp_state_map_get(m, &k, T0 + 1000 * SEC, &out));
	assert_int_equal(out.type, TP_VAL_INT);
	assert_int_equal(out.i, -5);
	assert_false(tp_state_map_get(m, &k, T0 + 1100 * SEC, &out));
	tp_state_group_stats(g, &ss);
	assert_int_equal(ss.keys, 0);
	assert_int_equal(ss.bytes, 0);
	assert_int_equal(ss.expired, 1);
	tp_state_del(m, &k);
	tp_state_store_free(st);
}

static void test_max_keys_evicts_least_recent(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *c = obj(g, "c", TP_STATE_COUNTER, 60 * SEC, 3);
	struct tp_state_key k1 = ikey(1), k2 = ikey(2), k3 = ikey(3), k4 = ikey(4);
	struct tp_state_stats ss;

	(void)state;
	tp_state_counter_add(c, &k1, T0, 1);
	tp_state_counter_add(c, &k2, T0 + 1, 1);
	tp_state_counter_add(c, &k3, T0 + 2, 1);
	tp_state_counter_add(c, &k1, T0 + 3, 1); /* k1 used again: k2 is the oldest */
	tp_state_counter_add(c, &k4, T0 + 4, 1);
	assert_int_equal(tp_state_obj_keys(c), 3);
	assert_int_equal(tp_state_counter_get(c, &k2, T0 + 5), 0);
	assert_int_equal(tp_state_counter_get(c, &k1, T0 + 5), 2);
	tp_state_group_stats(g, &ss);
	assert_int_equal(ss.evictions, 1);
	tp_state_store_free(st);
}

static void test_memory_caps(void **state)
{
	struct tp_state_store *st = store(256 << 10, 64 << 10);
	struct tp_state_group *a = tp_state_group_new(st, "a");
	struct tp_state_group *b = tp_state_group_new(st, "b");
	struct tp_state_group *big[4];
	struct tp_state_obj *ca = obj(a, "c", TP_STATE_COUNTER, 60 * SEC, 0);
	struct tp_state_obj *da = obj(a, "d", TP_STATE_DISTINCT, 60 * SEC, 0);
	struct tp_state_obj *cb = obj(b, "c", TP_STATE_COUNTER, 60 * SEC, 0);
	struct tp_state_stats sa, sb, s;
	uint64_t n;

	(void)state;
	/* One rule past its cap: its own oldest keys go, whichever object. */
	for (int i = 0; i < 5000; i++) {
		struct tp_state_key k = ikey(i), v = ikey(i);

		tp_state_counter_add(ca, &k, T0 + i, 1);
		tp_state_distinct_add(da, &k, tp_state_hash_value(st, &v), T0 + i, &n);
		tp_state_group_stats(a, &sa);
		assert_true(sa.bytes <= 64 << 10);
	}
	assert_true(sa.evictions > 4000);
	assert_true(sa.keys > 100); /* it keeps working at its cap */
	{
		struct tp_state_key last = ikey(4999), first = ikey(0);

		assert_int_equal(tp_state_counter_get(ca, &last, T0 + 5000), 1);
		assert_int_equal(tp_state_counter_get(ca, &first, T0 + 5000), 0);
	}
	/* A distinct set that grows is paid from the same account. */
	for (int i = 0; i < 2000; i++) {
		struct tp_state_key k = ikey(-1), v = ikey(i);

		tp_state_distinct_add(da, &k, tp_state_hash_value(st, &v), T0 + 6000 + i, &n);
		tp_state_group_stats(a, &sa);
		assert_true(sa.bytes <= 64 << 10);
	}
	assert_int_equal(n, 1024); /* max_values' default */

	/* The store's cap: other rules fill it; the oldest entries of any rule go,
	 * each eviction counted on the rule that lost the entry. */
	for (int r = 0; r < 4; r++) {
		char name[8];
		struct tp_state_obj *o;

		snprintf(name, sizeof(name), "big%d", r);
		big[r] = tp_state_group_new(st, name);
		o = obj(big[r], "c", TP_STATE_COUNTER, 60 * SEC, 0);
		for (int i = 0; i < 3000; i++) {
			struct tp_state_key k = ikey(i);

			tp_state_counter_add(o, &k, T0 + 10000 + r * 3000 + i, 1);
			tp_state_store_stats(st, &s);
			assert_true(s.bytes <= 256 << 10);
		}
	}
	tp_state_group_stats(a, &sa);
	tp_state_store_stats(st, &s);
	assert_true(s.evictions > sa.evictions);
	{
		struct tp_state_key k = ikey(1);

		tp_state_counter_add(cb, &k, T0 + 30000, 1);
		tp_state_group_stats(b, &sb);
		assert_int_equal(sb.keys, 1);
	}
	/* Accounts add up: the store's bytes and keys are its groups'. */
	{
		uint64_t bytes = 0, keys = 0;
		struct tp_state_group *all[] = {a, b, big[0], big[1], big[2], big[3]};

		for (size_t i = 0; i < 6; i++) {
			tp_state_group_stats(all[i], &sa);
			bytes += sa.bytes;
			keys += sa.keys;
		}
		tp_state_store_stats(st, &s);
		assert_int_equal(bytes, s.bytes);
		assert_int_equal(keys, s.keys);
		for (size_t i = 0; i < 6; i++)
			tp_state_group_clear(all[i]);
		tp_state_store_stats(st, &s);
		assert_int_equal(s.bytes, 0);
		assert_int_equal(s.keys, 0);
	}
	tp_state_store_free(st);
}

static void test_exited_processes_and_sweep(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *c = obj(g, "c", TP_STATE_COUNTER, 60 * SEC, 0);
	struct tp_state_obj *q = obj(g, "q", TP_STATE_SEQUENCE, 10 * SEC, 0);
	struct tp_state_stats ss;

	(void)state;
	for (uint32_t pid = 1; pid <= 2000; pid++) {
		struct tp_state_key k = pkey(pid);

		tp_state_counter_add(c, &k, T0, 1);
		tp_state_seq_step(q, &k, 1, T0);
	}
	{
		struct tp_state_key s = skey("not a process");

		tp_state_counter_add(c, &s, T0, 1);
	}
	assert_int_equal(tp_state_process_exit(st, 77), 2);
	assert_int_equal(tp_state_process_exit(st, 77), 0);
	assert_int_equal(tp_state_process_exit(st, 5000), 0);
	for (uint32_t pid = 1; pid <= 1000; pid++)
		tp_state_process_exit(st, pid);
	tp_state_group_stats(g, &ss);
	assert_int_equal(ss.keys, 2 * 1000 + 1);
	assert_int_equal(ss.exited, 2000);

	/* After 10 s the sequences have expired, the counters not yet. */
	assert_int_equal(tp_state_sweep(st, T0 + 11 * SEC, 100), 100);
	assert_int_equal(tp_state_sweep(st, T0 + 11 * SEC, 100000), 900);
	assert_int_equal(tp_state_sweep(st, T0 + 11 * SEC, 100000), 0);
	assert_int_equal(tp_state_sweep(st, T0 + 61 * SEC, 100000), 1001);
	tp_state_group_stats(g, &ss);
	assert_int_equal(ss.keys, 0);
	assert_int_equal(ss.expired, 2001);
	assert_int_equal(tp_state_process_exit(st, 1500), 0);
	tp_state_store_free(st);
}

/* What a reload does with the state: equal declarations (in any order)
 * hash equal, a changed one not; a group moves to another store with its
 * entries, which keep working there. */
static void test_reload_keeps_state(void **state)
{
	struct tp_state_store *live = store(1 << 20, 0), *fresh = store(1 << 20, 0);
	struct tp_state_group *old = tp_state_group_new(live, "burst");
	struct tp_state_group *same = tp_state_group_new(fresh, "burst");
	struct tp_state_group *changed = tp_state_group_new(fresh, "burst2");
	struct tp_state_obj *c, *q;
	struct tp_state_stats s;

	(void)state;
	c = obj(old, "runs", TP_STATE_COUNTER, 30 * SEC, 0);
	q = obj(old, "drop", TP_STATE_SEQUENCE, 60 * SEC, 0);
	obj(same, "drop", TP_STATE_SEQUENCE, 60 * SEC, 0); /* other order */
	obj(same, "runs", TP_STATE_COUNTER, 30 * SEC, 0);
	obj(changed, "runs", TP_STATE_COUNTER, 31 * SEC, 0);
	obj(changed, "drop", TP_STATE_SEQUENCE, 60 * SEC, 0);
	assert_true(tp_state_group_hash(old) == tp_state_group_hash(same));
	assert_true(tp_state_group_hash(old) != tp_state_group_hash(changed));

	for (uint32_t pid = 1; pid <= 100; pid++) {
		struct tp_state_key k = pkey(pid);

		tp_state_counter_add(c, &k, T0, 3);
		tp_state_seq_step(q, &k, 1, T0);
	}
	/* The old group goes to another store, as at a swap. */
	tp_state_group_move(old, fresh);
	tp_state_store_stats(live, &s);
	assert_int_equal(s.keys, 0);
	assert_int_equal(s.bytes, 0);
	tp_state_store_stats(fresh, &s);
	assert_int_equal(s.keys, 200);
	{
		struct tp_state_key k = pkey(5);

		assert_ptr_equal(tp_state_group_obj(old, "runs"), c);
		assert_int_equal(tp_state_counter_add(c, &k, T0 + SEC, 1), 4);
		assert_false(tp_state_seq_step(q, &k, 2, T0 + SEC));
		assert_true(tp_state_seq_step(q, &k, 3, T0 + 2 * SEC));
	}
	/* Process exits and evictions work in the new store. */
	assert_int_equal(tp_state_process_exit(fresh, 6), 2);
	assert_int_equal(tp_state_process_exit(live, 7), 0);
	tp_state_group_free(same);
	tp_state_group_free(changed);
	tp_state_store_free(live);
	tp_state_store_free(fresh);
}

static void test_bad_specs(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_spec spec = {.kind = TP_STATE_COUNTER};
	char err[128];

	(void)state;
	assert_null(tp_state_obj_new(g, "c", &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "longer than 0"));
	spec.kind = TP_STATE_SEQUENCE;
	spec.window_ns = SEC;
	spec.nsteps = 1;
	assert_null(tp_state_obj_new(g, "s", &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "2 to 16 steps"));
	spec.kind = TP_STATE_MAP;
	assert_non_null(tp_state_obj_new(g, "m", &spec, err, sizeof(err)));
	assert_null(tp_state_obj_new(g, "m", &spec, err, sizeof(err)));
	assert_non_null(strstr(err, "declared twice"));
	tp_state_store_free(st);
}

/* Random operations against a model of what each key holds. */
static void test_random_against_model(void **state)
{
	struct tp_state_store *st = store(0, 0);
	struct tp_state_group *g = tp_state_group_new(st, "r");
	struct tp_state_obj *d = obj(g, "d", TP_STATE_DISTINCT, 1000, 0);
	struct tp_state_key k = skey("k");
	uint64_t last_seen[64] = {0}, now = T0, n;
	unsigned seed = 12345;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		int v = (int)(rand_r(&seed) % 64), live = 0;
		struct tp_state_key vk = ikey(v);
		bool fresh;

		now += rand_r(&seed) % 40;
		fresh = !last_seen[v] || now - last_seen[v] >= 1000;
		assert_int_equal(tp_state_distinct_add(d, &k, tp_state_hash_value(st, &vk), now, &n),
				 fresh);
		last_seen[v] = now;
		for (int j = 0; j < 64; j++)
			live += last_seen[j] && now - last_seen[j] < 1000;
		assert_int_equal(n, live);
	}
	tp_state_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter_window),
	    cmocka_unit_test(test_distinct_window),
	    cmocka_unit_test(test_distinct_max_values),
	    cmocka_unit_test(test_sequence),
	    cmocka_unit_test(test_map_ttl),
	    cmocka_unit_test(test_max_keys_evicts_least_recent),
	    cmocka_unit_test(test_memory_caps),
	    cmocka_unit_test(test_exited_processes_and_sweep),
	    cmocka_unit_test(test_reload_keeps_state),
	    cmocka_unit_test(test_bad_specs),
	    cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
