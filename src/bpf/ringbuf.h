/*
 * ringbuf.h - a consumer of a BPF ring buffer map, bounded per call.
 *
 * libbpf 1.1's ring_buffer__consume drains until the ring is empty, which
 * under a producer faster than the consumer may never return. This consumer
 * takes at most max records per call and publishes its position every few
 * records, so the kernel gets space back during a long batch, and the caller
 * keeps control of signals, reloads and timers.
 *
 * Records are passed to the callback in place (zero copy); the pointer is
 * valid until the callback returns.
 */
#ifndef TAPIO_BPF_RINGBUF_H
#define TAPIO_BPF_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tp_ringbuf {
	int map_fd;
	int epoll_fd;
	size_t page_size;
	uint64_t mask;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	uint8_t *data;
	size_t data_map_len;
};

/* Return < 0 to stop: the record counts as consumed, the error is returned. */
typedef int (*tp_ringbuf_fn)(void *ctx, const void *data, uint32_t len);

int tp_ringbuf_open(struct tp_ringbuf *rb, int map_fd);
void tp_ringbuf_close(struct tp_ringbuf *rb);

/* Consume up to max records. Returns the number consumed (>= 0) or the
 * callback's error. */
int tp_ringbuf_consume(struct tp_ringbuf *rb, int max, tp_ringbuf_fn fn, void *ctx);

/* Wait until the kernel signals data or timeout_ms passes (0 or -errno). */
int tp_ringbuf_wait(struct tp_ringbuf *rb, int timeout_ms);

/* Bytes written by the kernel and not yet consumed. */
uint64_t tp_ringbuf_pending(const struct tp_ringbuf *rb);
uint64_t tp_ringbuf_size(const struct tp_ringbuf *rb);

#endif
