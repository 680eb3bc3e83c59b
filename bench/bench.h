/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the benchmarks: clocks, medians, result lists. */
#ifndef NETMEM_BENCH_H
#define NETMEM_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netmem/pool.h"

static inline double bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n samples (sorts them in place). */
static inline double bench_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keep the compiler from optimising a value or a loop away. */
#define bench_keep(x) __asm__ volatile("" : : "r"(x) : "memory")

/* ns per owner alloc+put of one whole chunk: the pool's fast path, and the
 * baseline bench frag compares fragments with. */
static inline double bench_chunk_alloc_put(struct netmem_pool *pool, long iters)
{
	double t = bench_now_ns();

	for (long i = 0; i < iters; i++) {
		netmem_t h = netmem_pool_alloc_direct(pool);

		bench_keep(h);
		netmem_pool_put_direct(pool, h);
	}
	return (bench_now_ns() - t) / (double)iters;
}

#define BENCH_MAX_RESULTS 32

struct bench_results {
	int n;
	const char *name[BENCH_MAX_RESULTS];
	double value[BENCH_MAX_RESULTS];
};

static inline void bench_add(struct bench_results *r, const char *name, double v)
{
	if (r->n < BENCH_MAX_RESULTS) {
		r->name[r->n] = name;
		r->value[r->n++] = v;
	}
}

static inline double bench_get(const struct bench_results *r, const char *name)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->name[i], name))
			return r->value[i];
	return -1;
}

#endif
