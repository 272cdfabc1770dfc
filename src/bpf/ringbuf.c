#include "bpf/ringbuf.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

/* Publish the consumer position at least this often within a batch. */
#define PUBLISH_EVERY 64

/* Bytes of the next record fetched into the cache while this one is in the
 * callback: its ring header, the event header (72 bytes) and what follows it
 * (a file record's path). The kernel wrote them on another CPU, so the
 * first read of each line is a miss; the pipeline takes a few hundred
 * nanoseconds a record, time enough for the fetch. */
#define PREFETCH_BYTES 256

static inline void prefetch_lines(const uint8_t *p)
{
	for (unsigned off = 0; off < PREFETCH_BYTES; off += 64)
		__builtin_prefetch(p + off, 0, 3);
}

int tp_ringbuf_open(struct tp_ringbuf *rb, int map_fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct epoll_event ev = { .events = EPOLLIN };
	void *p;
	int r;

	memset(rb, 0, sizeof(*rb));
	rb->epoll_fd = -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len) < 0)
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	rb->map_fd = map_fd;
	rb->page_size = (size_t)sysconf(_SC_PAGESIZE);
	rb->mask = info.max_entries - 1;

	/* The consumer page is ours to write; the producer page and the data
	 * are read-only, the data mapped twice so a record that wraps around
	 * the end is contiguous. */
	p = mmap(NULL, rb->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	rb->consumer_pos = p;
	rb->data_map_len = rb->page_size + 2 * (size_t)info.max_entries;
	p = mmap(NULL, rb->data_map_len, PROT_READ, MAP_SHARED, map_fd, (off_t)rb->page_size);
	if (p == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	rb->producer_pos = p;
	rb->data = (uint8_t *)p + rb->page_size;

	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epoll_fd < 0) {
		r = -errno;
		goto fail;
	}
	if (epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	tp_ringbuf_close(rb);
	return r;
}

void tp_ringbuf_close(struct tp_ringbuf *rb)
{
	if (rb->consumer_pos)
		munmap(rb->consumer_pos, rb->page_size);
	if (rb->producer_pos)
		munmap(rb->producer_pos, rb->data_map_len);
	if (rb->epoll_fd >= 0)
		close(rb->epoll_fd);
	memset(rb, 0, sizeof(*rb));
	rb->epoll_fd = -1;
}

int tp_ringbuf_consume(struct tp_ringbuf *rb, int max, tp_ringbuf_fn fn, void *ctx)
{
	unsigned long cons = *rb->consumer_pos; /* only we write it */
	unsigned long prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	int n = 0, since_publish = 0, r = 0;

	while (n < max) {
		if (cons >= prod) {
			/* Caught up with the snapshot: look again before leaving. */
			prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
			if (cons >= prod)
				break;
		}
		const uint32_t *hdr = (const uint32_t *)(rb->data + (cons & rb->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);

		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet submitted: records stay in order */
		uint32_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		const void *rec = (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ;

		cons += (size + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
		if (cons < prod)
			prefetch_lines(rb->data + (cons & rb->mask));
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			n++;
			r = fn(ctx, rec, size);
		}
		if (r < 0 || ++since_publish == PUBLISH_EVERY) {
			__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
			since_publish = 0;
			if (r < 0)
				return r;
		}
	}
	__atomic_store_n(rb->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}

int tp_ringbuf_wait(struct tp_ringbuf *rb, int timeout_ms)
{
	struct epoll_event ev;

	if (epoll_wait(rb->epoll_fd, &ev, 1, timeout_ms) < 0)
		return -errno;
	return 0;
}

uint64_t tp_ringbuf_pending(const struct tp_ringbuf *rb)
{
	unsigned long prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	unsigned long cons = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);

	return prod - cons;
}

uint64_t tp_ringbuf_size(const struct tp_ringbuf *rb)
{
	return rb->mask + 1;
}
