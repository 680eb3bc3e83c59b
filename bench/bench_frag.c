/* SPDX-License-Identifier: MIT */
/*
 * netmem bench frag: fragments of large chunks against fixed frames.
 *
 * For packet sizes 64, 1500, 4096, 9000 and an IMIX-like mix (64, 576 and
 * 1500 bytes, 7:4:1) on chunks of 4 KiB, 16 KiB, 64 KiB and 2 MiB:
 *
 *   efficiency  a receive queue holds a window of N live packets and
 *               releases the oldest as it takes a new one (FIFO). After every
 *               step, live payload bytes over the bytes of the chunks those
 *               packets pin (a chunk is pinned while any of its fragments
 *               is live, the chunk being carved included); the figure is the
 *               sum of the first over the sum of the second across the
 *               steady state. Alignment padding, chunk tails and chunks held
 *               by a single old packet all count against it.
 *   packing     the same ratio with an unbounded window: payload bytes
 *               carved over chunk bytes consumed, i.e. payload + alignment
 *               padding + tails left at retired chunks (frag_waste_bytes);
 *               the limit of efficiency as N grows.
 *   frame2k/4k  the fixed-frame baseline over the same packets: payload over
 *               the frames it needs (a packet larger than a frame takes
 *               several).
 *   ns          fragment alloc+put, beside whole-chunk alloc+put measured in
 *               the same run: "now" allocates and puts at once (the pattern
 *               of netmem bench pool), "window" puts the oldest of N live.
 *               Each repetition times the two back to back; x is the median
 *               of the per-repetition ratios.
 *
 * Medians over --reps repetitions of --iters operations.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"
#include "bench.h"
#include "../tools/cmds.h"

#define SEQ_LEN 65536 /* packet sizes, cycled */
#define ALIGN 64

static long iters = 1000000;
static int reps = 5;
static long window = 16384;

struct mix {
	const char *name;
	uint32_t size; /* 0: IMIX */
};

static const struct mix mixes[] = {
	{ "64", 64 }, { "1500", 1500 }, { "4096", 4096 }, { "9000", 9000 }, { "imix", 0 },
};
static const unsigned orders[] = { 0, 2, 4, 9 };

static uint32_t seq[SEQ_LEN];

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static uint32_t fill_seq(const struct mix *m)
{
	uint64_t s = 12345;
	uint32_t max = 0;

	for (int i = 0; i < SEQ_LEN; i++) {
		if (m->size) {
			seq[i] = m->size;
		} else {
			unsigned r = (unsigned)(rnd(&s) % 12);

			seq[i] = r < 7 ? 64 : r < 11 ? 576 : 1500;
		}
		if (seq[i] > max)
			max = seq[i];
	}
	return max;
}

static double frame_efficiency(uint32_t frame)
{
	double payload = 0, held = 0;

	for (int i = 0; i < SEQ_LEN; i++) {
		payload += seq[i];
		held += (double)((seq[i] + frame - 1) / frame) * frame;
	}
	return payload / held;
}

static struct netmem_pool *make_pool(struct netmem_provider *prov, unsigned order,
				     uint32_t nr_chunks)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, prov);
	pp.order = (int)order;
	pp.nr_chunks = nr_chunks;
	pp.ring_size = 1024;
	pp.frag_align = ALIGN;
	return netmem_pool_create(&pp);
}

/* Chunks a window of `window` packets of at most `max` bytes can pin. */
static uint32_t chunks_for(uint32_t max, uint32_t chunk)
{
	uint32_t per = chunk / ((max + ALIGN - 1) / ALIGN * ALIGN);

	return (uint32_t)(window / per + 256);
}

struct live {
	netmem_t h;
	uint32_t size;
	uint32_t idx;
};

/* Window of live fragments, FIFO. Returns -1 when the pool ran dry. */
static int eff_run(struct netmem_pool *pool, uint32_t chunk, uint32_t nr_chunks, double *eff,
		   double *packing)
{
	struct live *w = calloc((size_t)window, sizeof(*w));
	uint32_t *pins = calloc(nr_chunks, sizeof(*pins));
	double live_sum = 0, held_sum = 0, payload = 0;
	uint64_t live_bytes = 0, pinned = 0;
	/* long enough to consume at least 64 chunks: packing is then exact to
	 * within the unknown tail of the chunk being carved at the end */
	long steps = window * 4 > 400000 ? window * 4 : 400000;
	double pad = 0;
	uint64_t waste0 = 0;
	struct netmem_pool_stats st;
	int ret = -1;

	if (!w || !pins)
		goto out;
	{
		double avg = 0;

		for (int i = 0; i < SEQ_LEN; i++)
			avg += seq[i];
		avg /= SEQ_LEN;
		if (steps < (long)(64.0 * chunk / avg))
			steps = (long)(64.0 * chunk / avg);
	}
	for (long i = 0; i < window + steps; i++) {
		struct live *e = &w[i % window];
		uint32_t off, size = seq[i % SEQ_LEN];
		netmem_t h;

		if (i >= window) {
			if (--pins[e->idx] == 0)
				pinned--;
			live_bytes -= e->size;
			netmem_put(e->h);
		}
		if (i == window) {
			netmem_pool_stats(pool, &st);
			waste0 = st.frag_waste_bytes;
		}
		h = netmem_pool_alloc_frag_direct(pool, size, &off);
		if (!h)
			goto out;
		e->h = h;
		e->size = size;
		e->idx = (uint32_t)(netmem_area_offset(h) / chunk);
		if (pins[e->idx]++ == 0)
			pinned++;
		live_bytes += size;
		if (i >= window) {
			live_sum += (double)live_bytes;
			held_sum += (double)pinned * chunk;
			payload += size;
			pad += (double)((size + ALIGN - 1) / ALIGN * ALIGN - size);
		}
	}
	netmem_pool_stats(pool, &st);
	*eff = live_sum / held_sum;
	/* chunk bytes consumed = payload + alignment padding + retired tails */
	*packing = payload / (payload + pad + (double)(st.frag_waste_bytes - waste0));
	for (long i = 0; i < window; i++)
		netmem_put(w[i].h);
	ret = 0;
out:
	free(w);
	free(pins);
	return ret;
}

/* ---- timing ---------------------------------------------------------- */

static double time_frag_now(struct netmem_pool *pool)
{
	double t = bench_now_ns();
	uint32_t off;

	for (long i = 0; i < iters; i++) {
		netmem_t h = netmem_pool_alloc_frag_direct(pool, seq[i & (SEQ_LEN - 1)], &off);

		bench_keep(h);
		netmem_pool_put_direct(pool, h);
	}
	return (bench_now_ns() - t) / (double)iters;
}

static netmem_t *wbuf;

static double time_frag_window(struct netmem_pool *pool)
{
	uint32_t off;
	double t;

	for (long i = 0; i < window; i++)
		wbuf[i] = netmem_pool_alloc_frag_direct(pool, seq[i & (SEQ_LEN - 1)], &off);
	t = bench_now_ns();
	for (long i = 0; i < iters; i++) {
		netmem_t *e = &wbuf[i % window];

		netmem_pool_put_direct(pool, *e);
		*e = netmem_pool_alloc_frag_direct(pool, seq[i & (SEQ_LEN - 1)], &off);
	}
	t = bench_now_ns() - t;
	for (long i = 0; i < window; i++)
		netmem_pool_put_direct(pool, wbuf[i]);
	return t / (double)iters;
}

static double time_chunk_now(struct netmem_pool *pool)
{
	return bench_chunk_alloc_put(pool, iters);
}

/*
 * A driver's pattern: fill a ring of BATCH buffers, then take them all back.
 * Fragments move on to new chunks as they fill (put at once, a fragment
 * would have its chunk to itself and carving restart at offset 0 each time).
 */
#define BATCH 64

static void batch_dry(void)
{
	fprintf(stderr, "netmem bench frag: pool ran dry in the batch pattern\n");
	exit(1);
}

static double time_frag_batch(struct netmem_pool *pool)
{
	long rounds = iters / BATCH;
	netmem_t b[BATCH];
	uint32_t off;
	double t = bench_now_ns();

	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < BATCH; i++) {
			b[i] = netmem_pool_alloc_frag_direct(pool, seq[(r * BATCH + i) & (SEQ_LEN - 1)],
							     &off);
			if (unlikely(!b[i]))
				batch_dry();
		}
		bench_keep(b);
		for (int i = 0; i < BATCH; i++)
			netmem_pool_put_direct(pool, b[i]);
	}
	return (bench_now_ns() - t) / (double)(rounds * BATCH);
}

static double time_chunk_batch(struct netmem_pool *pool)
{
	long rounds = iters / BATCH;
	netmem_t b[BATCH];
	double t = bench_now_ns();

	for (long r = 0; r < rounds; r++) {
		for (int i = 0; i < BATCH; i++) {
			b[i] = netmem_pool_alloc_direct(pool);
			if (unlikely(!b[i]))
				batch_dry();
		}
		bench_keep(b);
		for (int i = 0; i < BATCH; i++)
			netmem_pool_put_direct(pool, b[i]);
	}
	return (bench_now_ns() - t) / (double)(rounds * BATCH);
}

static double time_chunk_window(struct netmem_pool *pool)
{
	double t;

	for (long i = 0; i < window; i++)
		wbuf[i] = netmem_pool_alloc_direct(pool);
	t = bench_now_ns();
	for (long i = 0; i < iters; i++) {
		netmem_t *e = &wbuf[i % window];

		netmem_pool_put_direct(pool, *e);
		*e = netmem_pool_alloc_direct(pool);
	}
	t = bench_now_ns() - t;
	for (long i = 0; i < window; i++)
		netmem_pool_put_direct(pool, wbuf[i]);
	return t / (double)iters;
}

/*
 * Whole-chunk and fragment timings of one repetition are taken back to back,
 * so that load from elsewhere hits both alike; the ratio is the median of the
 * per-repetition ratios.
 */
static void paired(double (*chunk_fn)(struct netmem_pool *), struct netmem_pool *cpool,
		   double (*frag_fn)(struct netmem_pool *), struct netmem_pool *fpool,
		   double *chunk_ns, double *frag_ns, double *ratio)
{
	double c[64], f[64], r[64];

	chunk_fn(cpool); /* warm up */
	frag_fn(fpool);
	for (int i = 0; i < reps; i++) {
		c[i] = chunk_fn(cpool);
		f[i] = frag_fn(fpool);
		r[i] = f[i] / c[i];
	}
	*chunk_ns = bench_median(c, reps);
	*frag_ns = bench_median(f, reps);
	*ratio = bench_median(r, reps);
}

/* ---- driver ------------------------------------------------------------ */

struct row {
	const char *mix;
	uint32_t chunk;
	int ok;            /* 0: packets larger than the chunk */
	double eff, packing, frame2k, frame4k;
	double frag_now, frag_window, chunk_now, chunk_window, frag_batch, chunk_batch;
	double ratio_now, ratio_window, ratio_batch;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: netmem bench frag [--json] [--provider SPEC] [--iters N] [--reps N] "
		   "[--window N]\n");
}

int netmem_cmd_bench_frag(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "provider", required_argument, NULL, 'p' },
		{ "iters", required_argument, NULL, 'i' },
		{ "reps", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const size_t nmix = sizeof(mixes) / sizeof(mixes[0]);
	const size_t nord = sizeof(orders) / sizeof(orders[0]);
	struct row rows[sizeof(mixes) / sizeof(mixes[0]) * sizeof(orders) / sizeof(orders[0])];
	struct netmem_pool *cpool[sizeof(orders) / sizeof(orders[0])] = { 0 }, *wpool = NULL;
	const char *spec = "host";
	struct netmem_provider *prov;
	struct netmem_pool *pool;
	int json = 0, c, nrows = 0, ret = 1, status;
	double eff_target = -1, ratio_max = 0, ratio_window_max = 0, ratio_batch_max = 0;
	double ref_now = -1, ref_batch = -1; /* 1500 B on 64 KiB chunks */
	const struct row *worst_now = NULL, *worst_batch = NULL, *worst_window = NULL;
	int ratio_met;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'p': spec = optarg; break;
		case 'i':
			if (netmem_arg_u64("bench frag", "--iters", optarg, 1000, UINT64_C(1) << 40, &v))
				return 2;
			iters = (long)v;
			break;
		case 'r':
			if (netmem_arg_u64("bench frag", "--reps", optarg, 1, 64, &v))
				return 2;
			reps = (int)v;
			break;
		case 'w':
			if (netmem_arg_u64("bench frag", "--window", optarg, 16, 1 << 22, &v))
				return 2;
			window = (long)v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (netmem_arg_none("bench frag", argc, argv, optind)) {
		usage(stderr);
		return 2;
	}
	prov = netmem_arg_provider("bench frag", spec, &status);
	if (!prov)
		return status;
	wbuf = calloc((size_t)window, sizeof(*wbuf));
	if (!wbuf) {
		fprintf(stderr, "netmem bench frag: out of memory\n");
		goto out;
	}

	/* Whole-chunk pools of this run (a 4 KiB chunk is a 4 KiB frame). */
	for (size_t o = 0; o < nord; o++) {
		cpool[o] = make_pool(prov, orders[o], 1024);
		if (!cpool[o])
			goto pool_err;
	}
	wpool = make_pool(prov, 0, (uint32_t)window + 1024);
	if (!wpool)
		goto pool_err;

	for (size_t m = 0; m < nmix; m++) {
		uint32_t max = fill_seq(&mixes[m]);
		double f2 = frame_efficiency(2048), f4 = frame_efficiency(4096);

		for (size_t o = 0; o < nord; o++) {
			uint32_t chunk = (uint32_t)4096 << orders[o];
			struct row *r = &rows[nrows++];

			memset(r, 0, sizeof(*r));
			r->mix = mixes[m].name;
			r->chunk = chunk;
			r->frame2k = f2;
			r->frame4k = f4;
			if (max > chunk)
				continue;
			r->ok = 1;
			pool = make_pool(prov, orders[o], chunks_for(max, chunk));
			if (!pool)
				goto pool_err;
			if (eff_run(pool, chunk, chunks_for(max, chunk), &r->eff, &r->packing) < 0) {
				fprintf(stderr, "netmem bench frag: pool ran dry (%s)\n", strerror(errno));
				netmem_pool_destroy(pool);
				goto out;
			}
			paired(time_chunk_now, cpool[o], time_frag_now, pool, &r->chunk_now,
			       &r->frag_now, &r->ratio_now);
			paired(time_chunk_batch, cpool[o], time_frag_batch, pool, &r->chunk_batch,
			       &r->frag_batch, &r->ratio_batch);
			paired(time_chunk_window, wpool, time_frag_window, pool, &r->chunk_window,
			       &r->frag_window, &r->ratio_window);
			netmem_pool_destroy(pool);
			if (!strcmp(r->mix, "1500") && chunk == 65536) {
				eff_target = r->eff;
				ref_now = r->ratio_now;
				ref_batch = r->ratio_batch;
			}
			if (r->ratio_now > ratio_max) {
				ratio_max = r->ratio_now;
				worst_now = r;
			}
			if (r->ratio_window > ratio_window_max) {
				ratio_window_max = r->ratio_window;
				worst_window = r;
			}
			if (r->ratio_batch > ratio_batch_max) {
				ratio_batch_max = r->ratio_batch;
				worst_batch = r;
			}
		}
	}

	/* The cost target is judged where the efficiency target is, 1500 B
	 * on 64 KiB chunks, put at once and in batches of 64; the worst rows
	 * are shown beside it (chunks that hold one or two packets: nearly
	 * every fragment takes a new chunk, where whole chunks would do). */
	ratio_met = ref_now > 0 && ref_now <= 2 && ref_batch <= 2;
	if (json) {
		printf("{\"benchmark\":\"frag\",\"provider\":\"%s\",\"iters\":%ld,\"reps\":%d,"
		       "\"window\":%ld,\"align\":%d,\"results\":[",
		       spec, iters, reps, window, ALIGN);
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];

			printf("%s{\"packet\":\"%s\",\"chunk\":%u,\"frame2k_efficiency\":%.4f,"
			       "\"frame4k_efficiency\":%.4f",
			       i ? "," : "", r->mix, r->chunk, r->frame2k, r->frame4k);
			if (r->ok)
				printf(",\"efficiency\":%.4f,\"packing\":%.4f,\"frag_alloc_put_ns\":%.3f,"
				       "\"chunk_alloc_put_ns\":%.3f,\"ratio\":%.3f,"
				       "\"frag_alloc_put_batch_ns\":%.3f,\"chunk_alloc_put_batch_ns\":%.3f,"
				       "\"ratio_batch\":%.3f,"
				       "\"frag_alloc_put_window_ns\":%.3f,\"chunk_alloc_put_window_ns\":%.3f,"
				       "\"ratio_window\":%.3f}",
				       r->eff, r->packing, r->frag_now, r->chunk_now, r->ratio_now,
				       r->frag_batch, r->chunk_batch, r->ratio_batch,
				       r->frag_window, r->chunk_window, r->ratio_window);
			else
				printf(",\"efficiency\":null,\"note\":\"packet larger than the chunk\"}");
		}
		printf("],\"targets\":{\"efficiency_1500_64k\":%.4f,\"efficiency_met\":%s,"
		       "\"ratio_1500_64k\":%.3f,\"ratio_batch_1500_64k\":%.3f,\"ratio_met\":%s,"
		       "\"max_ratio\":%.3f,\"max_ratio_batch\":%.3f,\"max_ratio_window\":%.3f}}\n",
		       eff_target, eff_target >= 0.95 ? "true" : "false", ref_now, ref_batch,
		       ratio_met ? "true" : "false", ratio_max, ratio_batch_max, ratio_window_max);
	} else {
		printf("fragment benchmark, provider %s, window %ld packets, %d-byte alignment, "
		       "median of %d runs of %ld ops\n",
		       spec, window, ALIGN, reps, iters);
		printf("%-6s %8s %7s %7s %7s %7s %8s %8s %6s %8s %8s %6s %8s %8s %6s\n", "packet",
		       "chunk", "effic", "packing", "frm2k", "frm4k", "frag_now", "chnk_now", "x_now",
		       "frag_b64", "chnk_b64", "x_b64", "frag_win", "chnk_win", "x_win");
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];

			if (!r->ok) {
				printf("%-6s %8u %7s %7s %6.1f%% %6.1f%%  (packet larger than the chunk)\n",
				       r->mix, r->chunk, "-", "-", 100 * r->frame2k, 100 * r->frame4k);
				continue;
			}
			printf("%-6s %8u %6.1f%% %6.1f%% %6.1f%% %6.1f%% %8.2f %8.2f %6.2f %8.2f %8.2f "
			       "%6.2f %8.2f %8.2f %6.2f\n",
			       r->mix, r->chunk, 100 * r->eff, 100 * r->packing, 100 * r->frame2k,
			       100 * r->frame4k, r->frag_now, r->chunk_now, r->ratio_now,
			       r->frag_batch, r->chunk_batch, r->ratio_batch, r->frag_window,
			       r->chunk_window, r->ratio_window);
		}
		printf("targets at 1500 B on 64 KiB chunks: efficiency %.1f%% (>= 95%%: %s); "
		       "fragment / chunk alloc+put %.2f put at once, %.2f in batches of 64 "
		       "(<= 2: %s)\n",
		       100 * eff_target, eff_target >= 0.95 ? "met" : "NOT met", ref_now, ref_batch,
		       ratio_met ? "met" : "NOT met");
		if (worst_now && worst_batch && worst_window)
			printf("worst rows: %.2f at once (%s B on %u), %.2f in batches (%s B on %u), "
			       "%.2f with the window (%s B on %u)\n",
			       ratio_max, worst_now->mix, worst_now->chunk, ratio_batch_max,
			       worst_batch->mix, worst_batch->chunk, ratio_window_max,
			       worst_window->mix, worst_window->chunk);
	}
	ret = 0;
	goto out;
pool_err:
	fprintf(stderr, "netmem bench frag: %s\n", netmem_last_error());
out:
	for (size_t o = 0; o < nord; o++)
		if (cpool[o])
			netmem_pool_destroy(cpool[o]);
	if (wpool)
		netmem_pool_destroy(wpool);
	free(wbuf);
	netmem_provider_destroy(prov);
	return ret;
}
