/*
 * tests/bench/bench_util.h - what the benchmark drivers share: medians of
 * their rounds (the machine is shared and noisy: report medians, compare
 * ratios within one run).
 */
#ifndef TAPIO_BENCH_UTIL_H
#define TAPIO_BENCH_UTIL_H

#include <stdint.h>
#include <stdlib.h>

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median of n rounds (sorts v): the middle one, or the mean of the two
 * middle ones. */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The same for integer nanoseconds: the upper middle round. */
static inline uint64_t median_u64(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_u64);
	return v[n / 2];
}

#endif
