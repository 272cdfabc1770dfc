#include "delivery/backoff.h"

void tp_backoff_init(struct tp_backoff *b, uint64_t min_ns, uint64_t max_ns, uint64_t seed)
{
	b->min_ns = min_ns ? min_ns : 1;
	b->max_ns = max_ns < b->min_ns ? b->min_ns : max_ns;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

uint64_t tp_backoff_next(struct tp_backoff *b)
{
	uint64_t base = b->min_ns;

	for (unsigned i = 0; i < b->attempt && base < b->max_ns; i++)
		base = base > b->max_ns / 2 ? b->max_ns : base * 2;
	if (base > b->max_ns)
		base = b->max_ns;
	if (b->attempt < 64)
		b->attempt++;
	return base - base / 2 + xorshift64(&b->rng) % (base / 2 + 1);
}
