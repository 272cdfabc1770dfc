#include "bpf/source_bpf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/ringbuf.h"
#include "events/decode.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "util/time.h"

struct bpf_source;

struct drop_slot_ctx {
	struct bpf_source *s;
	int slot;
};

struct kstat_ctx {
	struct bpf_source *s;
	int slot;
};

struct bpf_source {
	struct tp_source base;
	struct tp_bpf *bpf;
	struct tp_ringbuf rb;
	int64_t boot_to_wall;
	uint64_t offset_refreshed_ns;
	struct tp_event ev; /* reused for every record */
	tp_event_fn fn;
	void *fn_ctx;
	uint64_t decode_errors[TP_DECODE_NERRORS];
	uint64_t kernel_drops[TP_DROP_SLOTS];
	struct tp_metric m_kernel_drops[TP_DROP_SLOTS];
	struct tp_metric m_decode_errors;
	struct tp_metric m_records;
	struct tp_metric m_ring_used;
	struct tp_metric m_ring_size;
	struct drop_slot_ctx drop_ctx[TP_DROP_SLOTS];
	char drop_labels[TP_DROP_SLOTS][48];
	/* What the in-kernel filters did, per category and reason. */
	uint64_t kstats[TP_KSTAT_SLOTS];
	uint64_t kstats_read_ns;
	struct tp_metric m_kstats[TP_KSTAT_SLOTS];
	struct kstat_ctx kstat_ctx[TP_KSTAT_SLOTS];
	char kstat_labels[TP_KSTAT_SLOTS][64];
};

static int on_record(void *ctx, const void *data, uint32_t len)
{
	struct bpf_source *s = ctx;
	int r;

	/* A record that ends with its path (its type's ends_with_path) may end
	 * before the ring space reserved for it (a size class:
	 * bpf/file.bpf.c): its header's size is where it ends. Every other
	 * type is reserved at its size, so a header that says otherwise stays
	 * the decoder's to refuse. */
	if (len >= sizeof(struct tp_hdr)) {
		const struct tp_hdr *h = data;
		const struct tp_event_type *t = tp_event_type_by_id(h->type);

		if (t && t->ends_with_path && h->size >= sizeof(*h) && h->size < len)
			len = h->size;
	}
	r = tp_decode(data, len, s->boot_to_wall, &s->ev);
	if (r < 0) {
		/* Count, and say once per kind: a decode error means a bug or a
		 * mismatched BPF object, never something to ignore silently. */
		if (s->decode_errors[-r]++ == 0)
			tp_warn("dropping a kernel record: %s (len %u); further ones are only counted",
				tp_decode_strerror(r), len);
		tp_metric_add(&s->m_decode_errors, 1);
		return 0;
	}
	return s->fn(s->fn_ctx, &s->ev);
}

static int bpf_poll(struct tp_source *src, int timeout_ms, int max, tp_event_fn fn, void *ctx)
{
	struct bpf_source *s = (struct bpf_source *)src;
	uint64_t now;
	int n, r;

	if (tp_ringbuf_pending(&s->rb) == 0 && timeout_ms != 0) {
		r = tp_ringbuf_wait(&s->rb, timeout_ms);
		if (r < 0)
			return r;
	}
	/* Wall clock may be stepped (NTP): follow it once a second. */
	now = tp_mono_ns();
	if (now - s->offset_refreshed_ns > TP_NSEC_PER_SEC) {
		s->boot_to_wall = tp_boot_to_wall_offset();
		s->offset_refreshed_ns = now;
	}
	s->fn = fn;
	s->fn_ctx = ctx;
	n = tp_ringbuf_consume(&s->rb, max, on_record, s);
	if (n > 0)
		tp_metric_add(&s->m_records, (uint64_t)n);
	return n;
}

static uint64_t bpf_decode_errors(const struct tp_source *src, int kind)
{
	const struct bpf_source *s = (const struct bpf_source *)src;

	return kind > 0 && kind < TP_DECODE_NERRORS ? s->decode_errors[kind] : 0;
}

static void bpf_close(struct tp_source *src)
{
	struct bpf_source *s = (struct bpf_source *)src;

	tp_metric_unregister(&s->m_decode_errors);
	tp_metric_unregister(&s->m_records);
	tp_metric_unregister(&s->m_ring_used);
	tp_metric_unregister(&s->m_ring_size);
	for (int i = 1; i < TP_DROP_SLOTS; i++)
		tp_metric_unregister(&s->m_kernel_drops[i]);
	for (int i = 0; i < TP_KSTAT_SLOTS; i++)
		if (s->m_kstats[i].name)
			tp_metric_unregister(&s->m_kstats[i]);
	tp_ringbuf_close(&s->rb);
	tp_bpf_close(s->bpf);
	free(s);
}

/* The programs stop recording at once; detaching waits for the close. */
static void bpf_stop(struct tp_source *src)
{
	struct tp_bpf *b = ((struct bpf_source *)src)->bpf;

	if (tp_bpf_pause(b) < 0)
		tp_bpf_detach(b);
}

static const struct tp_source_ops bpf_source_ops = {
	.name = "bpf",
	.poll = bpf_poll,
	.stop = bpf_stop,
	.decode_errors = bpf_decode_errors,
	.close = bpf_close,
};

static double read_ring_used(void *ctx)
{
	return (double)tp_ringbuf_pending(&((struct bpf_source *)ctx)->rb);
}

static double read_ring_size(void *ctx)
{
	return (double)tp_ringbuf_size(&((struct bpf_source *)ctx)->rb);
}

/* Kernel drops are read from the map when metrics are rendered. */
static double read_drop_slot(void *ctx)
{
	struct drop_slot_ctx *d = ctx;
	struct bpf_source *s = d->s;
	int slot = d->slot;
	uint64_t drops[TP_DROP_SLOTS];

	if (tp_bpf_read_drops(s->bpf, drops) < 0)
		return (double)s->kernel_drops[slot];
	s->kernel_drops[slot] = drops[slot];
	return (double)drops[slot];
}

/* The kernel's filter counters, read once per rendering rather than once
 * per metric. */
static double read_kstat_slot(void *ctx)
{
	struct kstat_ctx *k = ctx;
	struct bpf_source *s = k->s;
	uint64_t now = tp_mono_ns();

	if (now - s->kstats_read_ns > 100 * TP_NSEC_PER_MSEC || !s->kstats_read_ns) {
		if (tp_bpf_read_kstats(s->bpf, s->kstats) == 0)
			s->kstats_read_ns = now;
	}
	return (double)s->kstats[k->slot];
}

static void register_kstats(struct bpf_source *s)
{
	for (int cat = 1; cat < TP_CAT_KERNEL_MAX; cat++) {
		for (int reason = 0; reason < TP_KSTAT_N; reason++) {
			int slot = cat * TP_KSTAT_N + reason;
			struct tp_metric *m = &s->m_kstats[slot];

			if (reason == TP_KSTAT_EMITTED) {
				*m = (struct tp_metric)TP_COUNTER_INIT(
					"tapio_kernel_emitted_total",
					"Records the kernel side put in the ring buffer, by category.");
				snprintf(s->kstat_labels[slot], sizeof(s->kstat_labels[slot]),
					 "category=\"%s\"", tp_category_name((unsigned)cat));
			} else if (reason == TP_KSTAT_SAMPLED) {
				*m = (struct tp_metric)TP_COUNTER_INIT(
					"tapio_kernel_sampled_total",
					"Events left out by in-kernel 1-in-N sampling, by category.");
				snprintf(s->kstat_labels[slot], sizeof(s->kstat_labels[slot]),
					 "category=\"%s\"", tp_category_name((unsigned)cat));
			} else {
				*m = (struct tp_metric)TP_COUNTER_INIT(
					"tapio_kernel_filtered_total",
					"Events dropped by in-kernel filters, by category and reason "
					"(comm, path, failed, setting).");
				snprintf(s->kstat_labels[slot], sizeof(s->kstat_labels[slot]),
					 "category=\"%s\",reason=\"%s\"", tp_category_name((unsigned)cat),
					 tp_kstat_name((unsigned)reason));
			}
			m->labels = s->kstat_labels[slot];
			s->kstat_ctx[slot].s = s;
			s->kstat_ctx[slot].slot = slot;
			m->read = read_kstat_slot;
			m->ctx = &s->kstat_ctx[slot];
			tp_metric_register(m);
		}
	}
}

int tp_source_bpf_open(struct tp_source **out, const struct tp_bpf_opts *opts, char *err,
		       size_t errlen)
{
	struct bpf_source *s;
	int r;

	*out = NULL;
	r = tp_bpf_preflight(err, errlen);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->base.ops = &bpf_source_ops;
	s->rb.epoll_fd = -1;
	r = tp_bpf_open(&s->bpf, opts, err, errlen);
	if (r < 0) {
		free(s);
		return r;
	}
	r = tp_ringbuf_open(&s->rb, tp_bpf_ring_fd(s->bpf));
	if (r < 0) {
		snprintf(err, errlen, "cannot map the BPF ring buffer: %s", strerror(-r));
		tp_bpf_close(s->bpf);
		free(s);
		return r;
	}
	s->boot_to_wall = tp_boot_to_wall_offset();
	s->offset_refreshed_ns = tp_mono_ns();

	s->m_records = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_kernel_records_total", "Records read from the BPF ring buffer.");
	s->m_decode_errors = (struct tp_metric)TP_COUNTER_INIT(
		"tapio_decode_errors_total", "Kernel records dropped because they could not be decoded.");
	s->m_ring_used = (struct tp_metric)TP_GAUGE_INIT(
		"tapio_ring_buffer_used_bytes", "Bytes in the BPF ring buffer not yet read.");
	s->m_ring_used.read = read_ring_used;
	s->m_ring_used.ctx = s;
	s->m_ring_size = (struct tp_metric)TP_GAUGE_INIT("tapio_ring_buffer_size_bytes",
							 "Size of the BPF ring buffer.");
	s->m_ring_size.read = read_ring_size;
	s->m_ring_size.ctx = s;
	tp_metric_register(&s->m_records);
	tp_metric_register(&s->m_decode_errors);
	tp_metric_register(&s->m_ring_used);
	tp_metric_register(&s->m_ring_size);
	for (int i = 1; i < TP_DROP_SLOTS; i++) {
		snprintf(s->drop_labels[i], sizeof(s->drop_labels[i]), "category=\"%s\"",
			 tp_category_name((unsigned)i));
		s->m_kernel_drops[i] = (struct tp_metric)TP_COUNTER_INIT(
			"tapio_kernel_drops_total",
			"Records the kernel could not put in the ring buffer (ring full), by category.");
		s->m_kernel_drops[i].labels = s->drop_labels[i];
		s->drop_ctx[i].s = s;
		s->drop_ctx[i].slot = i;
		s->m_kernel_drops[i].read = read_drop_slot;
		s->m_kernel_drops[i].ctx = &s->drop_ctx[i];
		tp_metric_register(&s->m_kernel_drops[i]);
	}
	register_kstats(s);
	*out = &s->base;
	return 0;
}

struct tp_bpf *tp_source_bpf_loader(struct tp_source *src)
{
	return ((struct bpf_source *)src)->bpf;
}
