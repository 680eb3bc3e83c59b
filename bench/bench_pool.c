/* SPDX-License-Identifier: MIT */
/*
 * netmem bench pool: the pool's fast paths beside baselines measured in the
 * same run: an empty loop, malloc/free of 2 KiB, and (when built with DPDK)
 * rte_mempool with a per-lcore cache of 256. Medians over repetitions, the
 * repetitions of all figures interleaved.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"
#include "bench.h"
#include "../tools/cmds.h"

/* bench/dpdk_peer.c, linked only when DPDK is installed. */
int netmem_dpdk_peer(long iters, int reps, double *cached_ns, double *bulk32_ns)
	__attribute__((weak));

static long iters = 2000000;
static int reps = 7;

static double bench_empty_loop(void)
{
	double t = bench_now_ns();

	for (long i = 0; i < iters; i++)
		bench_keep(i);
	return (bench_now_ns() - t) / (double)iters;
}

static double bench_malloc_free(void)
{
	double t = bench_now_ns();

	for (long i = 0; i < iters; i++) {
		void *p = malloc(2048);

		bench_keep(p);
		free(p);
	}
	return (bench_now_ns() - t) / (double)iters;
}

static double bench_alloc_put(struct netmem_pool *pool)
{
	return bench_chunk_alloc_put(pool, iters);
}

static double bench_bulk32(struct netmem_pool *pool)
{
	netmem_t h[32];
	long rounds = iters / 32;
	double t = bench_now_ns();

	for (long i = 0; i < rounds; i++) {
		unsigned n = netmem_pool_alloc_bulk_direct(pool, h, 32);

		bench_keep(h);
		netmem_pool_put_bulk_direct(pool, h, n);
	}
	return (bench_now_ns() - t) / (double)(rounds * 32);
}

/* Cross-thread: the owner allocates batches of 32 and hands them over a
 * single-producer single-consumer queue to a thread that puts them with
 * netmem_put_bulk() into the pool's recycle ring; the owner refills from
 * the ring when its cache runs dry. */
#define XQ 256
struct xfer {
	_Atomic unsigned long head __attribute__((aligned(64)));
	_Atomic unsigned long tail __attribute__((aligned(64)));
	netmem_t batch[XQ][32] __attribute__((aligned(64)));
	_Atomic int stop;
};

static void *xfer_putter(void *arg)
{
	struct xfer *x = arg;
	unsigned long t = 0;

	for (;;) {
		/* acquire: the batch contents written before head moved */
		unsigned long h = atomic_load_explicit(&x->head, memory_order_acquire);

		if (t == h) {
			if (atomic_load_explicit(&x->stop, memory_order_acquire))
				break;
			continue;
		}
		for (; t != h; t++)
			netmem_put_bulk(x->batch[t % XQ], 32);
		/* release: the slots are free for the owner again */
		atomic_store_explicit(&x->tail, t, memory_order_release);
	}
	return NULL;
}

static double bench_cross_thread(struct netmem_pool *pool)
{
	struct xfer *x = aligned_alloc(64, sizeof(*x));
	long rounds = iters / 32, done = 0;
	pthread_t th;
	double t;

	memset(x, 0, sizeof(*x));
	if (pthread_create(&th, NULL, xfer_putter, x))
		return -1;
	t = bench_now_ns();
	while (done < rounds) {
		unsigned long h = atomic_load_explicit(&x->head, memory_order_relaxed);
		unsigned n;

		if (h - atomic_load_explicit(&x->tail, memory_order_acquire) >= XQ)
			continue;
		n = netmem_pool_alloc_bulk_direct(pool, x->batch[h % XQ], 32);
		if (n < 32) { /* everything is in flight: give back and retry */
			netmem_pool_put_bulk_direct(pool, x->batch[h % XQ], n);
			continue;
		}
		atomic_store_explicit(&x->head, h + 1, memory_order_release);
		done++;
	}
	while (atomic_load_explicit(&x->tail, memory_order_acquire) != (unsigned long)rounds)
		;
	t = bench_now_ns() - t;
	atomic_store_explicit(&x->stop, 1, memory_order_release);
	pthread_join(th, NULL);
	free(x);
	return t / (double)(rounds * 32);
}

enum { B_EMPTY, B_MALLOC, B_ALLOC_PUT, B_BULK32, B_CROSS, B_DPDK_CACHED, B_DPDK_BULK32, B_N };

/*
 * One repetition of every figure but malloc's, the DPDK peer's included,
 * then the next:
 * the repetitions of all figures interleave, so that a change in the
 * machine's speed during the run hits every figure alike and the ratios
 * compare runs taken side by side. v[k][rep]; returns whether the DPDK peer
 * ran every time.
 */
static int run_interleaved(struct netmem_pool *pool, double v[B_N][64])
{
	int dpdk = netmem_dpdk_peer != NULL;

	/* malloc first and on its own: glibc takes its single-thread path for
	 * 2 KiB blocks only until the process's first thread (the
	 * cross-thread figure's) starts, and that is the figure kept. */
	bench_malloc_free();
	for (int i = 0; i < reps; i++)
		v[B_MALLOC][i] = bench_malloc_free();
	/* Warm up. */
	bench_empty_loop();
	bench_alloc_put(pool);
	bench_bulk32(pool);
	for (int i = 0; i < reps; i++) {
		v[B_EMPTY][i] = bench_empty_loop();
		v[B_ALLOC_PUT][i] = bench_alloc_put(pool);
		v[B_BULK32][i] = bench_bulk32(pool);
		v[B_CROSS][i] = bench_cross_thread(pool);
		if (dpdk && netmem_dpdk_peer(iters, 1, &v[B_DPDK_CACHED][i], &v[B_DPDK_BULK32][i]))
			dpdk = 0;
	}
	return dpdk;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: netmem bench pool [--json] [--provider SPEC] [--iters N] [--reps N]\n");
}

int netmem_cmd_bench_pool(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "provider", required_argument, NULL, 'p' },
		{ "iters", required_argument, NULL, 'i' },
		{ "reps", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = "host";
	struct bench_results r = { 0 };
	struct netmem_provider *prov;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	int json = 0, c, status;
	double dpdk_cached = -1, dpdk_bulk = -1;
	static double v[B_N][64];
	int dpdk;
	uint64_t num;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'p': spec = optarg; break;
		case 'i':
			if (netmem_arg_u64("bench pool", "--iters", optarg, 64, UINT64_C(1) << 40, &num))
				return 2;
			iters = (long)num;
			break;
		case 'r':
			if (netmem_arg_u64("bench pool", "--reps", optarg, 1, 64, &num))
				return 2;
			reps = (int)num;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (netmem_arg_none("bench pool", argc, argv, optind)) {
		usage(stderr);
		return 2;
	}
	prov = netmem_arg_provider("bench pool", spec, &status);
	if (!prov)
		return status;
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 4096;
	pp.ring_size = 4096;
	pool = netmem_pool_create(&pp);
	if (!pool) {
		fprintf(stderr, "netmem bench pool: %s\n", netmem_last_error());
		netmem_provider_destroy(prov);
		return 1;
	}
	dpdk = run_interleaved(pool, v);
	bench_add(&r, "empty_loop", bench_median(v[B_EMPTY], reps));
	bench_add(&r, "malloc_free_2k", bench_median(v[B_MALLOC], reps));
	bench_add(&r, "netmem_alloc_put", bench_median(v[B_ALLOC_PUT], reps));
	bench_add(&r, "netmem_bulk32", bench_median(v[B_BULK32], reps));
	bench_add(&r, "netmem_cross_thread", bench_median(v[B_CROSS], reps));
	if (dpdk) {
		dpdk_cached = bench_median(v[B_DPDK_CACHED], reps);
		dpdk_bulk = bench_median(v[B_DPDK_BULK32], reps);
		bench_add(&r, "dpdk_cached_get_put", dpdk_cached);
		bench_add(&r, "dpdk_bulk32", dpdk_bulk);
	}
	if (json) {
		printf("{\"benchmark\":\"pool\",\"provider\":\"%s\",\"iters\":%ld,\"reps\":%d,\"results\":[",
		       spec, iters, reps);
		for (int i = 0; i < r.n; i++)
			printf("%s{\"name\":\"%s\",\"ns_per_op\":%.3f}", i ? "," : "", r.name[i],
			       r.value[i]);
		printf("]");
		if (dpdk_cached > 0)
			printf(",\"ratios\":{\"alloc_put_vs_dpdk_cached\":%.3f,\"bulk32_vs_dpdk_bulk32\":%.3f}",
			       bench_get(&r, "netmem_alloc_put") / dpdk_cached,
			       bench_get(&r, "netmem_bulk32") / dpdk_bulk);
		printf("}\n");
	} else {
		printf("pool benchmark, provider %s, median of %d runs of %ld ops\n", spec, reps, iters);
		for (int i = 0; i < r.n; i++)
			printf("  %-22s %8.2f ns/op\n", r.name[i], r.value[i]);
		if (dpdk_cached > 0)
			printf("  alloc_put / dpdk_cached_get_put = %.2f, bulk32 / dpdk_bulk32 = %.2f\n",
			       bench_get(&r, "netmem_alloc_put") / dpdk_cached,
			       bench_get(&r, "netmem_bulk32") / dpdk_bulk);
		else
			printf("  (DPDK peer unavailable: not built, or its EAL failed to start)\n");
	}
	netmem_pool_destroy(pool);
	netmem_provider_destroy(prov);
	return 0;
}
