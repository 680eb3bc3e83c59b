/* SPDX-License-Identifier: MIT */
/*
 * netmem soak: a long receive run with everything going wrong, checking that
 * nothing is lost and memory stays flat.
 *
 * The run is a sequence of epochs. Each epoch creates a payload provider
 * wrapped in the fault injector (allocations failing at random, short
 * batches, failing device writes), a sim NIC on it with several queues and
 * its own faults (drops, truncated writes delivered flagged, completion
 * overflows), one receive thread per queue and one thread per queue that
 * gives the tokens back (holding a window of them, so the device feels
 * back-pressure). Late in the epoch the provider is revoked under live
 * traffic; then the threads stop, every token is given back, and the
 * epoch's books must balance:
 *   - every generated frame was delivered or counted as a drop,
 *   - every token issued was released, none refused,
 *   - no payload packet failed its end-to-end check (except flagged ones),
 *   - destroying the device leaves no token out, and neither the payload
 *     provider nor the header provider (host memory of its own) an area.
 * Resident memory (/proc/self/statm) is sampled after every epoch; the run
 * fails if it ends more than --margin-mb above its value after the warm-up,
 * or if the samples of the last third of the run after the warm-up (and,
 * under AddressSanitizer, after 40 s) sit more than 2 MiB above those of
 * the first third (medians: a steady leak below the margin). The heap's
 * live bytes (the sanitizer allocator's count, else mallinfo2()) are
 * sampled alike and may rise by at most 512 KiB: a leak of a few KiB per
 * epoch that resident memory, moving in pages and arenas, hides.
 *
 * Every epoch must also have delivered packets (a receiver that failed to
 * take its queue, or whose recv failed, fails the run), and the run must
 * have verified packets and, with the default faults, injected some.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netmem/netmem.h"
#include "netmem/sim.h"
#include "cmds.h"
#include "../bench/bench.h"

#define BATCH 64
#define TREND_KIB 2048 /* growth of the rss median allowed over the run */
#define HEAP_TREND_KIB 512 /* growth of the live heap's median allowed */
#define DEFAULT_FAULTS "fail=4,short=2,wfail=20000"
/* Trend samples start after the warm-up and, under AddressSanitizer, not
 * before 40 s: its quarantine (16 MiB as CI sets it) takes 20-30 s of this
 * churn to fill, a rise that is not a leak. */
#if defined(__SANITIZE_ADDRESS__)
#define TREND_START_S 40.0
#else
#define TREND_START_S 0.0
#endif
#define RING  4096 /* tokens in flight from a receiver to its returner */

struct soak_queue {
	struct netmem_rxq *q;
	pthread_t rx_thr, ret_thr;
	/* receiver -> returner, single producer single consumer */
	_Atomic uint64_t head, tail;
	uint64_t ring[RING];
	_Atomic int rx_done;
	unsigned hold;
	unsigned verify_every;
	/* results, read after join */
	uint64_t verified, bad, flagged, revoked_reads, self_released, release_errors;
	uint64_t recv_errors;
	int owner_error;
	char first_bad[128];
};

static _Atomic int stop_rx;

static const uint32_t imix[] = {64, 576, 64, 1500, 64, 576, 64, 576, 64, 64, 576, 9000};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Live heap bytes: AddressSanitizer's allocator counts them exactly (freed
 * blocks in its quarantine are not live); glibc's mallinfo2() otherwise. */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

static long heap_kib(void)
{
	if (__sanitizer_get_current_allocated_bytes)
		return (long)(__sanitizer_get_current_allocated_bytes() / 1024);
	{
		struct mallinfo2 mi = mallinfo2();

		return (long)((mi.uordblks + mi.hblkhd) / 1024);
	}
}

/* Resident set size in KiB, from /proc/self/statm. */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, res = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: netmem soak [OPTIONS]\n"
	    "Receive on the sim NIC for a long time with fault injection and periodic\n"
	    "revoke and re-create of the payload provider; check conservation at every\n"
	    "epoch and that resident memory stays flat. Exit 0 only if all holds.\n\n"
	    "  --seconds S      run time (default 60)\n"
	    "  --queues N       receive queues, each with a receiver and a returner thread "
	    "(default 4)\n"
	    "  --epoch S        seconds per provider lifetime; revoked at 80%% (default 2)\n"
	    "  --provider LIST  inner payload providers, '+'-separated, one per epoch in\n"
	    "                   turn (default host+memfd+devsim, those registered)\n"
	    "  --faults ARGS    fault wrapper keys (default fail=4,short=2,wfail=20000)\n"
	    "  --rate PPS       frames per second per queue (default 50000; 0 = unlimited)\n"
	    "  --hold N         tokens each returner keeps back (default 128)\n"
	    "  --verify-every N check every Nth packet end to end (default 8; 1 = all, 0 = none)\n"
	    "  --warmup S       seconds before the memory reference is taken (default S/5, 2..60)\n"
	    "  --margin-mb M    allowed growth of resident memory after warm-up (default 16)\n"
	    "  --verbose        one line per epoch\n"
	    "  --help           this text\n"
	    "Under AddressSanitizer set ASAN_OPTIONS=quarantine_size_mb=16 (or similar):\n"
	    "its quarantine of freed memory otherwise grows the resident size for minutes.\n");
}

/* Receiver: the queue's owner. */
static void *rx_main(void *arg)
{
	struct soak_queue *s = arg;
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t n_pkts = 0;

	if (netmem_rxq_set_owner(s->q)) {
		s->owner_error = 1;
		atomic_store_explicit(&s->rx_done, 1, memory_order_release);
		return NULL;
	}
	while (!atomic_load_explicit(&stop_rx, memory_order_relaxed)) {
		int n = netmem_rxq_recv(s->q, pkts, BATCH);

		if (n < 0)
			s->recv_errors++;
		if (n <= 0) /* rate-limited device: nothing yet */
			usleep(500);
		for (int i = 0; i < n; i++) {
			struct netmem_rx_pkt *p = &pkts[i];

			if (s->verify_every && ++n_pkts % s->verify_every == 0) {
				int ret = netmem_sim_verify(s->q, p);

				if (ret == 0) {
					s->verified++;
				} else if (ret == -ENODEV) {
					s->revoked_reads++;
				} else if (p->flags & NETMEM_RX_TRUNCATED) {
					s->flagged++; /* delivered flagged: expected to differ */
				} else {
					if (!s->bad)
						snprintf(s->first_bad, sizeof(s->first_bad),
							 "seq %" PRIu64 " len %u flags %#x: %s",
							 p->seq, p->len, p->flags, strerror(-ret));
					s->bad++;
				}
			}
			for (unsigned j = 0; j < p->nr_frags; j++) {
				/* acquire: the returner's tail store after it read
				 * the slots we are about to reuse. */
				uint64_t h = atomic_load_explicit(&s->head, memory_order_relaxed);
				uint64_t t = atomic_load_explicit(&s->tail, memory_order_acquire);

				if (h - t == RING) { /* returner behind: give it back here */
					if (netmem_rxq_release(s->q, &p->frag[j].token, 1) != 1)
						s->release_errors++;
					s->self_released++;
					continue;
				}
				s->ring[h % RING] = p->frag[j].token;
				/* release: the slot's store before the new head. */
				atomic_store_explicit(&s->head, h + 1, memory_order_release);
			}
		}
	}
	/* release: every push happens before the returner sees rx_done. */
	atomic_store_explicit(&s->rx_done, 1, memory_order_release);
	return NULL;
}

/* Returner: gives tokens back from another thread, holding a window. */
static void *ret_main(void *arg)
{
	struct soak_queue *s = arg;
	uint64_t *win = calloc(s->hold + BATCH, sizeof(*win));
	unsigned nwin = 0;

	if (!win) {
		s->release_errors++;
		return NULL;
	}
	for (;;) {
		/* acquire rx_done before head: after it, head is final. */
		int done = atomic_load_explicit(&s->rx_done, memory_order_acquire);
		/* acquire: pairs with the receiver's release of head. */
		uint64_t h = atomic_load_explicit(&s->head, memory_order_acquire);
		uint64_t t = atomic_load_explicit(&s->tail, memory_order_relaxed);
		unsigned got = 0;

		while (t != h && got < BATCH) {
			win[nwin++] = s->ring[t % RING];
			t++;
			got++;
		}
		/* release: our reads of the slots before the receiver reuses them. */
		atomic_store_explicit(&s->tail, t, memory_order_release);
		if (nwin > s->hold || (done && t == h)) {
			unsigned n = done && t == h ? nwin : nwin - s->hold;

			if (n && netmem_rxq_release(s->q, win, n) != (int)n)
				s->release_errors++;
			memmove(win, win + n, (nwin - n) * sizeof(*win));
			nwin -= n;
		}
		if (done && t == h && nwin == 0)
			break;
		if (!got)
			sched_yield();
	}
	free(win);
	return NULL;
}

struct totals {
	uint64_t epochs, packets, bytes, drops, drop_revoked, drop_fault, drop_no_buf;
	uint64_t verified, flagged, failures, faults_alloc, faults_write, alloc_calls;
};

/* One provider lifetime. Returns the number of conservation failures. */
/* The payload provider of an epoch: the fault wrapper around one inner
 * provider. Returns 0, or -1 when the spec does not fit buf. */
static int fault_spec(char *buf, size_t len, const char *faults, unsigned seed,
		      const char *inner)
{
	int n = snprintf(buf, len, "fault:%s%sseed=%u,inner=%s", faults, *faults ? "," : "", seed,
			 inner);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int run_epoch(unsigned e, double secs, const char *inner, const char *faults, unsigned nq,
		     uint64_t rate, unsigned hold, unsigned verify_every, int verbose,
		     struct totals *tot)
{
	struct soak_queue *qs = calloc(nq, sizeof(*qs));
	struct netmem_sim_params sp;
	struct netmem_provider *prov, *hprov;
	struct netmem_fault_stats fs;
	struct netmem_sim *sim;
	char spec[512];
	int fail = 0, held;
	double t0;

	if (!qs)
		return 1;
	/* main() built this spec once already: it fits. */
	fault_spec(spec, sizeof(spec), faults, e + 1, inner);
	prov = netmem_provider_create(spec);
	hprov = netmem_provider_create("host");
	if (!prov || !hprov) {
		fprintf(stderr, "netmem soak: provider '%s': %s\n", prov ? "host" : spec,
			netmem_last_error());
		if (prov)
			netmem_provider_destroy(prov);
		free(qs);
		return 1;
	}
	netmem_sim_params_init(&sp, prov);
	sp.header = hprov; /* ours, to count its areas at the end */
	sp.nr_queues = nq;
	sp.sizes = imix;
	sp.nr_sizes = sizeof(imix) / sizeof(imix[0]);
	sp.payload_chunks = 256;
	sp.ring_size = 256;
	sp.nr_flows = 256;
	sp.drop_ppm = 1000;
	sp.trunc_ppm = 1000;
	sp.overflow_ppm = 1000;
	sp.flags = NETMEM_SIM_DELIVER_ERRORS;
	sp.seed = e + 1;
	sp.rate_pps = rate;
	sim = netmem_sim_create(&sp);
	if (!sim) {
		fprintf(stderr, "netmem soak: sim: %s\n", netmem_last_error());
		netmem_provider_destroy(prov);
		netmem_provider_destroy(hprov);
		free(qs);
		return 1;
	}
	atomic_store(&stop_rx, 0);
	for (unsigned i = 0; i < nq; i++) {
		qs[i].q = netmem_sim_rxq(sim, i);
		qs[i].hold = hold;
		qs[i].verify_every = verify_every;
		if (pthread_create(&qs[i].rx_thr, NULL, rx_main, &qs[i]) ||
		    pthread_create(&qs[i].ret_thr, NULL, ret_main, &qs[i])) {
			/* A failure of this run, not a usage error: nothing to
			 * unwind safely under threads already running. */
			fprintf(stderr, "netmem soak: cannot start threads\n");
			exit(1);
		}
	}
	/* Live traffic, then the device goes away under it. */
	t0 = now_s();
	while (now_s() - t0 < secs * 0.8)
		usleep(10000);
	netmem_provider_revoke(prov);
	while (now_s() - t0 < secs)
		usleep(10000);
	atomic_store(&stop_rx, 1);
	for (unsigned i = 0; i < nq; i++) {
		pthread_join(qs[i].rx_thr, NULL);
		pthread_join(qs[i].ret_thr, NULL);
	}
	/* The books of each queue, with every token back. */
	for (unsigned i = 0; i < nq; i++) {
		struct soak_queue *s = &qs[i];
		struct netmem_rxq_stats st;

		netmem_rxq_set_owner(s->q);
		/* A queue whose thread was kept off the CPU since the revoke
		 * notices it here; after that it must post nothing. */
		netmem_rxq_refill(s->q);
		netmem_rxq_stats(s->q, &st);
		if (st.generated != st.packets + st.drops) {
			fprintf(stderr,
				"netmem soak: epoch %u queue %u: generated %" PRIu64
				" != packets %" PRIu64 " + drops %" PRIu64 "\n",
				e, i, st.generated, st.packets, st.drops);
			fail++;
		}
		/* released is counted by the release calls, held from the
		 * queue's reference count: two books that must agree. */
		if (st.tokens_held || st.tokens_issued != st.tokens_released + st.tokens_held ||
		    st.bad_release || s->release_errors) {
			fprintf(stderr,
				"netmem soak: epoch %u queue %u: tokens issued %" PRIu64
				" released %" PRIu64 " held %" PRIu64 " refused %" PRIu64
				", release errors %" PRIu64 "\n",
				e, i, st.tokens_issued, st.tokens_released, st.tokens_held,
				st.bad_release, s->release_errors);
			fail++;
		}
		if (s->owner_error || s->recv_errors || !st.packets) {
			fprintf(stderr,
				"netmem soak: epoch %u queue %u: %s, %" PRIu64 " recv errors, %" PRIu64
				" packets delivered\n",
				e, i, s->owner_error ? "could not take the queue" : "queue taken",
				s->recv_errors, st.packets);
			fail++;
		}
		if (s->bad) {
			fprintf(stderr,
				"netmem soak: epoch %u queue %u: %" PRIu64
				" packets failed verification, first: %s\n",
				e, i, s->bad, s->first_bad);
			fail++;
		}
		if (!st.revoked || st.posted) {
			fprintf(stderr,
				"netmem soak: epoch %u queue %u: revoke not seen (%" PRIu64
				" payload buffers still posted)\n",
				e, i, st.posted);
			fail++;
		}
		tot->packets += st.packets;
		tot->bytes += st.bytes;
		tot->drops += st.drops;
		tot->drop_revoked += st.drop_revoked;
		tot->drop_fault += st.drop_fault;
		tot->drop_no_buf += st.drop_no_buf;
		tot->verified += s->verified;
		tot->flagged += s->flagged;
	}
	netmem_fault_stats(prov, &fs);
	tot->faults_alloc += fs.alloc_failed + fs.alloc_short;
	tot->faults_write += fs.write_failed;
	tot->alloc_calls += fs.alloc_calls;
	held = netmem_sim_destroy(sim);
	if (held != 0) {
		fprintf(stderr, "netmem soak: epoch %u: %d tokens out at destroy\n", e, held);
		fail++;
	}
	if (netmem_provider_nr_areas(prov) != 0) {
		fprintf(stderr, "netmem soak: epoch %u: %u payload areas left after destroy\n", e,
			netmem_provider_nr_areas(prov));
		fail++;
	}
	/* A header buffer not given back keeps its pool, and so its area. */
	if (netmem_provider_nr_areas(hprov) != 0) {
		fprintf(stderr, "netmem soak: epoch %u: %u header areas left after destroy\n", e,
			netmem_provider_nr_areas(hprov));
		fail++;
	}
	netmem_provider_destroy(hprov);
	if (verbose)
		printf("epoch %u (%s): %" PRIu64 " alloc faults of %" PRIu64 " calls, %" PRIu64
		       " write faults, %s\n",
		       e, inner, fs.alloc_failed + fs.alloc_short, fs.alloc_calls, fs.write_failed,
		       fail ? "FAILED" : "ok");
	netmem_provider_destroy(prov);
	free(qs);
	tot->epochs++;
	return fail;
}

int netmem_cmd_soak(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seconds", required_argument, NULL, 's'},
	    {"queues", required_argument, NULL, 'q'},
	    {"epoch", required_argument, NULL, 'e'},
	    {"provider", required_argument, NULL, 'p'},
	    {"faults", required_argument, NULL, 'f'},
	    {"hold", required_argument, NULL, 'H'},
	    {"rate", required_argument, NULL, 'r'},
	    {"verify-every", required_argument, NULL, 'V'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"margin-mb", required_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	double seconds = 60, epoch = 2, warmup = -1, margin_mb = 16;
	double *samples = NULL; /* rss KiB after each epoch past the warm-up */
	size_t nr_samples = 0, cap_samples = 0;
	unsigned nq = 4, hold = 128, verify_every = 8;
	uint64_t rate = 50000;
	const char *inner = NULL, *faults = DEFAULT_FAULTS;
	double *heap = NULL; /* live heap KiB, sampled with samples[] */
	char inners[8][128];
	unsigned nr_inner = 0;
	int verbose = 0, c, failures = 0, status;
	long rss_start, rss_warm = -1, rss_max, rss_end, rss;
	double t0, last_print;
	struct totals tot = {0};
	unsigned e = 0, rss_warm_epoch = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (netmem_arg_double("soak", "--seconds", optarg, 0.1, 7 * 86400, &seconds))
				return 2;
			break;
		case 'q':
			if (netmem_arg_unsigned("soak", "--queues", optarg, 1, NETMEM_SIM_MAX_QUEUES,
						&nq))
				return 2;
			break;
		case 'e':
			if (netmem_arg_double("soak", "--epoch", optarg, 0.1, 3600, &epoch))
				return 2;
			break;
		case 'p':
			inner = optarg;
			break;
		case 'f':
			faults = optarg;
			break;
		case 'H':
			if (netmem_arg_unsigned("soak", "--hold", optarg, 0, 1u << 20, &hold))
				return 2;
			break;
		case 'r':
			if (netmem_arg_u64("soak", "--rate", optarg, 0, UINT64_C(1) << 40, &rate))
				return 2;
			break;
		case 'V':
			if (netmem_arg_unsigned("soak", "--verify-every", optarg, 0, 1u << 30,
						&verify_every))
				return 2;
			break;
		case 'w':
			if (netmem_arg_double("soak", "--warmup", optarg, 0, 7 * 86400, &warmup))
				return 2;
			break;
		case 'm':
			if (netmem_arg_double("soak", "--margin-mb", optarg, 0, 1000000, &margin_mb))
				return 2;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (seconds <= 0 || epoch <= 0.05 || nq < 1 || nq > NETMEM_SIM_MAX_QUEUES ||
	    margin_mb < 0 || hold > 1u << 20) {
		usage(stderr);
		return 2;
	}
	if (!inner) {
		static char dflt[64];

		snprintf(dflt, sizeof(dflt), "host%s%s",
			 netmem_provider_lookup("memfd") ? "+memfd" : "",
			 netmem_provider_lookup("devsim") ? "+devsim" : "");
		inner = dflt;
	}
	for (const char *s = inner; *s;) {
		size_t n = strcspn(s, "+");

		if (n == 0 || n >= sizeof(inners[0]) ||
		    nr_inner == sizeof(inners) / sizeof(inners[0])) {
			fprintf(stderr,
				"netmem soak: --provider wants up to %zu specs of under %zu "
				"characters, '+'-separated\n",
				sizeof(inners) / sizeof(inners[0]), sizeof(inners[0]));
			return 2;
		}
		memcpy(inners[nr_inner], s, n);
		inners[nr_inner++][n] = 0;
		s += n + (s[n] == '+');
	}
	if (netmem_arg_none("soak", argc, argv, optind))
		return 2;
	/* Every provider and the fault keys once, before the run: a bad spec
	 * is a usage error, not one failure per epoch. */
	for (unsigned i = 0; i < nr_inner; i++) {
		char spec[512];
		struct netmem_provider *p;

		if (fault_spec(spec, sizeof(spec), faults, 1, inners[i])) {
			fprintf(stderr, "netmem soak: --faults too long\n");
			return 2;
		}
		p = netmem_arg_provider("soak", spec, &status);
		if (!p)
			return status;
		netmem_provider_destroy(p);
	}
	if (warmup < 0)
		warmup = seconds / 5 < 2 ? 2 : seconds / 5 > 60 ? 60 : seconds / 5;
	if (warmup > seconds)
		warmup = seconds;
	rss_start = rss_max = rss_kib();
	printf("netmem soak: %.0f s, %u queues at %" PRIu64 " pps each, epochs of %.1f s, "
	       "payload fault:%s,inner=%s, warm-up %.0f s, margin %.0f MiB\n",
	       seconds, nq, rate, epoch, faults, inner, warmup, margin_mb);
	fflush(stdout);
	t0 = last_print = now_s();
	/* Epochs back to back; memory sampled after each. */
	while (now_s() - t0 < seconds) {
		double left = seconds - (now_s() - t0);

		failures += run_epoch(e, left < epoch ? (left > 0.1 ? left : 0.1) : epoch,
				      inners[e % nr_inner], faults, nq, rate, hold, verify_every,
				      verbose, &tot);
		e++;
		rss = rss_kib();
		if (rss > rss_max)
			rss_max = rss;
		if (rss_warm < 0 && now_s() - t0 >= warmup) {
			rss_warm = rss;
			rss_warm_epoch = e;
		} else if (rss_warm >= 0 && rss >= 0 && now_s() - t0 >= TREND_START_S) {
			if (nr_samples == cap_samples) {
				size_t cap = cap_samples ? 2 * cap_samples : 256;
				double *ns = realloc(samples, cap * sizeof(*samples));

				if (ns)
					samples = ns;
				ns = ns ? realloc(heap, cap * sizeof(*heap)) : NULL;
				if (!ns) {
					fprintf(stderr, "netmem soak: out of memory\n");
					return 1;
				}
				heap = ns;
				cap_samples = cap;
			}
			heap[nr_samples] = (double)heap_kib();
			samples[nr_samples++] = rss;
		}
		if (now_s() - last_print >= 10) {
			last_print = now_s();
			printf("  %4.0f s: %" PRIu64 " epochs, %" PRIu64 " packets, %" PRIu64
			       " drops, rss %ld KiB, %d failures\n",
			       now_s() - t0, tot.epochs, tot.packets, tot.drops, rss, failures);
			fflush(stdout);
		}
	}
	rss_end = rss_kib();
	if (rss_end > rss_max)
		rss_max = rss_end;
	printf("netmem soak: %" PRIu64 " epochs (provider created, revoked under traffic and "
	       "destroyed each), %" PRIu64 " packets, %.2f GB\n",
	       tot.epochs, tot.packets, tot.bytes / 1e9);
	printf("  drops %" PRIu64 " (revoked %" PRIu64 ", injected drops and failed writes %" PRIu64
	       ", no buffer %" PRIu64 "), injected allocation faults %" PRIu64 " of %" PRIu64
	       " calls, write faults %" PRIu64 "\n",
	       tot.drops, tot.drop_revoked, tot.drop_fault, tot.drop_no_buf, tot.faults_alloc,
	       tot.alloc_calls, tot.faults_write);
	printf("  verified %" PRIu64 " packets end to end (%" PRIu64 " flagged truncated)\n",
	       tot.verified, tot.flagged);
	/* A run that checked nothing must not pass. */
	if (verify_every && !tot.verified) {
		printf("  verify: no packet was verified\n");
		failures++;
	}
	if (!strcmp(faults, DEFAULT_FAULTS) && !tot.faults_alloc) {
		printf("  faults: none was injected\n");
		failures++;
	}
	printf("  conservation: %s (%d failures)\n", failures ? "FAILED" : "held", failures);
	if (rss_warm < 0 || rss_end < 0 || rss_warm_epoch == e) {
		/* No epoch ran after the reference (a run no longer than its
		 * warm-up), or no reading: nothing to compare. */
		printf("  rss KiB: start %ld, max %ld, end %ld\n", rss_start, rss_max, rss_end);
		printf("  memory: not checked (no epoch after the %.0f s warm-up)\n", warmup);
		free(samples);
		free(heap);
		return failures ? 1 : 0;
	}
	printf("  rss KiB: start %ld, after warm-up %ld, max %ld, end %ld (end - warm-up %+ld, "
	       "margin %ld)\n",
	       rss_start, rss_warm, rss_max, rss_end, rss_end - rss_warm, (long)(margin_mb * 1024));
	if (rss_end - rss_warm > (long)(margin_mb * 1024)) {
		printf("  memory: GREW beyond the margin\n");
		free(samples);
		free(heap);
		return 1;
	}
	/* A steady leak below the margin: the last third against the first. */
	if (nr_samples >= 6) {
		size_t k = nr_samples / 3;
		/* the two thirds do not overlap: each sorted in place */
		long first = (long)bench_median(samples, (int)k),
		     last = (long)bench_median(samples + nr_samples - k, (int)k),
		     hfirst = (long)bench_median(heap, (int)k),
		     hlast = (long)bench_median(heap + nr_samples - k, (int)k);
		int grew = last - first > TREND_KIB || hlast - hfirst > HEAP_TREND_KIB;

		printf("  rss trend: median of the first third after warm-up %ld KiB, of the last "
		       "%ld KiB (%+ld, limit +%d)\n",
		       first, last, last - first, TREND_KIB);
		printf("  heap trend: live heap %ld KiB, then %ld KiB (%+ld, limit +%d)\n", hfirst,
		       hlast, hlast - hfirst, HEAP_TREND_KIB);
		free(samples);
		free(heap);
		if (grew) {
			printf("  memory: GREW steadily\n");
			return 1;
		}
	} else {
		free(samples);
		free(heap);
		printf("  memory: end within the margin; trend not checked (%zu samples after "
		       "the warm-up, 6 needed)\n",
		       nr_samples);
		return failures ? 1 : 0;
	}
	printf("  memory: flat\n");
	return failures ? 1 : 0;
}
