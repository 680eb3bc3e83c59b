/* SPDX-License-Identifier: MIT */
/*
 * netmem bench rx: the receive path on one queue and one core, 64- and
 * 1500-byte frames, payload in device memory (devsim; host where devsim is
 * not built in). Two baselines measured in the same run:
 *   memcpy     copying the same frame bytes (source in cache, destinations
 *              walking a buffer as large as the payload pool): the physical
 *              limit a zero-copy path is compared with;
 *   copy loop  a plain receive loop that copies every packet into a
 *              malloc'd buffer (what an application without tokens does),
 *              on the same sim NIC with host payload memory.
 * Each figure is the median of several runs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netmem/netmem.h"
#include "netmem/sim.h"
#include "../tools/cmds.h"

#define BATCH	 64
#define MAX_RUNS 31

struct rx_result {
	double pps, gbps;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define keep(x) __asm__ volatile("" : : "r"(x) : "memory")

static struct netmem_sim *make_sim(struct netmem_provider *prov, uint32_t *size)
{
	struct netmem_sim_params sp;

	netmem_sim_params_init(&sp, prov);
	sp.sizes = size;
	sp.nr_sizes = 1;
	return netmem_sim_create(&sp);
}

/* Zero-copy receive: recv a batch, give its tokens back in one call. */
static int run_netmem(struct netmem_provider *prov, uint32_t size, double secs, struct rx_result *r)
{
	struct netmem_sim *sim = make_sim(prov, &size);
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t tok[BATCH * NETMEM_RX_MAX_FRAGS], pk = 0, bytes = 0;
	struct netmem_rxq *q;
	double t0, t;

	if (!sim)
		return -errno;
	q = netmem_sim_rxq(sim, 0);
	t0 = now_s();
	do {
		for (int it = 0; it < 64; it++) {
			int n = netmem_rxq_recv(q, pkts, BATCH);
			unsigned nt = 0;

			for (int i = 0; i < n; i++) {
				for (unsigned j = 0; j < pkts[i].nr_frags; j++)
					tok[nt++] = pkts[i].frag[j].token;
				bytes += pkts[i].len;
			}
			pk += (unsigned)(n > 0 ? n : 0);
			netmem_rxq_release(q, tok, nt);
		}
		t = now_s();
	} while (t - t0 < secs);
	r->pps = (double)pk / (t - t0);
	r->gbps = (double)bytes * 8 / (t - t0) / 1e9;
	netmem_sim_destroy(sim);
	return 0;
}

/* A plain receive loop: copy every packet into a malloc'd buffer. */
static int run_copy(struct netmem_provider *host, uint32_t size, double secs, struct rx_result *r)
{
	struct netmem_sim *sim = make_sim(host, &size);
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t tok[BATCH * NETMEM_RX_MAX_FRAGS], pk = 0, bytes = 0;
	struct netmem_rxq *q;
	double t0, t;

	if (!sim)
		return -errno;
	q = netmem_sim_rxq(sim, 0);
	t0 = now_s();
	do {
		for (int it = 0; it < 64; it++) {
			int n = netmem_rxq_recv(q, pkts, BATCH);
			unsigned nt = 0;

			for (int i = 0; i < n; i++) {
				struct netmem_rx_pkt *p = &pkts[i];
				char *buf = malloc(p->len), *at = buf;

				if (!buf)
					return -ENOMEM;
				memcpy(at, p->hdr, p->hdr_len);
				at += p->hdr_len;
				for (unsigned j = 0; j < p->nr_frags; j++) {
					memcpy(at, p->frag[j].addr, p->frag[j].len);
					at += p->frag[j].len;
					tok[nt++] = p->frag[j].token;
				}
				keep(buf);
				free(buf);
				bytes += p->len;
			}
			pk += (unsigned)(n > 0 ? n : 0);
			/* The buffers are free as soon as they are copied. */
			netmem_rxq_release(q, tok, nt);
		}
		t = now_s();
	} while (t - t0 < secs);
	r->pps = (double)pk / (t - t0);
	r->gbps = (double)bytes * 8 / (t - t0) / 1e9;
	netmem_sim_destroy(sim);
	return 0;
}

/* memcpy of the same frame bytes (up to 2 KiB) into 2 KiB slots of a buffer
 * of dst_len bytes: 4 MiB, the payload pool's size, stays in cache; 256 MiB
 * goes to DRAM, as a NIC's DMA does without DDIO. */
static void run_memcpy(uint32_t size, size_t dst_len, double secs, struct rx_result *r)
{
	size_t slot = 2048, nslots = dst_len / slot;
	char *dst = aligned_alloc(4096, dst_len), *src = malloc(size + 4096);
	uint64_t pk = 0;
	size_t s = 0;
	double t0, t;

	if (!dst || !src) {
		free(dst);
		free(src);
		r->pps = r->gbps = 0;
		return;
	}
	for (size_t i = 0; i < size + 4096; i++)
		src[i] = (char)(i * 131);
	memset(dst, 1, dst_len);
	t0 = now_s();
	do {
		for (int it = 0; it < 4096; it++) {
			memcpy(dst + s * slot, src + (pk & 63), size);
			s = s + 1 == nslots ? 0 : s + 1;
			pk++;
		}
		keep(dst);
		t = now_s();
	} while (t - t0 < secs);
	r->pps = (double)pk / (t - t0);
	r->gbps = (double)pk * size * 8 / (t - t0) / 1e9;
	free(dst);
	free(src);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: netmem bench rx [--json] [--provider SPEC] [--runs N] [--seconds S]\n"
		   "One queue, one core: zero-copy receive on the sim NIC at 64 and 1500 bytes,\n"
		   "next to memcpy of the same bytes and a receive loop that copies every packet.\n"
		   "  --provider SPEC  payload memory (default devsim, host where not built in)\n"
		   "  --runs N         runs per figure, the median is reported (default 5)\n"
		   "  --seconds S      length of one run (default 0.3)\n"
		   "  --json           one JSON object instead of the table\n");
}

int netmem_cmd_bench_rx(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},	    {"provider", required_argument, NULL, 'p'},
	    {"runs", required_argument, NULL, 'r'}, {"seconds", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	static const uint32_t sizes[] = {64, 1500};
	const char *spec = NULL;
	struct netmem_provider *prov, *host;
	int json = 0, runs = 5, c;
	double secs = 0.3;
	struct {
		struct rx_result nm, mc, cp, md;
	} res[2];
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			spec = optarg;
			break;
		case 'r':
			runs = (int)strtol(optarg, &end, 10);
			if (*end || runs < 1 || runs > MAX_RUNS) {
				fprintf(stderr, "netmem bench rx: --runs wants 1..%d\n", MAX_RUNS);
				return 2;
			}
			break;
		case 's':
			secs = strtod(optarg, &end);
			if (*end || !(secs > 0) || secs > 60) {
				fprintf(stderr, "netmem bench rx: --seconds wants 0..60\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!spec)
		spec = netmem_provider_lookup("devsim") ? "devsim" : "host";
	prov = netmem_provider_create(spec);
	host = netmem_provider_create("host");
	if (!prov || !host) {
		fprintf(stderr, "netmem bench rx: provider '%s': %s\n", spec, netmem_last_error());
		netmem_provider_destroy(prov);
		netmem_provider_destroy(host);
		return 2;
	}
	for (int si = 0; si < 2; si++) {
		double v[4][2][MAX_RUNS];

		/* Interleave the three so drifts in machine load hit all alike. */
		for (int r = 0; r < runs; r++) {
			struct rx_result x;

			if (run_netmem(prov, sizes[si], secs, &x) < 0) {
				fprintf(stderr, "netmem bench rx: %s\n", netmem_last_error());
				return 2;
			}
			v[0][0][r] = x.pps;
			v[0][1][r] = x.gbps;
			run_memcpy(sizes[si], 4u << 20, secs, &x);
			v[1][0][r] = x.pps;
			v[1][1][r] = x.gbps;
			run_memcpy(sizes[si], 256u << 20, secs, &x);
			v[3][0][r] = x.pps;
			v[3][1][r] = x.gbps;
			if (run_copy(host, sizes[si], secs, &x) < 0) {
				fprintf(stderr, "netmem bench rx: %s\n", netmem_last_error());
				return 2;
			}
			v[2][0][r] = x.pps;
			v[2][1][r] = x.gbps;
		}
		res[si].nm.pps = median(v[0][0], runs);
		res[si].nm.gbps = median(v[0][1], runs);
		res[si].mc.pps = median(v[1][0], runs);
		res[si].mc.gbps = median(v[1][1], runs);
		res[si].cp.pps = median(v[2][0], runs);
		res[si].cp.gbps = median(v[2][1], runs);
		res[si].md.pps = median(v[3][0], runs);
		res[si].md.gbps = median(v[3][1], runs);
	}
	if (json) {
		printf("{\"bench\":\"rx\",\"provider\":\"%s\",\"runs\":%d,\"seconds_per_run\":%.3f,"
		       "\"results\":[",
		       spec, runs, secs);
		for (int si = 0; si < 2; si++)
			printf("%s{\"size\":%u,\"netmem_pps\":%.0f,\"netmem_gbps\":%.3f,"
			       "\"memcpy_pps\":%.0f,\"memcpy_gbps\":%.3f,\"copy_loop_pps\":%.0f,"
			       "\"copy_loop_gbps\":%.3f,\"memcpy_dram_gbps\":%.3f,"
			       "\"netmem_vs_memcpy\":%.3f,\"netmem_vs_memcpy_dram\":%.3f,"
			       "\"netmem_vs_copy_loop\":%.3f}",
			       si ? "," : "", sizes[si], res[si].nm.pps, res[si].nm.gbps,
			       res[si].mc.pps, res[si].mc.gbps, res[si].cp.pps, res[si].cp.gbps,
			       res[si].md.gbps, res[si].nm.gbps / res[si].mc.gbps,
			       res[si].nm.gbps / res[si].md.gbps, res[si].nm.pps / res[si].cp.pps);
		printf("],\"targets\":{\"1500_vs_memcpy_min\":0.70,\"64_pps_min\":10000000,"
		       "\"met_1500\":%s,\"met_64\":%s}}\n",
		       res[1].nm.gbps >= 0.7 * res[1].mc.gbps ? "true" : "false",
		       res[0].nm.pps >= 1e7 ? "true" : "false");
	} else {
		printf("netmem bench rx: 1 queue, 1 core, payload on %s, median of %d runs of %.2f "
		       "s\n\n",
		       spec, runs, secs);
		printf("%6s  %22s  %22s  %22s  %9s  %9s\n", "frame", "netmem zero-copy",
		       "memcpy same bytes", "copy loop (malloc)", "vs memcpy", "vs copy");
		for (int si = 0; si < 2; si++)
			printf("%6u  %8.2f Mpps %6.2f Gb/s  %8.2f Mpps %6.2f Gb/s  %8.2f Mpps "
			       "%6.2f Gb/s  %8.0f%%  %8.2fx\n",
			       sizes[si], res[si].nm.pps / 1e6, res[si].nm.gbps,
			       res[si].mc.pps / 1e6, res[si].mc.gbps, res[si].cp.pps / 1e6,
			       res[si].cp.gbps, 100 * res[si].nm.gbps / res[si].mc.gbps,
			       res[si].nm.pps / res[si].cp.pps);
		printf(
		    "\nmemcpy to a 256 MiB buffer (DRAM): %.1f Gb/s at 64 B, %.1f Gb/s at 1500 B "
		    "(netmem at %.0f%% of it at 1500 B)\n",
		    res[0].md.gbps, res[1].md.gbps, 100 * res[1].nm.gbps / res[1].md.gbps);
		printf("targets: 1500 B at >= 70%% of memcpy: %s (%.0f%%); 64 B at >= 10 Mpps: %s "
		       "(%.2f Mpps)\n",
		       res[1].nm.gbps >= 0.7 * res[1].mc.gbps ? "met" : "NOT met",
		       100 * res[1].nm.gbps / res[1].mc.gbps,
		       res[0].nm.pps >= 1e7 ? "met" : "NOT met", res[0].nm.pps / 1e6);
	}
	netmem_provider_destroy(prov);
	netmem_provider_destroy(host);
	return 0;
}
