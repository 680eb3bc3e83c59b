/* SPDX-License-Identifier: MIT */
/*
 * The DPDK peer for netmem bench pool: rte_mempool with a per-lcore cache of
 * 256, run in this process with --no-huge --no-pci. Built only when
 * pkg-config finds libdpdk.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "bench.h"

int netmem_dpdk_peer(long iters, int reps, double *cached_ns, double *bulk32_ns);

static double run_cached(struct rte_mempool *mp, long iters)
{
	double t = bench_now_ns();

	for (long i = 0; i < iters; i++) {
		void *obj;

		if (rte_mempool_get(mp, &obj) == 0) {
			bench_keep(obj);
			rte_mempool_put(mp, obj);
		}
	}
	return (bench_now_ns() - t) / (double)iters;
}

static double run_bulk(struct rte_mempool *mp, long iters)
{
	void *objs[32];
	long rounds = iters / 32;
	double t = bench_now_ns();

	for (long i = 0; i < rounds; i++) {
		if (rte_mempool_get_bulk(mp, objs, 32) == 0) {
			bench_keep(objs);
			rte_mempool_put_bulk(mp, objs, 32);
		}
	}
	return (bench_now_ns() - t) / (double)(rounds * 32);
}

int netmem_dpdk_peer(long iters, int reps, double *cached_ns, double *bulk32_ns)
{
	static int eal_ok = -1;
	char *argv[] = { "netmem-bench", "--no-huge", "--no-pci", "--no-shconf", "-l", "0",
			 "-m", "128", "--log-level=lib.*:error", "--no-telemetry", NULL };
	struct rte_mempool *mp;
	double v[64];

	if (eal_ok < 0) {
		/* The EAL pins the calling thread to its lcore, and threads
		 * created later inherit that: give the caller its CPUs back,
		 * or netmem's cross-thread figure would run on one core. */
		cpu_set_t cpus;
		int got = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus);

		eal_ok = rte_eal_init((int)(sizeof(argv) / sizeof(argv[0]) - 1), argv) >= 0;
		if (got == 0)
			pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	}
	if (!eal_ok) {
		fprintf(stderr, "dpdk peer: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	mp = rte_mempool_create("netmem_bench", 8191, 2048, 256, 0, NULL, NULL, NULL, NULL,
				SOCKET_ID_ANY, 0);
	if (!mp) {
		fprintf(stderr, "dpdk peer: rte_mempool_create failed: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	run_cached(mp, iters);
	for (int i = 0; i < reps; i++)
		v[i] = run_cached(mp, iters);
	*cached_ns = bench_median(v, reps);
	run_bulk(mp, iters);
	for (int i = 0; i < reps; i++)
		v[i] = run_bulk(mp, iters);
	*bulk32_ns = bench_median(v, reps);
	rte_mempool_free(mp);
	return 0;
}
