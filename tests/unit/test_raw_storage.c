/* Raw storage: writer and reader together. Every registered event type
 * round-trips byte for byte and decodes to the same JSON; segments rotate
 * by size and age; retention deletes the oldest by size and by age; a torn,
 * corrupt, empty or garbage segment is reported and skipped past, never
 * read out of bounds (run under ASan); a failed write drops and counts its
 * records, leaves whole frames only, and writing resumes; the directory is
 * 0700, files 0600, and locked against a second writer. No root needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"

#include "events/decode.h"
#include "events/format.h"
#include "obs/log.h"
#include "storage/raw_reader.h"
#include "storage/raw_writer.h"
#include "storage/source_raw.h"

#define T0  1700000000000000000ull
#define SEC 1000000000ull

/* ------------------------------------------------------------ helpers */

static char dir[64];

static int setup_dir(void **state)
{
	(void)state;
	tp_fx_tmpdir(dir, sizeof(dir), "raw");
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	tp_fx_rmtree(dir);
	return 0;
}

/* A record of type t and size bytes whose fields hold plausible values,
 * built from the descriptor table only, so new types are covered as they
 * are registered. */
static void make_record(const struct tp_event_type *t, uint32_t size, unsigned seed, uint8_t *buf)
{
	struct tp_hdr h = {0};

	memset(buf, 0, size);
	h.ts_ns = 5000000000ull + seed;
	h.cgroup_id = 1000 + seed;
	h.type = t->id;
	h.size = size;
	h.pid = 100 + seed;
	h.tid = 100 + seed;
	h.ppid = 1;
	h.uid = seed % 3;
	h.gid = seed % 5;
	h.cpu = seed % 2;
	snprintf(h.comm, sizeof(h.comm), "c%u", seed);
	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = 0; i < t->nfields; i++) {
		const struct tp_field *f = &t->fields[i];
		uint8_t *p = buf + f->offset;

		if ((uint32_t)f->offset + f->size > size)
			continue;
		switch (f->kind) {
		case TP_FK_STR:
			snprintf((char *)p, f->size, "/s%u/%s", seed, f->name);
			break;
		case TP_FK_ARGV: {
			static const char argv[] = "prog\0--flag\0value with space";
			uint32_t n = sizeof(argv) < f->size ? sizeof(argv) : f->size;

			memcpy(p, argv, n);
			if ((uint32_t)f->aux + 4 <= size)
				memcpy(buf + f->aux, &n, 4);
			break;
		}
		case TP_FK_IPADDR: {
			uint16_t fam = seed % 2 ? AF_INET6 : AF_INET;

			for (uint16_t k = 0; k < f->size; k++)
				p[k] = (uint8_t)(seed + k + 1);
			if ((uint32_t)f->aux + 2 <= size)
				memcpy(buf + f->aux, &fam, 2);
			break;
		}
		default:
			for (uint16_t k = 0; k < f->size; k++)
				p[k] = (uint8_t)(seed * 31 + k * 7 + i);
			break;
		}
	}
}

struct stored {
	uint64_t ts;
	uint32_t len;
	uint8_t *bytes;
};

struct got {
	struct stored *v;
	size_t n, cap;
};

static int collect(void *ctx, struct tp_event *ev)
{
	struct got *g = ctx;

	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 1024;
		g->v = realloc(g->v, g->cap * sizeof(*g->v));
		assert_non_null(g->v);
	}
	g->v[g->n].ts = ev->ts_wall_ns;
	g->v[g->n].len = ev->len;
	g->v[g->n].bytes = malloc(ev->len);
	memcpy(g->v[g->n].bytes, ev->rec.bytes, ev->len);
	g->n++;
	return 0;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].bytes);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

/* Read every event of path through the stored-events source. */
static struct tp_raw_source_stats read_all(const char *path, const struct tp_raw_filter *f,
					   struct got *g)
{
	struct tp_raw_source_stats st;
	struct tp_source *src;
	char err[256];
	int r;

	memset(g, 0, sizeof(*g));
	assert_int_equal(tp_source_raw_open(&src, path, f, err, sizeof(err)), 0);
	while ((r = tp_source_poll(src, 0, 100, collect, g)) > 0)
		;
	assert_int_equal(r, -ENODATA);
	tp_source_raw_stats(src, &st);
	tp_source_close(src);
	return st;
}

static struct tp_raw_writer *open_writer(uint64_t seg_bytes, uint64_t age, uint64_t ret_ns,
					 uint64_t ret_bytes, uint64_t now)
{
	struct tp_raw_writer_opts o = {.dir = dir,
				       .segment_bytes = seg_bytes,
				       .segment_age_ns = age,
				       .retention_ns = ret_ns,
				       .retention_bytes = ret_bytes};
	struct tp_raw_writer *w;
	char err[256];

	assert_int_equal(tp_raw_writer_open(&w, &o, now, err, sizeof(err)), 0);
	return w;
}

/* A fork record (72 bytes) numbered i: pid = i, wall time T0 + i. */
static void append_fork(struct tp_raw_writer *w, unsigned i, uint64_t now)
{
	uint8_t rec[TP_RECORD_MAX];

	make_record(tp_event_type_by_id(TP_EV_PROCESS_FORK), sizeof(struct tp_fork_event), i, rec);
	((struct tp_hdr *)rec)->pid = i;
	assert_int_equal(tp_raw_writer_append(w, T0 + i, rec, sizeof(struct tp_fork_event), now),
			 0);
}

static struct tp_raw_seg_info *list(size_t *n)
{
	struct tp_raw_seg_info *s;

	assert_int_equal(tp_raw_list(dir, &s, n), 0);
	return s;
}

static void seg_path(char *buf, size_t len, const struct tp_raw_seg_info *s)
{
	snprintf(buf, len, "%s/%s", dir, s->name);
}

static uint32_t pid_of(const struct stored *s)
{
	return ((const struct tp_hdr *)s->bytes)->pid;
}

/* ------------------------------------------------------------ tests */

static void test_roundtrip_every_type(void **state)
{
	static uint8_t rec[2000][TP_RECORD_MAX];
	static uint64_t ts[2000];
	static uint32_t len[2000];
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	const struct tp_event_type *t;
	static struct tp_event a, b;
	struct tp_buf ja, jb;
	struct got g;
	size_t n = 0, ntypes = 0;

	(void)state;
	for (size_t i = 0; (t = tp_event_type_at(i)); i++, ntypes++) {
		uint32_t sizes[3] = {t->min_size, (t->min_size + t->size) / 2, t->size};

		for (int k = 0; k < 3; k++) {
			for (unsigned seed = 0; seed < 4; seed++) {
				assert_true(n < 2000);
				make_record(t, sizes[k], (unsigned)(n * 13 + seed), rec[n]);
				len[n] = sizes[k];
				ts[n] = T0 + n * 1000003;
				assert_int_equal(tp_raw_writer_append(w, ts[n], rec[n], len[n], T0),
						 0);
				n++;
			}
		}
	}
	assert_true(ntypes >= 3);
	tp_raw_writer_close(w, T0);

	read_all(dir, NULL, &g);
	tp_buf_init(&ja);
	tp_buf_init(&jb);
	/* Every record decodes back exactly as the original does live. */
	size_t got = 0;

	for (size_t i = 0; i < n; i++) {
		int ra = tp_decode(rec[i], len[i],
				   (int64_t)(ts[i] - ((struct tp_hdr *)rec[i])->ts_ns), &a);

		if (ra < 0)
			continue; /* the live path drops it too: so does replay */
		assert_true(got < g.n);
		assert_int_equal(g.v[got].ts, ts[i]);
		assert_int_equal(g.v[got].len, a.len);
		assert_memory_equal(g.v[got].bytes, a.rec.bytes, a.len);
		memset(b.rec.bytes, 0, sizeof(b.rec.bytes));
		assert_int_equal(tp_decode(g.v[got].bytes, g.v[got].len,
					   (int64_t)(ts[i] - ((struct tp_hdr *)rec[i])->ts_ns), &b),
				 0);
		assert_ptr_equal(a.type, b.type);
		assert_int_equal(a.ts_wall_ns, b.ts_wall_ns);
		tp_buf_reset(&ja);
		tp_buf_reset(&jb);
		tp_format_json(&ja, &a, NULL);
		tp_format_json(&jb, &b, NULL);
		assert_string_equal(tp_buf_cstr(&ja), tp_buf_cstr(&jb));
		got++;
	}
	assert_int_equal(got, g.n);
	assert_true(got >= ntypes * 4); /* at least the full-size records of every type */
	tp_buf_free(&ja);
	tp_buf_free(&jb);
	got_free(&g);
}

static void test_rotation_by_size(void **state)
{
	struct tp_raw_writer *w = open_writer(64 * 1024, 0, 0, 0, T0);
	struct tp_raw_writer_stats st;
	struct tp_raw_seg_info *s;
	struct got g;
	size_t n;

	(void)state;
	for (unsigned i = 0; i < 5000; i++) {
		append_fork(w, i, T0);
		if (i % 97 == 0)
			tp_raw_writer_flush(w, T0);
	}
	tp_raw_writer_close(w, T0);
	s = list(&n);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(s[i].seq, i + 1);
		assert_true(s[i].size <= 64 * 1024);
		if (i + 1 < n)
			assert_true(s[i].size > 60 * 1024);
	}
	free(s);
	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_int_equal(g.n, 5000);
	for (unsigned i = 0; i < 5000; i++)
		assert_int_equal(pid_of(&g.v[i]), i);
	assert_int_equal(rs.segments_damaged, 0);
	assert_int_equal(rs.segments_unclosed, 0);
	got_free(&g);
	(void)st;
}

/* Bytes of the file at path in the page cache (mincore of a mapping: the
 * look does not bring pages in). */
static uint64_t cached_bytes(const char *path)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *vec;
	struct stat st;
	uint64_t n = 0;
	size_t pages;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	pages = ((size_t)st.st_size + (size_t)page - 1) / (size_t)page;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	vec = malloc(pages);
	assert_non_null(vec);
	assert_int_equal(mincore(m, (size_t)st.st_size, vec), 0);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	munmap(m, (size_t)st.st_size);
	close(fd);
	return n * (uint64_t)page;
}

/* Write-behind: while a segment grows, only its last few MiB stay in the
 * page cache; a sync leaves its last page, closing it none; and what left
 * the cache reads back whole from the disk. */
static void test_write_behind(void **state)
{
	const unsigned n = 400000; /* ~37 MiB of frames */
	struct tp_raw_writer *w = open_writer(256 << 20, 0, 0, 0, T0);
	uint64_t most = 0, c;
	struct tp_raw_seg_info *s;
	struct statfs fs;
	char path[128];
	struct got g;
	size_t ns;

	(void)state;
	assert_int_equal(statfs(dir, &fs), 0);
	if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC) {
		tp_raw_writer_close(w, T0);
		print_message("%s is in memory (tmpfs): its pages cannot leave the cache\n", dir);
		skip();
	}
	for (unsigned i = 0; i < n; i++) {
		append_fork(w, i, T0);
		if (i % 20000 == 19999) {
			tp_raw_writer_flush(w, T0);
			s = list(&ns);
			assert_int_equal(ns, 1);
			seg_path(path, sizeof(path), &s[0]);
			free(s);
			c = cached_bytes(path);
			most = c > most ? c : most;
		}
	}
	/* Two windows of 4 MiB and a batch of 1 MiB at most, where all 37 MiB
	 * stayed before. */
	assert_true(most > 0);
	assert_true(most <= 11ull << 20);
	assert_int_equal(tp_raw_writer_sync(w), 0);
	assert_true(cached_bytes(path) <= (uint64_t)sysconf(_SC_PAGESIZE));
	tp_raw_writer_close(w, T0);
	assert_int_equal(cached_bytes(path), 0);

	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_int_equal(g.n, n);
	for (unsigned i = 0; i < n; i += 997)
		assert_int_equal(pid_of(&g.v[i]), i);
	assert_int_equal(pid_of(&g.v[n - 1]), n - 1);
	assert_int_equal(rs.segments_damaged, 0);
	assert_int_equal(rs.segments_unclosed, 0);
	got_free(&g);
}

static void test_rotation_by_age(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 10 * SEC, 0, 0, T0);
	struct tp_raw_seg_info *s;
	struct got g;
	size_t n;

	(void)state;
	append_fork(w, 1, T0);
	tp_raw_writer_flush(w, T0);
	tp_raw_writer_maintain(w, T0 + 5 * SEC);
	append_fork(w, 2, T0 + 5 * SEC);
	tp_raw_writer_flush(w, T0 + 5 * SEC);
	s = list(&n);
	assert_int_equal(n, 1);
	free(s);
	tp_raw_writer_maintain(w, T0 + 11 * SEC); /* rotates: the segment is 11 s old */
	append_fork(w, 3, T0 + 12 * SEC);
	tp_raw_writer_flush(w, T0 + 12 * SEC);
	s = list(&n);
	assert_int_equal(n, 2);
	free(s);
	/* The wall clock steps back an hour: rotate rather than wait for it. */
	tp_raw_writer_maintain(w, T0 - 3600 * SEC);
	append_fork(w, 4, T0 - 3600 * SEC);
	tp_raw_writer_flush(w, T0 - 3600 * SEC);
	s = list(&n);
	assert_int_equal(n, 3);
	free(s);
	tp_raw_writer_close(w, T0 + 13 * SEC);
	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_int_equal(g.n, 4);
	assert_int_equal(rs.segments, 3);
	assert_int_equal(rs.segments_unclosed, 0);
	got_free(&g);
}

static void test_retention_by_size(void **state)
{
	/* 256 KiB in all: segments are cut to 64 KiB so there is a choice. */
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 256 * 1024, T0);
	struct tp_raw_writer_stats st;
	struct tp_raw_seg_info *s;
	uint64_t total = 0;
	struct got g;
	size_t n;

	(void)state;
	for (unsigned i = 0; i < 40000; i++)
		append_fork(w, i, T0);
	tp_raw_writer_stats(w, &st);
	assert_true(st.segments_deleted > 5);
	/* Each rotation past the cap takes the oldest segment's file. */
	assert_true(st.segments_reused > 5);
	assert_true(st.segments_reused <= st.segments_deleted);
	tp_raw_writer_close(w, T0);
	s = list(&n);
	for (size_t i = 0; i < n; i++) {
		total += s[i].size;
		if (i)
			assert_int_equal(s[i].seq, s[i - 1].seq + 1); /* the newest are kept */
	}
	assert_true(total <= 256 * 1024);
	assert_true(total >= 128 * 1024);
	free(s);
	/* What is left is the tail of what was written, in order, and closed
	 * reused files hold nothing of their earlier segments. */
	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_true(g.n > 1000);
	for (size_t i = 0; i < g.n; i++)
		assert_int_equal(pid_of(&g.v[i]), 40000 - g.n + i);
	assert_int_equal(rs.segments_damaged, 0);
	assert_int_equal(rs.segments_unclosed, 0);
	assert_int_equal(rs.damaged_regions, 0);
	got_free(&g);
}

static void set_mtime(const struct tp_raw_seg_info *s, uint64_t wall_ns)
{
	struct timespec ts[2];
	char p[128];

	ts[0].tv_sec = ts[1].tv_sec = (time_t)(wall_ns / SEC);
	ts[0].tv_nsec = ts[1].tv_nsec = (long)(wall_ns % SEC);
	seg_path(p, sizeof(p), s);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void test_retention_by_age(void **state)
{
	uint64_t now = (uint64_t)time(NULL) * SEC, hour = 3600 * SEC;
	struct tp_raw_writer *w = open_writer(64 * 1024, 0, 0, 0, now);
	struct tp_raw_seg_info *s;
	size_t n;

	(void)state;
	for (unsigned i = 0; i < 4000; i++)
		append_fork(w, i, now);
	tp_raw_writer_close(w, now);
	s = list(&n);
	assert_true(n >= 3);
	set_mtime(&s[0], now - 25 * hour);
	set_mtime(&s[1], now - 23 * hour);
	free(s);
	/* A new writer applies retention when it opens, then each period. */
	w = open_writer(64 * 1024, 0, 24 * hour, 0, now);
	s = list(&n);
	assert_int_equal(s[0].seq, 2);
	free(s);
	tp_raw_writer_maintain(w, now + 2 * hour); /* segment 2 is 25 h old now */
	s = list(&n);
	assert_int_equal(s[0].seq, 3);
	free(s);
	tp_raw_writer_close(w, now);
}

/* Copy the first len bytes of from into a new file to. */
static void copy_prefix(const char *from, const char *to, size_t len)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char *buf = malloc(len ? len : 1);

	assert_non_null(in);
	assert_non_null(out);
	assert_int_equal(fread(buf, 1, len, in), len);
	assert_int_equal(fwrite(buf, 1, len, out), len);
	fclose(in);
	fclose(out);
	free(buf);
}

/* Copy the file at from to to, whole. */
static void copy_file(const char *from, const char *to)
{
	struct stat st;

	assert_int_equal(stat(from, &st), 0);
	copy_prefix(from, to, (size_t)st.st_size);
}

/* Forks numbered from *i on, until a rotation takes an old segment's file
 * (one more than before). */
static void write_until_reused(struct tp_raw_writer *w, unsigned *i)
{
	struct tp_raw_writer_stats st;
	uint64_t before;

	tp_raw_writer_stats(w, &st);
	before = st.segments_reused;
	do {
		append_fork(w, (*i)++, T0);
		tp_raw_writer_stats(w, &st);
	} while (st.segments_reused == before);
}

/*
 * A reused file whose segment was not closed (the writer killed): the
 * reader returns the new segment's records and no record of the segment
 * the file held before, though those frames are intact, and says the
 * segment is unclosed, not damaged.
 */
static void test_reused_file_not_closed(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 256 * 1024, T0);
	struct tp_raw_seg_info *s;
	char from[160], crash[96], to[160];
	unsigned i = 0;
	struct stat fs;
	struct got g;
	size_t n;

	(void)state;
	/* Past the first reuse, then a few records into the reused file. */
	write_until_reused(w, &i);
	for (unsigned k = 0; k < 100; k++)
		append_fork(w, i++, T0);
	assert_int_equal(tp_raw_writer_flush(w, T0), 0);
	s = list(&n);
	seg_path(from, sizeof(from), &s[n - 1]);
	free(s);
	assert_int_equal(stat(from, &fs), 0);
	assert_true((uint64_t)fs.st_size > 32 * 1024); /* the old segment's bytes */
	snprintf(crash, sizeof(crash), "%s/crash", dir);
	assert_int_equal(mkdir(crash, 0700), 0);
	snprintf(to, sizeof(to), "%s/raw-000000000001.seg", crash);
	copy_file(from, to);
	tp_raw_writer_close(w, T0);

	struct tp_raw_source_stats rs = read_all(to, NULL, &g);

	assert_true(g.n >= 100 && g.n < 1000);
	for (size_t k = 0; k < g.n; k++)
		assert_int_equal(pid_of(&g.v[k]), i - g.n + k);
	assert_int_equal(rs.segments_unclosed, 1);
	assert_int_equal(rs.segments_damaged, 0);
	assert_int_equal(rs.damaged_regions, 0);
	got_free(&g);

	/* The same through the segment reader: where it ended, and why. */
	struct tp_raw_seg_reader *r = malloc(sizeof(*r));
	const uint8_t *rec;
	uint32_t len;
	uint64_t ts;
	char err[256];

	assert_int_equal(tp_raw_seg_open(r, to, err, sizeof(err)), 0);
	while (tp_raw_seg_next(r, &rec, &len, &ts) == 1)
		;
	assert_int_equal(r->end, TP_RAW_SEG_UNCLOSED);
	assert_int_equal(r->end_offset + r->bytes_ignored, (uint64_t)fs.st_size);
	assert_true(r->bytes_ignored > 0);
	assert_non_null(strstr(r->why, "whose file it reused"));
	tp_raw_seg_close(r);
	free(r);
}

/*
 * Retention reuses the file of a segment a reader is reading: the reader
 * stops there and says so (not damage), having read that segment's records
 * up to the change, each intact; the records of the new segment it will
 * read from the new name.
 */
static void test_reused_while_read(void **state)
{
	struct tp_raw_writer *w = open_writer(1 << 20, 0, 0, 4 << 20, T0);
	struct tp_raw_seg_reader *r = malloc(sizeof(*r));
	struct tp_raw_seg_info *s;
	const uint8_t *rec;
	uint32_t len, last = 0;
	uint64_t ts;
	char path[160], err[256];
	unsigned i = 0;
	size_t n;

	(void)state;
	write_until_reused(w, &i);
	assert_int_equal(tp_raw_writer_flush(w, T0), 0);
	s = list(&n);
	seg_path(path, sizeof(path), &s[0]); /* the oldest: reused next */
	free(s);
	assert_int_equal(tp_raw_seg_open(r, path, err, sizeof(err)), 0);
	assert_int_equal(tp_raw_seg_next(r, &rec, &len, &ts), 1);
	last = ((const struct tp_hdr *)rec)->pid;
	write_until_reused(w, &i); /* the oldest's file, being read */
	assert_int_equal(tp_raw_writer_flush(w, T0), 0);
	while (tp_raw_seg_next(r, &rec, &len, &ts) == 1) {
		assert_int_equal(((const struct tp_hdr *)rec)->pid, last + 1);
		last++;
	}
	assert_int_equal(r->end, TP_RAW_SEG_REUSED);
	assert_int_equal(r->skipped_regions, 0);
	assert_non_null(strstr(r->why, "reused the file"));
	tp_raw_seg_close(r);
	free(r);
	tp_raw_writer_close(w, T0);
}

static void test_torn_tail_at_every_offset(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	char path[128], cut[160], last[160];
	struct tp_raw_seg_info *s;
	struct stat st;
	struct got g;
	size_t n, frame_ends[41], nf = 0;

	(void)state;
	for (unsigned i = 0; i < 40; i++) {
		append_fork(w, i, T0);
		tp_raw_writer_flush(w, T0);
		s = list(&n);
		frame_ends[nf++] = s[0].size;
		free(s);
	}
	tp_raw_writer_close(w, T0);
	s = list(&n);
	seg_path(path, sizeof(path), &s[0]);
	free(s);
	assert_int_equal(stat(path, &st), 0);
	/* A later, intact segment: reading must go on to it after the cut one. */
	snprintf(last, sizeof(last), "%s/raw-000000000009.seg", dir);
	copy_prefix(path, last, (size_t)st.st_size);
	snprintf(cut, sizeof(cut), "%s/raw-000000000005.seg", dir);
	for (size_t len = frame_ends[30] - 3; len <= (size_t)st.st_size; len++) {
		size_t whole = 0;

		copy_prefix(path, cut, len);
		unlink(path);
		while (whole < nf && frame_ends[whole] <= len)
			whole++;
		struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

		assert_int_equal(g.n, whole + 40);
		for (size_t i = 0; i < whole; i++)
			assert_int_equal(pid_of(&g.v[i]), i);
		if (len == (size_t)st.st_size) {
			assert_int_equal(rs.segments_damaged, 0);
			assert_int_equal(rs.segments_unclosed, 0);
		} else {
			assert_int_equal(rs.segments_unclosed, 1);
			assert_int_equal(rs.segments_damaged, len == frame_ends[whole - 1] ? 0 : 1);
		}
		got_free(&g);
		copy_prefix(cut, path, len); /* keep a source for the next cut */
		copy_prefix(last, path, (size_t)st.st_size);
	}
}

static void write_file(const char *name, const void *data, size_t len)
{
	tp_fx_write(dir, name, data, len, 0644, NULL, 0);
}

static void test_damaged_segments_are_skipped(void **state)
{
	struct tp_raw_writer *w = open_writer(64 * 1024, 0, 0, 0, T0);
	struct tp_raw_seg_info *s;
	struct tp_raw_seg_hdr h;
	char p[160], junk[5000];
	uint32_t lo, hi;
	struct got g;
	size_t n;
	FILE *f;

	(void)state;
	for (unsigned i = 0; i < 6000; i++)
		append_fork(w, i, T0);
	tp_raw_writer_close(w, T0);
	s = list(&n);
	assert_true(n >= 3);
	/* The records of the second segment, then flip a byte in its middle. */
	seg_path(p, sizeof(p), &s[1]);
	read_all(p, NULL, &g);
	lo = pid_of(&g.v[0]);
	hi = pid_of(&g.v[g.n - 1]);
	got_free(&g);
	f = fopen(p, "r+b");
	fseek(f, (long)(s[1].size / 2), SEEK_SET);
	int c = fgetc(f);

	fseek(f, (long)(s[1].size / 2), SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
	free(s);
	/* Empty, short, garbage and header-only files among them. */
	write_file("raw-000000000100.seg", "", 0);
	write_file("raw-000000000101.seg", "TPRAW", 5);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file("raw-000000000102.seg", junk, sizeof(junk));
	tp_raw_seg_hdr_init(&h, T0, 1, tp_raw_frame_seed(1), 0);
	write_file("raw-000000000103.seg", &h, sizeof(h));
	memcpy(junk, &h, sizeof(h));
	write_file("raw-000000000104.seg", junk, sizeof(junk)); /* a header, then garbage */
	write_file("not-a-segment.txt", junk, 10);

	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	/* Everything but the one record whose frame holds the flipped byte, in
	 * order: the reader resynchronises at the next frame. */
	uint32_t missing = UINT32_MAX;
	size_t i = 0;

	assert_int_equal(g.n, 5999);
	for (uint32_t pid = 0; pid < 6000 && i < g.n; pid++) {
		if (pid_of(&g.v[i]) != pid && missing == UINT32_MAX) {
			missing = pid;
			continue;
		}
		assert_int_equal(pid_of(&g.v[i++]), pid);
	}
	assert_true(missing >= lo && missing <= hi);
	assert_int_equal(rs.damaged_regions, 2); /* the flipped one; garbage after a header */
	/* The damaged one, empty, short, garbage, and garbage after a header. */
	assert_int_equal(rs.segments_damaged, 5);
	got_free(&g);
}

/* ------------------------------------------------ resynchronisation */

#define NREC 200

/* One closed segment of NREC fork records (pid = i) in dir; its path in
 * path, its bytes in *data (malloc'd), the offset of each frame in off[]
 * (off[NREC]: the end frame). */
static size_t one_segment(char *path, size_t plen, uint8_t **data, size_t off[NREC + 1])
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	static uint8_t rec[TP_RECORD_MAX];
	struct tp_raw_seg_info *s;
	size_t n, at = sizeof(struct tp_raw_seg_hdr);
	uint64_t s0;
	FILE *f;

	for (unsigned i = 0; i < NREC; i++)
		append_fork(w, i, T0);
	tp_raw_writer_close(w, T0);
	s = list(&n);
	assert_int_equal(n, 1);
	seg_path(path, plen, &s[0]);
	n = s[0].size;
	s0 = s[0].seq;
	free(s);
	*data = malloc(n);
	f = fopen(path, "rb");
	assert_int_equal(fread(*data, 1, n, f), n);
	fclose(f);
	for (unsigned i = 0; i <= NREC; i++) {
		uint32_t len;
		uint64_t ts;
		size_t flen;
		char why[64];

		off[i] = at;
		assert_true(tp_raw_frame_parse(*data + at, n - at, tp_raw_frame_seed(s0), rec, &len,
					       &ts, &flen, why, sizeof(why)) >= 0);
		at += flen;
	}
	assert_int_equal(at, n);
	return n;
}

static void put_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Read path through the source as read_all does, with the warnings it
 * logs in log (NUL-terminated). */
static struct tp_raw_source_stats read_logged(const char *path, struct got *g, char *log,
					      size_t loglen)
{
	struct tp_raw_source_stats st;
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), 2);
	tp_log_set_level(TP_LOG_WARN);
	st = read_all(path, NULL, g);
	tp_log_set_level(TP_LOG_ERROR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, loglen - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	return st;
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The records of g are 0..NREC-1 but those in lost[] (ascending). */
static void assert_all_but(const struct got *g, const unsigned *lost, size_t nlost)
{
	size_t i = 0, k = 0;

	assert_int_equal(g->n, NREC - nlost);
	for (unsigned pid = 0; pid < NREC; pid++) {
		if (k < nlost && lost[k] == pid) {
			k++;
			continue;
		}
		assert_int_equal(pid_of(&g->v[i++]), pid);
	}
}

static void test_resync_after_flipped_byte(void **state)
{
	size_t off[NREC + 1], n;
	char path[128], log[4096];
	uint8_t *data;
	struct got g;

	(void)state;
	n = one_segment(path, sizeof(path), &data, off);
	/* Every byte of a frame in the middle, one at a time. */
	for (size_t at = off[100]; at < off[101]; at++) {
		const unsigned lost[] = {100};

		data[at] ^= 0x10;
		put_file(path, data, n);
		data[at] ^= 0x10;
		struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

		assert_all_but(&g, lost, 1);
		assert_int_equal(rs.segments_damaged, 1);
		assert_int_equal(rs.segments_unclosed, 0);
		assert_int_equal(rs.damaged_regions, 1);
		assert_int_equal(rs.damaged_bytes, off[101] - off[100]);
		assert_int_equal(count_str(log, "\n"), 1);
		assert_int_equal(count_str(log, "is damaged at byte"), 1);
		assert_non_null(strstr(log, "in 1 region between bytes"));
		assert_null(strstr(log, "torn"));
		got_free(&g);
	}
	free(data);
}

static void test_resync_several_regions(void **state)
{
	const unsigned lost[] = {20, 21, 80, 150, 199};
	size_t off[NREC + 1], n;
	char path[128], log[4096], want[160];
	uint8_t *data;
	struct got g;

	(void)state;
	n = one_segment(path, sizeof(path), &data, off);
	data[off[20] + 30] ^= 1; /* 20 and 21 make one region */
	data[off[21] + 5] ^= 1;
	data[off[80] + 2] ^= 1;	  /* a length */
	data[off[150]] ^= 0xff;	  /* the CRC */
	data[off[199] + 40] ^= 1; /* the last record, before the end frame */
	put_file(path, data, n);
	struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

	assert_all_but(&g, lost, 5);
	assert_int_equal(rs.segments_damaged, 1);
	assert_int_equal(rs.damaged_regions, 4);
	assert_int_equal(rs.damaged_bytes, (off[22] - off[20]) + (off[81] - off[80]) +
					       (off[151] - off[150]) + (off[200] - off[199]));
	assert_int_equal(count_str(log, "\n"), 1);
	snprintf(want, sizeof(want), "skipped %zu bytes in 4 regions between bytes %zu and %zu",
		 (size_t)rs.damaged_bytes, off[20], off[200]);
	assert_non_null(strstr(log, want));
	got_free(&g);
	free(data);
}

static void test_resync_inside_first_frame(void **state)
{
	const unsigned lost[] = {0};
	size_t off[NREC + 1], n;
	char path[128], log[4096];
	uint8_t *data;
	struct got g;

	(void)state;
	n = one_segment(path, sizeof(path), &data, off);
	for (size_t at = off[0]; at < off[1]; at += 7) {
		data[at] ^= 0x80;
		put_file(path, data, n);
		data[at] ^= 0x80;
		struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

		assert_all_but(&g, lost, 1);
		assert_int_equal(rs.damaged_regions, 1);
		assert_int_equal(count_str(log, "\n"), 1);
		got_free(&g);
	}
	free(data);
}

/* A hole of zeros (preallocated space whose data never reached the disk),
 * from inside one frame to inside a later one. */
static void test_resync_after_zero_run(void **state)
{
	unsigned lost[11];
	size_t off[NREC + 1], n;
	char path[128], log[4096];
	uint8_t *data;
	struct got g;

	(void)state;
	n = one_segment(path, sizeof(path), &data, off);
	for (unsigned i = 0; i < 11; i++)
		lost[i] = 50 + i;
	memset(data + off[50] + 9, 0, off[60] + 20 - (off[50] + 9));
	put_file(path, data, n);
	struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

	assert_all_but(&g, lost, 11);
	assert_int_equal(rs.damaged_regions, 1);
	assert_int_equal(rs.damaged_bytes, off[61] - off[50]);
	assert_int_equal(count_str(log, "\n"), 1);
	got_free(&g);
	/* Zeros from a frame's start on: named as such. */
	memset(data + off[50], 0, off[60] - off[50]);
	put_file(path, data, n);
	read_logged(path, &g, log, sizeof(log));
	assert_all_but(&g, lost, 11);
	assert_non_null(strstr(log, "zero bytes where a frame should be"));
	got_free(&g);
	free(data);
}

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * SEC + (uint64_t)t.tv_nsec;
}

/* A valid header, then 16 MiB of random bytes: nothing read, one line, and
 * the scan costs about a read of the file. */
static void test_resync_pure_garbage(void **state)
{
	const size_t len = 16 << 20;
	uint8_t *junk = malloc(len);
	struct tp_raw_seg_hdr h;
	char path[160], log[4096];
	uint64_t seed = 42, t0;
	struct got g;

	(void)state;
	for (size_t i = 0; i < len; i += 8) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(junk + i, &seed, 8);
	}
	tp_raw_seg_hdr_init(&h, T0, 1, tp_raw_frame_seed(1), 0);
	memcpy(junk, &h, sizeof(h));
	snprintf(path, sizeof(path), "%s/raw-000000000001.seg", dir);
	put_file(path, junk, len);
	t0 = mono_ns();
	struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

	t0 = mono_ns() - t0;
	assert_int_equal(g.n, 0);
	assert_int_equal(rs.segments_damaged, 1);
	assert_int_equal(rs.damaged_regions, 1);
	assert_int_equal(rs.damaged_bytes, len - sizeof(h));
	assert_int_equal(count_str(log, "\n"), 1);
	assert_non_null(strstr(log, "no intact frame from byte 40 to the end"));
	/* ~0.1 s plain here; generous for ASan and a busy machine. */
	assert_true(t0 < 20 * SEC);
	got_free(&g);
	free(junk);
}

/* Frame headers that pass every cheap test at every 16th offset, each
 * claiming 4096 bytes with a wrong CRC: the checksum budget ends the scan. */
static void test_resync_budget(void **state)
{
	const size_t len = 4 << 20;
	uint8_t *junk = calloc(1, len);
	struct tp_raw_seg_reader *r = malloc(sizeof(*r));
	struct tp_raw_frame_hdr f = {
	    .crc = 1, .stored_len = 4096, .record_len = 4096, .ts_wall_ns = T0};
	struct tp_raw_seg_hdr h;
	char path[160], err[256];
	const uint8_t *rec;
	uint32_t rlen;
	uint64_t ts;

	(void)state;
	tp_raw_seg_hdr_init(&h, T0, 1, tp_raw_frame_seed(1), 0);
	memcpy(junk, &h, sizeof(h));
	for (size_t at = sizeof(h); at + sizeof(f) <= len; at += sizeof(f))
		memcpy(junk + at, &f, sizeof(f));
	snprintf(path, sizeof(path), "%s/raw-000000000001.seg", dir);
	put_file(path, junk, len);
	assert_int_equal(tp_raw_seg_open(r, path, err, sizeof(err)), 0);
	assert_int_equal(tp_raw_seg_next(r, &rec, &rlen, &ts), 0);
	assert_int_equal(r->end, TP_RAW_SEG_CORRUPT);
	assert_int_equal(r->records, 0);
	assert_int_equal(r->skipped_regions, 1);
	assert_int_equal(r->skipped_bytes, len - sizeof(h));
	assert_non_null(strstr(r->why, "budget"));
	tp_raw_seg_close(r);
	free(r);
	free(junk);
}

/* Damage in the middle and a torn last frame: both said, each as what it is. */
static void test_resync_then_torn_tail(void **state)
{
	const unsigned lost[] = {30, 199};
	size_t off[NREC + 1], n;
	char path[128], log[4096];
	uint8_t *data;
	struct got g;

	(void)state;
	n = one_segment(path, sizeof(path), &data, off);
	data[off[30] + 20] ^= 4;
	/* Cut inside the last record frame: the header whole, then inside it. */
	for (size_t cut = off[199] + 3; cut < off[200]; cut += 5) {
		put_file(path, data, cut);
		struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

		assert_all_but(&g, lost, 2);
		assert_int_equal(rs.segments_damaged, 1);
		assert_int_equal(rs.segments_unclosed, 1);
		assert_int_equal(rs.damaged_regions, 1);
		assert_int_equal(rs.damaged_bytes, off[31] - off[30]);
		assert_int_equal(count_str(log, "is damaged at byte"), 1);
		assert_int_equal(count_str(log, "has a torn tail at byte"), 1);
		assert_int_equal(count_str(log, "\n"), 2);
		got_free(&g);
	}
	/* Torn alone: no damage reported. */
	data[off[30] + 20] ^= 4;
	put_file(path, data, off[199] + 30);
	struct tp_raw_source_stats rs = read_logged(path, &g, log, sizeof(log));

	assert_int_equal(g.n, 199);
	assert_int_equal(rs.damaged_regions, 0);
	assert_int_equal(count_str(log, "has a torn tail at byte"), 1);
	assert_null(strstr(log, "damaged at"));
	got_free(&g);
	/* A length that claims more than the file holds, frames after it: damage,
	 * not a torn tail. */
	{
		struct tp_raw_frame_hdr f;
		const unsigned lost2[] = {197};

		memcpy(&f, data + off[197], sizeof(f));
		f.stored_len = f.record_len = TP_RECORD_MAX;
		assert_true(off[197] + sizeof(f) + f.stored_len > n);
		memcpy(data + off[197], &f, sizeof(f));
		put_file(path, data, n);
		rs = read_logged(path, &g, log, sizeof(log));
		assert_all_but(&g, lost2, 1);
		assert_int_equal(rs.damaged_regions, 1);
		assert_null(strstr(log, "torn"));
		got_free(&g);
	}
	free(data);
}

static void test_unknown_type_is_skipped(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	uint8_t rec[128] = {0};
	struct tp_hdr h = {.type = TP_TYPE(TP_CAT_MEMORY, 63), .size = sizeof(rec)};
	struct got g;

	(void)state;
	append_fork(w, 1, T0);
	memcpy(rec, &h, sizeof(h));
	assert_int_equal(tp_raw_writer_append(w, T0, rec, sizeof(rec), T0), 0);
	append_fork(w, 2, T0);
	tp_raw_writer_close(w, T0);
	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_int_equal(g.n, 2);
	assert_int_equal(rs.records, 3);
	assert_int_equal(rs.decode_errors, 1);
	got_free(&g);
}

static void test_filters(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	const struct tp_event_type *exit_t = tp_event_type_by_id(TP_EV_PROCESS_EXIT);
	struct tp_raw_filter f = {0};
	uint8_t rec[TP_RECORD_MAX];
	char err[256];
	struct got g;

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		append_fork(w, i, T0);
		make_record(exit_t, exit_t->size, i, rec);
		tp_raw_writer_append(w, T0 + i, rec, exit_t->size, T0);
	}
	tp_raw_writer_close(w, T0);
	f.since_ns = T0 + 10;
	f.until_ns = T0 + 19;
	read_all(dir, &f, &g);
	assert_int_equal(g.n, 20);
	got_free(&g);
	assert_int_equal(tp_raw_filter_add_types(&f, "process.exit", err, sizeof(err)), 0);
	read_all(dir, &f, &g);
	assert_int_equal(g.n, 10);
	for (size_t i = 0; i < g.n; i++)
		assert_int_equal(((struct tp_hdr *)g.v[i].bytes)->type, TP_EV_PROCESS_EXIT);
	got_free(&g);
	memset(&f, 0, sizeof(f));
	assert_int_equal(tp_raw_filter_add_types(&f, "process", err, sizeof(err)), 0);
	read_all(dir, &f, &g);
	assert_int_equal(g.n, 200);
	got_free(&g);
	memset(&f, 0, sizeof(f));
	assert_int_equal(tp_raw_filter_add_types(&f, "network,file", err, sizeof(err)), 0);
	read_all(dir, &f, &g);
	assert_int_equal(g.n, 0);
	got_free(&g);
	assert_int_equal(tp_raw_filter_add_types(&f, "process.nope", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "process.nope"));
}

static void test_write_error_drops_and_resumes(void **state)
{
	struct tp_raw_writer *w = open_writer(64 << 20, 0, 0, 0, T0);
	struct rlimit old, lim;
	struct tp_raw_writer_stats st;
	struct tp_raw_seg_info *s;
	struct got g;
	size_t n;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000; /* writes past 20000 bytes fail with EFBIG */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (unsigned i = 0; i < 1000; i++) {
		append_fork(w, i, T0);
		if (i % 50 == 49)
			tp_raw_writer_flush(w, T0);
	}
	tp_raw_writer_stats(w, &st);
	assert_int_equal(st.last_error, EFBIG);
	assert_true(st.records_dropped > 0);
	assert_true(st.records_written > 0);
	assert_int_equal(st.records_written + st.records_dropped, 1000);
	s = list(&n);
	assert_int_equal(n, 1);
	assert_true(s[0].size <= 20000);
	free(s);
	/* Space returns: the same segment takes the next records. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	for (unsigned i = 1000; i < 1100; i++)
		append_fork(w, i, T0);
	assert_int_equal(tp_raw_writer_flush(w, T0), 0);
	tp_raw_writer_stats(w, &st);
	assert_int_equal(st.last_error, 0);
	uint64_t written = st.records_written;

	tp_raw_writer_close(w, T0);
	/* Only whole frames were left behind: nothing torn, nothing lost
	 * beyond what was counted. */
	struct tp_raw_source_stats rs = read_all(dir, NULL, &g);

	assert_int_equal(g.n, written);
	assert_int_equal(rs.segments_damaged, 0);
	assert_int_equal(pid_of(&g.v[g.n - 1]), 1099);
	got_free(&g);
}

static void test_lock_and_permissions(void **state)
{
	struct tp_raw_writer_opts o = {.dir = NULL, .segment_bytes = 1 << 20};
	struct tp_raw_writer *w, *w2;
	struct tp_raw_seg_info *s;
	char sub[128], p[200], err[256];
	struct stat st;
	mode_t old = umask(0);
	size_t n;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/a/b/raw", dir);
	o.dir = sub;
	assert_int_equal(tp_raw_writer_open(&w, &o, T0, err, sizeof(err)), 0);
	assert_true(tp_raw_dir_active(sub));
	assert_int_equal(tp_raw_writer_open(&w2, &o, T0, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "in use"));
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	uint8_t rec[TP_RECORD_MAX];

	make_record(tp_event_type_by_id(TP_EV_PROCESS_FORK), 72, 1, rec);
	tp_raw_writer_append(w, T0, rec, 72, T0);
	tp_raw_writer_close(w, T0);
	assert_false(tp_raw_dir_active(sub));
	assert_int_equal(tp_raw_list(sub, &s, &n), 0);
	assert_int_equal(n, 1);
	snprintf(p, sizeof(p), "%s/%s", sub, s[0].name);
	free(s);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* The next writer starts a new segment instead of appending. */
	assert_int_equal(tp_raw_writer_open(&w, &o, T0, err, sizeof(err)), 0);
	tp_raw_writer_append(w, T0, rec, 72, T0);
	tp_raw_writer_close(w, T0);
	assert_int_equal(tp_raw_list(sub, &s, &n), 0);
	assert_int_equal(n, 2);
	free(s);
	umask(old);
	/* A path that cannot be a directory. */
	snprintf(sub, sizeof(sub), "%s/a/b/raw/%s", dir, "raw-000000000001.seg");
	assert_true(tp_raw_writer_open(&w, &o, T0, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "raw dir"));
}

static void test_parse_time(void **state)
{
	uint64_t t, now = 1714557600ull * SEC + 5;

	(void)state;
	assert_int_equal(tp_raw_parse_time("2024-05-01T10:00:00Z", now, &t), 0);
	assert_int_equal(t, 1714557600ull * SEC);
	assert_int_equal(tp_raw_parse_time("2024-05-01T12:00:00.25+02:00", now, &t), 0);
	assert_int_equal(t, 1714557600ull * SEC + 250000000);
	assert_int_equal(tp_raw_parse_time("2024-05-01", now, &t), 0);
	assert_int_equal(t, 1714521600ull * SEC);
	assert_int_equal(tp_raw_parse_time("@1714557600.5", now, &t), 0);
	assert_int_equal(t, 1714557600ull * SEC + 500000000);
	assert_int_equal(tp_raw_parse_time("1714557600123456789", now, &t), 0);
	assert_int_equal(t, 1714557600123456789ull);
	assert_int_equal(tp_raw_parse_time("15m", now, &t), 0);
	assert_int_equal(t, now - 900 * SEC);
	assert_int_equal(tp_raw_parse_time("-2h", now, &t), 0);
	assert_int_equal(t, now - 7200 * SEC);
	static const char *const bad[] = {"",
					  "yesterday",
					  "2024-05-01T10:00:00",
					  "2024-13-01",
					  "@",
					  "@12x",
					  "15",
					  "5 m",
					  "1e400",
					  "2024-05-01T25:00:00Z",
					  "99999999999999999999999"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tp_raw_parse_time(bad[i], now, &t), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
	    T(test_roundtrip_every_type),
	    T(test_rotation_by_size),
	    T(test_write_behind),
	    T(test_rotation_by_age),
	    T(test_retention_by_size),
	    T(test_retention_by_age),
	    T(test_reused_file_not_closed),
	    T(test_reused_while_read),
	    T(test_torn_tail_at_every_offset),
	    T(test_damaged_segments_are_skipped),
	    T(test_resync_after_flipped_byte),
	    T(test_resync_several_regions),
	    T(test_resync_inside_first_frame),
	    T(test_resync_after_zero_run),
	    T(test_resync_pure_garbage),
	    T(test_resync_budget),
	    T(test_resync_then_torn_tail),
	    T(test_unknown_type_is_skipped),
	    T(test_filters),
	    T(test_write_error_drops_and_resumes),
	    T(test_lock_and_permissions),
	    T(test_parse_time),
	};

	tp_log_set_level(TP_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
