#include "sink/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/json.h"
#include "tapio/v1/tapio.pb-c.h"

#define DEDUP_MAX_COLLECTORS 100000
#define DEDUP_MAX_RANGES 100000

void tp_sink_state_init(struct tp_sink_state *s, int out_fd, bool fsync)
{
	memset(s, 0, sizeof(*s));
	s->out_fd = out_fd;
	s->fsync = fsync;
	tp_dedup_init(&s->dedup, DEDUP_MAX_COLLECTORS, DEDUP_MAX_RANGES);
	tp_buf_init(&s->lines);
}

void tp_sink_state_free(struct tp_sink_state *s)
{
	tp_dedup_free(&s->dedup);
	tp_buf_free(&s->lines);
}

/* The dedup key of a collector id: its JSON-escaped text, as it appears in
 * the output file, so ids read back from the file compare as they are. */
static void id_key(struct tp_buf *b, const char *id)
{
	tp_buf_reset(b);
	tp_buf_json_str(b, id, strlen(id));
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

enum tp_sink_verdict tp_sink_handle(struct tp_sink_state *s, const uint8_t *msg, size_t len,
				    uint64_t *seq, char *err, size_t errlen)
{
	Tapio__V1__TapioStreamEventsRequest *req;
	const Tapio__V1__EventBatch *b;
	enum tp_sink_verdict v = TP_SINK_WRITTEN;
	struct tp_buf key;
	off_t before;
	int r;

	*seq = 0;
	req = tapio__v1__tapio_stream_events_request__unpack(NULL, len,
							     len ? msg : (const uint8_t *)"");
	if (!req) {
		snprintf(err, errlen, "%zu bytes that are not a TapioStreamEventsRequest", len);
		s->bad_requests++;
		return TP_SINK_BAD;
	}
	b = req->batch;
	if (!b || !*b->collector_id || !b->sequence) {
		snprintf(err, errlen, "a request needs a batch with a collector id and a sequence");
		s->bad_requests++;
		tapio__v1__tapio_stream_events_request__free_unpacked(req, NULL);
		return TP_SINK_BAD;
	}
	*seq = b->sequence;
	tp_buf_init(&key);
	id_key(&key, b->collector_id);
	if (tp_buf_failed(&key)) {
		snprintf(err, errlen, "out of memory");
		v = TP_SINK_IO_ERROR;
		goto out;
	}
	if (tp_dedup_seen(&s->dedup, key.data, key.len, b->sequence)) {
		s->duplicates++;
		v = TP_SINK_DUPLICATE;
		goto out;
	}
	tp_buf_reset(&s->lines);
	tp_sink_batch_json(b, &s->lines);
	if (tp_buf_failed(&s->lines)) {
		snprintf(err, errlen, "out of memory");
		v = TP_SINK_IO_ERROR;
		goto out;
	}
	/* One write per batch; if it fails, cut what it left so the file holds
	 * whole batches only, and take no ack: the collector sends it again. */
	before = lseek(s->out_fd, 0, SEEK_END);
	r = write_all(s->out_fd, s->lines.data, s->lines.len);
	if (!r && s->fsync && fsync(s->out_fd) < 0 && errno != EINVAL)
		r = -errno;
	if (r < 0) {
		if (before >= 0 && ftruncate(s->out_fd, before) < 0)
			r = -errno;
		snprintf(err, errlen, "cannot write the output: %s", strerror(-r));
		v = TP_SINK_IO_ERROR;
		goto out;
	}
	if (tp_dedup_add(&s->dedup, key.data, key.len, b->sequence) < 0) {
		snprintf(err, errlen, "out of memory");
		v = TP_SINK_IO_ERROR;
		goto out;
	}
	s->batches++;
	s->events += b->n_events;
out:
	tp_buf_free(&key);
	tapio__v1__tapio_stream_events_request__free_unpacked(req, NULL);
	return v;
}

/* '{"collector_id":"<escaped>","batch_seq":<n>,' at the start of a line. */
static bool parse_line_key(const char *line, size_t n, const char **id, size_t *idlen,
			   uint64_t *seq)
{
	static const char p1[] = "{\"collector_id\":\"", p2[] = "\",\"batch_seq\":";
	size_t i = sizeof(p1) - 1, start;
	uint64_t v = 0;
	bool digits = false;

	if (n < i || memcmp(line, p1, i))
		return false;
	start = i;
	while (i < n && line[i] != '"') {
		if (line[i] == '\\')
			i++;
		i++;
	}
	if (i >= n || n - i < sizeof(p2) - 1 || memcmp(line + i, p2, sizeof(p2) - 1))
		return false;
	*id = line + start - 1; /* with its quotes, as id_key makes it */
	*idlen = i - start + 2;
	for (i += sizeof(p2) - 1; i < n && line[i] >= '0' && line[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(line[i] - '0');
		digits = true;
	}
	*seq = v;
	return digits && v;
}

int tp_sink_recover(struct tp_sink_state *s, int fd, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL, *cur_id = NULL;
	size_t cap = 0, cur_idlen = 0;
	ssize_t n;
	off_t off = 0, group_start = 0;
	uint64_t cur_seq = 0, batches = 0;
	bool have_group = false, complete = true;
	int dupfd = dup(fd), r = 0;

	if (dupfd < 0 || lseek(dupfd, 0, SEEK_SET) < 0 || !(f = fdopen(dupfd, "r"))) {
		r = -errno;
		if (dupfd >= 0)
			close(dupfd);
		snprintf(err, errlen, "cannot read the output file back: %s", strerror(-r));
		return r;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *id;
		size_t idlen;
		uint64_t seq;

		complete = line[n - 1] == '\n';
		if (parse_line_key(line, (size_t)n, &id, &idlen, &seq) &&
		    (!have_group || seq != cur_seq || idlen != cur_idlen ||
		     memcmp(id, cur_id, idlen))) {
			/* A new batch begins: the previous one was whole. */
			if (have_group) {
				if (tp_dedup_add(&s->dedup, cur_id, cur_idlen, cur_seq) < 0) {
					r = -ENOMEM;
					break;
				}
				batches++;
			}
			free(cur_id);
			cur_id = malloc(idlen);
			if (!cur_id) {
				r = -ENOMEM;
				break;
			}
			memcpy(cur_id, id, idlen);
			cur_idlen = idlen;
			cur_seq = seq;
			have_group = true;
			group_start = off;
		}
		off += n;
	}
	if (!r && have_group) {
		if (complete) {
			r = tp_dedup_add(&s->dedup, cur_id, cur_idlen, cur_seq);
			batches++;
		} else if (ftruncate(fd, group_start) < 0) {
			r = -errno;
		} else {
			fprintf(stderr,
				"tapio-sink: the output ended inside batch %llu: cut it off, it will "
				"be taken again when resent\n",
				(unsigned long long)cur_seq);
		}
	} else if (!r && !complete && off > 0) {
		/* A partial line that is not ours: end it so ours start clean. */
		r = write_all(fd, "\n", 1);
	}
	free(line);
	free(cur_id);
	fclose(f);
	if (r < 0)
		snprintf(err, errlen, "cannot recover the output file: %s", strerror(-r));
	else if (batches)
		fprintf(stderr, "tapio-sink: %llu batches already in the output\n",
			(unsigned long long)batches);
	return r;
}
