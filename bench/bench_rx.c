/* SPDX-License-Identifier: MIT */
/*
 * netmem bench rx: the receive path on one queue and one core, 64- and
 * 1500-byte frames, payload in device memory (devsim; host where devsim is
 * not built in). The sim NIC has 1024-entry rings (a common NIC default) and
 * its payload pool 1024 chunks (4 MiB of 4 KiB chunks: the ring's buffers
 * plus as many again for tokens the application holds). Baselines measured
 * in the same run:
 *   memcpy     the same payload bytes per packet, from the same source
 *              window as the device, to the same destination offsets in the
 *              same order: the zero-copy run records where the device wrote
 *              each payload fragment and memcpy replays that trace in a
 *              buffer as large as the payload area. The footprint (distinct
 *              buffers written) is printed. The 1500-byte target is the
 *              ratio against this one;
 *   context    memcpy of the whole frame into 2 KiB slots walking a buffer
 *              of the payload area's size and one of 256 MiB (DRAM);
 *   copy loop  a plain receive loop that copies every packet into a
 *              malloc'd buffer (what an application without tokens does),
 *              on the same sim NIC with host payload memory.
 * Each figure is the median of several runs, the runs of all of them
 * interleaved.
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

#define BATCH	   64
#define MAX_RUNS   31
#define RING	   1024	 /* descriptors per ring */
#define TRACE_SKIP 4096	 /* fragments before the trace starts: first fill */
#define TRACE_MAX  65536 /* fragments the trace keeps */
#define SRC_WINDOW 65536 /* distinct payload start offsets, as the sim's */
#define DRAM_BYTES (256u << 20)

struct rx_result {
	double pps, gbps;
};

/* Where the device wrote payload: area offset and length per fragment. */
struct trace {
	uint32_t *off, *len;
	unsigned n, skip;
	size_t area;	  /* payload area bytes */
	size_t footprint; /* distinct buffers written, in bytes */
	unsigned buffers; /* distinct buffers written */
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
	sp.ring_size = RING;
	return netmem_sim_create(&sp);
}

static void trace_add(struct trace *tr, const struct netmem_rx_pkt *p)
{
	for (unsigned j = 0; j < p->nr_frags; j++) {
		if (tr->skip) {
			tr->skip--;
			continue;
		}
		if (tr->n == TRACE_MAX)
			return;
		tr->off[tr->n] = (uint32_t)p->frag[j].offset;
		tr->len[tr->n++] = p->frag[j].len;
	}
}

/* Zero-copy receive: recv a batch, give its tokens back in one call. With
 * tr, record where the device wrote (the first TRACE_MAX fragments after
 * TRACE_SKIP; recording is outside the timed loop's steady state). */
static int run_netmem(struct netmem_provider *prov, uint32_t size, double secs, struct rx_result *r,
		      struct trace *tr)
{
	struct netmem_sim *sim = make_sim(prov, &size);
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t tok[BATCH * NETMEM_RX_MAX_FRAGS], pk = 0, bytes = 0;
	struct netmem_rxq *q;
	double t0, t;

	if (!sim)
		return -errno;
	q = netmem_sim_rxq(sim, 0);
	if (tr) {
		/* The device's write order is deterministic (same seed, same
		 * ring): take it from an untimed prefix of the same stream. */
		tr->n = 0;
		tr->skip = TRACE_SKIP;
		while (tr->n < TRACE_MAX) {
			int n = netmem_rxq_recv(q, pkts, BATCH);
			unsigned nt = 0;

			if (n <= 0)
				break;
			for (int i = 0; i < n; i++) {
				trace_add(tr, &pkts[i]);
				for (unsigned j = 0; j < pkts[i].nr_frags; j++)
					tok[nt++] = pkts[i].frag[j].token;
			}
			netmem_rxq_release(q, tok, nt);
		}
	}
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

/* Back-pressure: the application holds every token it gets and keeps
 * calling recv; every frame offered is dropped. Returns ns per recv call. */
#define HELD_MAX 65536 /* more than the payload pool's buffers */

static double run_held(struct netmem_provider *prov, uint32_t size, double secs)
{
	struct netmem_sim *sim = make_sim(prov, &size);
	uint64_t *held = malloc(HELD_MAX * sizeof(*held));
	struct netmem_rx_pkt pkts[BATCH];
	struct netmem_rxq *q;
	uint64_t calls = 0;
	unsigned nh = 0;
	double t0, t;

	if (!sim || !held) {
		if (sim)
			netmem_sim_destroy(sim);
		free(held);
		return 0;
	}
	q = netmem_sim_rxq(sim, 0);
	t0 = now_s();
	do {
		for (int it = 0; it < 64; it++, calls++) {
			int n = netmem_rxq_recv(q, pkts, BATCH);

			for (int i = 0; i < n; i++)
				for (unsigned j = 0; j < pkts[i].nr_frags && nh < HELD_MAX; j++)
					held[nh++] = pkts[i].frag[j].token;
		}
		t = now_s();
	} while (t - t0 < secs);
	/* Give everything back, so the queue and its memory go with destroy. */
	netmem_rxq_release(q, held, nh);
	netmem_sim_destroy(sim);
	free(held);
	return (t - t0) * 1e9 / (double)calls;
}

/* Source bytes for the memcpy baselines: a window as large as the sim's
 * pattern, read at the same offsets (one byte further each frame). */
static char *make_src(void)
{
	char *src = malloc(SRC_WINDOW + NETMEM_SIM_MAX_FRAME);
	uint64_t x = 88172645463325252u;

	if (src)
		for (size_t i = 0; i < SRC_WINDOW + NETMEM_SIM_MAX_FRAME; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			src[i] = (char)x;
		}
	return src;
}

static inline const char *src_at(const char *src, uint64_t pk)
{
	return src + (pk & (SRC_WINDOW - 1));
}

/* memcpy of the same payload bytes to the same places, in the device's
 * order: the trace replayed, cyclically, in a buffer of the area's size.
 * Counts packets of `frags` fragments; gbps is of the payload bytes. */
static void run_memcpy_trace(const struct trace *tr, const char *src, unsigned frags, double secs,
			     struct rx_result *r)
{
	char *dst = aligned_alloc(4096, tr->area);
	uint64_t pk = 0, bytes = 0;
	unsigned i = 0;
	double t0, t;

	r->pps = r->gbps = 0;
	if (!dst || !tr->n || !frags) {
		free(dst);
		return;
	}
	memset(dst, 1, tr->area);
	t0 = now_s();
	do {
		for (int it = 0; it < 4096; it++) {
			for (unsigned j = 0; j < frags; j++) {
				memcpy(dst + tr->off[i], src_at(src, pk), tr->len[i]);
				bytes += tr->len[i];
				i = i + 1 == tr->n ? 0 : i + 1;
			}
			pk++;
		}
		keep(dst);
		t = now_s();
	} while (t - t0 < secs);
	r->pps = (double)pk / (t - t0);
	r->gbps = (double)bytes * 8 / (t - t0) / 1e9;
	free(dst);
}

/* memcpy of the whole frame into 2 KiB slots walking a buffer of dst_len
 * bytes in address order (context: the area's size and DRAM). */
static void run_memcpy_slots(uint32_t size, const char *src, size_t dst_len, double secs,
			     struct rx_result *r)
{
	size_t slot = 2048, nslots = dst_len / slot;
	char *dst = aligned_alloc(4096, dst_len);
	uint64_t pk = 0;
	size_t s = 0;
	double t0, t;

	r->pps = r->gbps = 0;
	if (!dst)
		return;
	memset(dst, 1, dst_len);
	t0 = now_s();
	do {
		for (int it = 0; it < 4096; it++) {
			memcpy(dst + s * slot, src_at(src, pk), size);
			s = s + 1 == nslots ? 0 : s + 1;
			pk++;
		}
		keep(dst);
		t = now_s();
	} while (t - t0 < secs);
	r->pps = (double)pk / (t - t0);
	r->gbps = (double)pk * size * 8 / (t - t0) / 1e9;
	free(dst);
}

/* Distinct buffers (by start offset) in the trace and their bytes. */
static void trace_footprint(struct trace *tr, uint32_t buf_size)
{
	size_t nb = tr->area / buf_size + 1;
	unsigned char *seen = calloc(nb, 1);

	tr->buffers = 0;
	if (!seen)
		return;
	for (unsigned i = 0; i < tr->n; i++) {
		size_t b = tr->off[i] / buf_size;

		tr->buffers += !seen[b];
		seen[b] = 1;
	}
	tr->footprint = (size_t)tr->buffers * buf_size;
	free(seen);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: netmem bench rx [--json] [--provider SPEC] [--runs N] [--seconds S]\n"
		   "One queue, one core: zero-copy receive on the sim NIC at 64 and 1500 bytes,\n"
		   "next to memcpy of the same payload bytes to the same places and a receive\n"
		   "loop that copies every packet.\n"
		   "  --provider SPEC  payload memory (default devsim, host where not built in)\n"
		   "  --runs N         runs per figure, the median is reported (default 5)\n"
		   "  --seconds S      length of one run (default 0.3)\n"
		   "  --json           one JSON object instead of the table\n");
}

enum { R_NM, R_MC, R_CP, R_AREA, R_DRAM, R_N };

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
	struct netmem_sim_params defaults;
	int json = 0, runs = 5, c, order, ret = 1, status;
	double secs = 0.3;
	struct rx_result res[2][R_N];
	double held_ns[MAX_RUNS], held_call_ns = 0;
	struct trace tr[2];
	char *src = NULL;
	uint64_t num;
	uint32_t buf_size;
	size_t area;

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
			if (netmem_arg_u64("bench rx", "--runs", optarg, 1, MAX_RUNS, &num))
				return 2;
			runs = (int)num;
			break;
		case 's':
			if (netmem_arg_double("bench rx", "--seconds", optarg, 0.001, 60, &secs))
				return 2;
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
	if (netmem_arg_none("bench rx", argc, argv, optind)) {
		usage(stderr);
		return 2;
	}
	memset(tr, 0, sizeof(tr));
	prov = netmem_arg_provider("bench rx", spec, &status);
	if (!prov)
		return status;
	host = netmem_arg_provider("bench rx", "host", &status);
	if (!host)
		goto out; /* 1: host is not the caller's spec */
	netmem_sim_params_init(&defaults, prov);
	order = netmem_provider_default_order(prov);
	buf_size = defaults.buf_size;
	area = (size_t)defaults.payload_chunks << (12 + (order > 0 ? order : 0));
	src = make_src();
	for (int si = 0; si < 2; si++) {
		tr[si].off = malloc(TRACE_MAX * sizeof(*tr[si].off));
		tr[si].len = malloc(TRACE_MAX * sizeof(*tr[si].len));
		tr[si].area = area;
	}
	if (!src || !tr[0].off || !tr[0].len || !tr[1].off || !tr[1].len) {
		fprintf(stderr, "netmem bench rx: out of memory\n");
		goto out;
	}
	for (int si = 0; si < 2; si++) {
		uint32_t size = sizes[si];
		unsigned frags = size > NETMEM_SIM_HDR_LEN
				     ? (size - NETMEM_SIM_HDR_LEN + buf_size - 1) / buf_size
				     : 0;
		double v[R_N][2][MAX_RUNS];

		/* Interleave all figures so drifts in machine load hit all alike. */
		for (int r = 0; r < runs; r++) {
			struct rx_result x;

			if (run_netmem(prov, size, secs, &x, r == 0 ? &tr[si] : NULL) < 0) {
				fprintf(stderr, "netmem bench rx: %s\n", netmem_last_error());
				goto out;
			}
			v[R_NM][0][r] = x.pps;
			v[R_NM][1][r] = x.gbps;
			if (r == 0)
				trace_footprint(&tr[si], buf_size);
			run_memcpy_trace(&tr[si], src, frags, secs, &x);
			v[R_MC][0][r] = x.pps;
			v[R_MC][1][r] = x.gbps;
			if (run_copy(host, size, secs, &x) < 0) {
				fprintf(stderr, "netmem bench rx: %s\n", netmem_last_error());
				goto out;
			}
			v[R_CP][0][r] = x.pps;
			v[R_CP][1][r] = x.gbps;
			run_memcpy_slots(size, src, area, secs, &x);
			v[R_AREA][0][r] = x.pps;
			v[R_AREA][1][r] = x.gbps;
			run_memcpy_slots(size, src, DRAM_BYTES, secs, &x);
			v[R_DRAM][0][r] = x.pps;
			v[R_DRAM][1][r] = x.gbps;
			if (si == 1)
				held_ns[r] = run_held(prov, size, secs);
		}
		for (int k = 0; k < R_N; k++) {
			res[si][k].pps = median(v[k][0], runs);
			res[si][k].gbps = median(v[k][1], runs);
		}
		if (si == 1)
			held_call_ns = median(held_ns, runs);
	}
	/* The payload memcpy moves the same payload bytes per packet as the
	 * device does, so the ratio of packet rates is the ratio of
	 * bandwidths of the same bytes. */
#define RATIO(si) (res[si][R_MC].pps > 0 ? res[si][R_NM].pps / res[si][R_MC].pps : 0)
	if (json) {
		printf("{\"bench\":\"rx\",\"provider\":\"%s\",\"runs\":%d,\"seconds_per_run\":%.3f,"
		       "\"ring_size\":%u,\"buf_size\":%u,\"payload_area_bytes\":%zu,\"results\":[",
		       spec, runs, secs, RING, buf_size, area);
		for (int si = 0; si < 2; si++) {
			const struct rx_result *x = res[si];

			printf("%s{\"size\":%u,\"netmem_pps\":%.0f,\"netmem_gbps\":%.3f,"
			       "\"memcpy_pps\":%.0f,\"memcpy_payload_gbps\":%.3f,"
			       "\"memcpy_footprint_bytes\":%zu,\"memcpy_buffers\":%u,"
			       "\"copy_loop_pps\":%.0f,\"copy_loop_gbps\":%.3f,"
			       "\"memcpy_area_gbps\":%.3f,\"memcpy_dram_gbps\":%.3f,"
			       "\"netmem_vs_memcpy\":%.3f,\"netmem_vs_memcpy_area\":%.3f,"
			       "\"netmem_vs_memcpy_dram\":%.3f,\"netmem_vs_copy_loop\":%.3f}",
			       si ? "," : "", sizes[si], x[R_NM].pps, x[R_NM].gbps, x[R_MC].pps,
			       x[R_MC].gbps, tr[si].footprint, tr[si].buffers, x[R_CP].pps,
			       x[R_CP].gbps, x[R_AREA].gbps, x[R_DRAM].gbps, RATIO(si),
			       x[R_NM].gbps / x[R_AREA].gbps, x[R_NM].gbps / x[R_DRAM].gbps,
			       x[R_NM].pps / x[R_CP].pps);
		}
		printf("],\"held_all_recv_call_ns\":%.0f,\"recv_call_ns\":%.0f",
		       held_call_ns, BATCH * 1e9 / res[1][R_NM].pps);
		printf(",\"targets\":{\"1500_vs_memcpy_min\":0.70,\"64_pps_min\":10000000,"
		       "\"met_1500\":%s,\"met_64\":%s}}\n",
		       RATIO(1) >= 0.7 ? "true" : "false",
		       res[0][R_NM].pps >= 1e7 ? "true" : "false");
	} else {
		printf("netmem bench rx: 1 queue, 1 core, payload on %s, %u-entry rings, %u-byte "
		       "buffers,\n%zu KiB payload area; median of %d runs of %.2f s\n\n",
		       spec, RING, buf_size, area >> 10, runs, secs);
		printf("%6s  %22s  %22s  %22s  %9s  %8s\n", "frame", "netmem zero-copy",
		       "memcpy same payload", "copy loop (malloc)", "vs memcpy", "vs copy");
		for (int si = 0; si < 2; si++) {
			const struct rx_result *x = res[si];

			printf("%6u  %8.2f Mpps %6.2f Gb/s  %8.2f Mpps %6.2f Gb/s  %8.2f Mpps "
			       "%6.2f Gb/s  %8.0f%%  %7.2fx\n",
			       sizes[si], x[R_NM].pps / 1e6, x[R_NM].gbps, x[R_MC].pps / 1e6,
			       x[R_MC].gbps, x[R_CP].pps / 1e6, x[R_CP].gbps, 100 * RATIO(si),
			       x[R_NM].pps / x[R_CP].pps);
		}
		printf("\nnetmem Gb/s counts whole frames; memcpy Gb/s the payload bytes it copies "
		       "(the\nframe less the %d-byte header split), to the offsets the device "
		       "wrote, in its order:\n",
		       NETMEM_SIM_HDR_LEN);
		for (int si = 0; si < 2; si++)
			printf("  %4u B: %u buffers of %u B written (%.2f MiB of the %.0f MiB "
			       "area)\n",
			       sizes[si], tr[si].buffers, buf_size, tr[si].footprint / 1048576.0,
			       area / 1048576.0);
		printf("context, memcpy of whole frames into 2 KiB slots in address order:\n");
		for (int si = 0; si < 2; si++)
			printf("  %4u B: %.0f MiB buffer %.1f Gb/s (netmem at %.0f%%), 256 MiB "
			       "buffer (DRAM) %.1f Gb/s (netmem at %.0f%%)\n",
			       sizes[si], area / 1048576.0, res[si][R_AREA].gbps,
			       100 * res[si][R_NM].gbps / res[si][R_AREA].gbps,
			       res[si][R_DRAM].gbps,
			       100 * res[si][R_NM].gbps / res[si][R_DRAM].gbps);
		printf("back-pressure, 1500 B: with every token held, a recv call offered %d frames "
		       "takes %.2f us\n(all dropped); delivering %d takes %.2f us\n",
		       BATCH, held_call_ns / 1e3, BATCH, BATCH * 1e6 / res[1][R_NM].pps);
		printf("targets: 1500 B at >= 70%% of memcpy: %s (%.0f%%); 64 B at >= 10 Mpps: %s "
		       "(%.2f Mpps)\n",
		       RATIO(1) >= 0.7 ? "met" : "NOT met", 100 * RATIO(1),
		       res[0][R_NM].pps >= 1e7 ? "met" : "NOT met", res[0][R_NM].pps / 1e6);
	}
#undef RATIO
	ret = 0;
out:
	for (int si = 0; si < 2; si++) {
		free(tr[si].off);
		free(tr[si].len);
	}
	free(src);
	netmem_provider_destroy(prov);
	netmem_provider_destroy(host);
	return ret;
}
