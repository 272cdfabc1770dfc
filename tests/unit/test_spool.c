/* Spool: batches written and read back whole, in sequence order; damaged,
 * foreign and half-written files never come back as batches; one
 * collector per directory. */
#include <errno.h>
#include <fcntl.h>
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

#include "fixtures.h"

#include "delivery/pbwire.h"
#include "delivery/spool.h"

static char dir[256];

static int setup(void **state)
{
	tp_fx_tmpdir(dir, sizeof(dir), "spool");
	return 0;
}

static int teardown(void **state)
{
	tp_fx_rmtree(dir);
	return 0;
}

static struct tp_batch *make_batch(uint64_t seq, uint32_t n)
{
	struct tp_buf body;
	uint8_t ranks[64];
	struct tp_batch *b;

	tp_buf_init(&body);
	for (uint32_t i = 0; i < n; i++) {
		char ev[32];
		int len = snprintf(ev, sizeof(ev), "event-%llu-%u", (unsigned long long)seq, i);

		tp_pb_put_bytes(&body, 3, ev, (size_t)len);
		ranks[i] = (uint8_t)(i % 4);
	}
	b = tp_batch_new(seq, ranks, n, "HDR", 3, body.data, (uint32_t)body.len);
	tp_buf_free(&body);
	return b;
}

struct scan {
	uint64_t seqs[16];
	int n, bad;
	uint32_t bad_events;
};

static void on_batch(void *ctx, struct tp_batch *b)
{
	struct scan *s = ctx;

	assert_int_equal(memcmp(tp_batch_hdr(b), "HDR", 3), 0);
	s->seqs[s->n++] = b->seq;
	tp_batch_free(b);
}

static void on_bad(void *ctx, const char *name, uint32_t nevents, const char *why)
{
	struct scan *s = ctx;

	s->bad++;
	s->bad_events += nevents;
}

static void test_write_load_scan(void **state)
{
	struct tp_spool sp;
	struct tp_batch *b, *copy;
	struct scan sc = { 0 };
	char err[256];

	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	for (uint64_t seq = 12; seq >= 10; seq--) {
		b = make_batch(seq, 5);
		assert_int_equal(tp_spool_write(&sp, b), (long)tp_spool_file_size(b));
		tp_batch_free(b);
	}
	/* Load one back by sequence into a batch that only knows its sizes. */
	b = make_batch(11, 5);
	copy = make_batch(11, 5);
	free(copy->blob);
	copy->blob = NULL;
	assert_int_equal(tp_spool_load(&sp, copy), 0);
	assert_memory_equal(copy->blob, b->blob, tp_batch_blob_len(b));
	tp_batch_free(b);
	tp_batch_free(copy);

	assert_int_equal(tp_spool_scan(&sp, on_batch, on_bad, &sc), 3);
	assert_int_equal(sc.n, 3);
	assert_int_equal(sc.seqs[0], 10);
	assert_int_equal(sc.seqs[2], 12);
	assert_int_equal(tp_spool_remove(&sp, 11), 0);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(tp_spool_scan(&sp, on_batch, on_bad, &sc), 2);
	tp_spool_close(&sp);
}

static void write_file(const char *name, const void *p, size_t n)
{
	tp_fx_write(dir, name, p, n, 0600, NULL, 0);
}

static int exists(const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_damaged_files_are_set_aside(void **state)
{
	struct tp_spool sp;
	struct tp_batch *b = make_batch(0x20, 4);
	struct scan sc = { 0 };
	char err[256], name[64];
	uint8_t *img;
	size_t len = tp_spool_file_size(b);

	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	/* A good file, then a copy with one flipped bit under another name. */
	assert_true(tp_spool_write(&sp, b) > 0);
	img = malloc(len);
	{
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "%s/%016x.batch", dir, 0x20);
		fd = open(path, O_RDONLY);
		assert_int_equal(read(fd, img, len), (ssize_t)len);
		close(fd);
	}
	img[len - 1] ^= 1;
	write_file("0000000000000021.batch", img, len); /* bad CRC (and seq) */
	img[len - 1] ^= 1;
	write_file("0000000000000022.batch", img, len); /* seq does not match its name */
	write_file("0000000000000023.batch", "TPSB", 4); /* truncated */
	write_file("0000000000000024.tmp", img, len);   /* a write cut short */
	write_file("notes.txt", "hello", 5);            /* not ours: left alone */

	assert_int_equal(tp_spool_scan(&sp, on_batch, on_bad, &sc), 1);
	assert_int_equal(sc.seqs[0], 0x20);
	assert_int_equal(sc.bad, 3);
	assert_int_equal(sc.bad_events, 8); /* the two whole headers say 4 each */
	snprintf(name, sizeof(name), "%016x.batch.bad", 0x21);
	assert_true(exists(name));
	assert_false(exists("0000000000000021.batch"));
	assert_false(exists("0000000000000024.tmp"));
	assert_true(exists("notes.txt"));
	free(img);
	tp_batch_free(b);
	tp_spool_close(&sp);
}

static void test_parse_rejects_garbage(void **state)
{
	struct tp_batch *b = make_batch(7, 3), *out;
	uint8_t img[512];
	const char *why;
	size_t len = tp_spool_file_size(b);
	struct tp_spool sp;
	char err[256], path[512];
	int fd;

	assert_int_equal(tp_spool_open(&sp, dir, err, sizeof(err)), 0);
	assert_true(tp_spool_write(&sp, b) > 0);
	snprintf(path, sizeof(path), "%s/%016x.batch", dir, 7);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, img, len), (ssize_t)len);
	close(fd);
	assert_int_equal(tp_spool_parse(img, len, &out, &why), 0);
	assert_int_equal(out->nevents, 3);
	tp_batch_free(out);
	/* Every truncation is refused. */
	for (size_t n = 0; n < len; n++)
		assert_int_equal(tp_spool_parse(img, n, &out, &why), -EBADMSG);
	img[4] = 9; /* version */
	assert_int_equal(tp_spool_parse(img, len, &out, &why), -EBADMSG);
	tp_batch_free(b);
	tp_spool_close(&sp);
}

static void test_one_collector_per_directory(void **state)
{
	struct tp_spool a, b;
	char err[256];

	assert_int_equal(tp_spool_open(&a, dir, err, sizeof(err)), 0);
	assert_int_equal(tp_spool_open(&b, dir, err, sizeof(err)), -EWOULDBLOCK);
	assert_non_null(strstr(err, "in use by another tapio-collector"));
	tp_spool_close(&a);
	assert_int_equal(tp_spool_open(&b, dir, err, sizeof(err)), 0);
	tp_spool_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_load_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_files_are_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_rejects_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_collector_per_directory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
