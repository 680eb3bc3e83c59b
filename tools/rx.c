/* SPDX-License-Identifier: MIT */
/*
 * netmem rx: the main job. Receives on the sim software NIC with header
 * split (headers in host memory, payload in the chosen provider's memory),
 * one thread per queue, and shows what the receive path does: packets/s,
 * Gbit/s, buffers in flight, drops; back-pressure (--hold), device unplug
 * (--revoke-after), end-to-end checks (--verify).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netmem/netmem.h"
#include "netmem/sim.h"
#include "cmds.h"

#define BATCH 64

struct worker {
	pthread_t thr;
	struct netmem_rxq *q;
	unsigned hold;
	int verify;
	/* snapshot for the display, under lock */
	pthread_mutex_t lock;
	struct netmem_rxq_stats snap;
	uint64_t verified, bad;
	char first_bad[160];
};

static _Atomic int stop;

static const uint32_t imix[] = { 64, 576, 64, 1500, 64, 576, 64, 576, 64, 64, 576, 64 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netmem rx [OPTIONS]\n"
		"Receive on the sim software NIC: headers split into host memory, payload\n"
		"written into the provider's memory, payload tokens given back in batches.\n\n"
		"  --provider SPEC   payload memory (default: devsim when built in, else host)\n"
		"  --queues N        receive queues, one thread each (default 1)\n"
		"  --size N|imix     frame size in bytes, 64..9216, or an IMIX mix (default 1500)\n"
		"  --seconds S       run time (default 5)\n"
		"  --hold N          keep the last N tokens of each queue (back-pressure)\n"
		"  --revoke-after S  revoke the payload provider after S seconds\n"
		"  --verify          check every payload end to end (sequence, checksum)\n"
		"  --split N         header split offset (default %d)\n"
		"  --flows N         flows, spread over the queues by RSS (default 64)\n"
		"  --rate PPS        frames per second per queue (default: unlimited)\n"
		"  --xdp IFACE[:Q][,copy|zerocopy][,wakeup][,busy-poll][,skb]\n"
		"                    receive from a real netdev queue over AF_XDP instead of the\n"
		"                    sim NIC (--provider, --seconds, --hold, --split, --json apply)\n"
		"  --json            print the summary as JSON\n"
		"  --help            this text\n",
		NETMEM_SIM_HDR_LEN);
}

static void publish(struct worker *w, uint64_t verified, uint64_t bad)
{
	struct netmem_rxq_stats st;

	netmem_rxq_stats(w->q, &st);
	pthread_mutex_lock(&w->lock);
	w->snap = st;
	w->verified = verified;
	w->bad = bad;
	pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t rel[BATCH * NETMEM_RX_MAX_FRAGS];
	uint64_t *fifo = NULL;
	unsigned head = 0, count = 0, cap = w->hold;
	uint64_t verified = 0, bad = 0, iter = 0;

	netmem_rxq_set_owner(w->q);
	if (cap) {
		fifo = calloc(cap, sizeof(*fifo));
		if (!fifo)
			cap = 0;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = netmem_rxq_recv(w->q, pkts, BATCH);
		unsigned nrel = 0;

		for (int i = 0; i < n; i++) {
			struct netmem_rx_pkt *p = &pkts[i];

			if (w->verify) {
				int ret = netmem_sim_verify(w->q, p);

				if (ret == 0) {
					verified++;
				} else if (ret != -ENODEV) {
					if (!bad)
						snprintf(w->first_bad, sizeof(w->first_bad),
							 "seq %" PRIu64 " len %u: %s", p->seq, p->len,
							 strerror(-ret));
					bad++;
				}
			}
			for (unsigned j = 0; j < p->nr_frags; j++) {
				uint64_t t = p->frag[j].token;

				if (cap) {
					/* Keep the newest `cap` tokens, give back the oldest. */
					if (count == cap)
						rel[nrel++] = fifo[head];
					else
						count++;
					fifo[head] = t;
					head = (head + 1) % cap;
				} else {
					rel[nrel++] = t;
				}
			}
		}
		if (nrel)
			netmem_rxq_release(w->q, rel, nrel);
		if ((++iter & 255) == 0)
			publish(w, verified, bad);
	}
	/* Give back what was held before the device goes. */
	for (unsigned i = 0; i < count; i++)
		netmem_rxq_release(w->q, &fifo[(head + cap - count + i) % cap], 1);
	free(fifo);
	publish(w, verified, bad);
	return NULL;
}

static void sum(struct worker *w, unsigned n, struct netmem_rxq_stats *tot, uint64_t *verified,
		uint64_t *bad)
{
	memset(tot, 0, sizeof(*tot));
	*verified = *bad = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_mutex_lock(&w[i].lock);
		netmem_rxq_stats_add(tot, &w[i].snap);
		*verified += w[i].verified;
		*bad += w[i].bad;
		pthread_mutex_unlock(&w[i].lock);
	}
}

static void human(double v, char *buf, size_t len)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

int netmem_cmd_rx(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "queues", required_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 't' },
		{ "hold", required_argument, NULL, 'H' },
		{ "revoke-after", required_argument, NULL, 'r' },
		{ "verify", no_argument, NULL, 'v' },
		{ "split", required_argument, NULL, 'S' },
		{ "flows", required_argument, NULL, 'f' },
		{ "rate", required_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "xdp", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = NULL, *note = NULL, *xdp = NULL, *sim_only = NULL;
	int split_set = 0;
	unsigned queues = 1, hold = 0, flows = 64, split = NETMEM_SIM_HDR_LEN;
	uint32_t size = 1500;
	int use_imix = 0, verify = 0, json = 0, c, ret = 0, revoked = 0, tty, status;
	double seconds = 5, revoke_after = -1, t0, t_end, t_revoke = 0, last = 0;
	uint64_t rate = 0, last_pk = 0, last_bytes = 0, verified, bad;
	struct netmem_provider *prov;
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct worker *w;
	struct netmem_rxq_stats tot;
	int held_after, areas_after;
	char sizedesc[16];

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		/* Options of the sim NIC alone (--xdp refuses them). */
		for (const struct option *o = opts; o->name && !sim_only; o++)
			if (o->val == c && strchr("qsrvfR", c))
				sim_only = o->name;
		switch (c) {
		case 'p': spec = optarg; break;
		case 'q':
			if (netmem_arg_unsigned("rx", "--queues", optarg, 1, NETMEM_SIM_MAX_QUEUES,
						&queues))
				return 2;
			break;
		case 's':
			if (!strcmp(optarg, "imix")) {
				use_imix = 1;
				break;
			}
			if (netmem_arg_unsigned("rx", "--size (or imix)", optarg,
						NETMEM_SIM_MIN_FRAME, NETMEM_SIM_MAX_FRAME, &size))
				return 2;
			use_imix = 0;
			break;
		case 't':
			if (netmem_arg_double("rx", "--seconds", optarg, 0.001, 86400, &seconds))
				return 2;
			break;
		case 'H':
			if (netmem_arg_unsigned("rx", "--hold", optarg, 0, 1u << 24, &hold))
				return 2;
			break;
		case 'r':
			if (netmem_arg_double("rx", "--revoke-after", optarg, 0, 86400, &revoke_after))
				return 2;
			break;
		case 'v': verify = 1; break;
		case 'S':
			split_set = 1;
			if (netmem_arg_unsigned("rx", "--split", optarg, 0, NETMEM_SIM_MAX_SPLIT, &split))
				return 2;
			break;
		case 'f':
			if (netmem_arg_unsigned("rx", "--flows", optarg, 1, 65536, &flows))
				return 2;
			break;
		case 'R':
			if (netmem_arg_u64("rx", "--rate", optarg, 0, UINT64_C(1) << 40, &rate))
				return 2;
			break;
		case 'j': json = 1; break;
		case 'X': xdp = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (netmem_arg_none("rx", argc, argv, optind)) {
		usage(stderr);
		return 2;
	}
	if (xdp && sim_only) {
		fprintf(stderr,
			"netmem rx: --%s is an option of the sim NIC; with --xdp only --provider, "
			"--seconds, --hold, --split and --json apply\n",
			sim_only);
		return 2;
	}
	if (revoke_after >= seconds) {
		fprintf(stderr,
			"netmem rx: --revoke-after %g is not within the run (--seconds %g): "
			"nothing would be revoked\n",
			revoke_after, seconds);
		return 2;
	}
	if (xdp) {
		struct netmem_rx_xdp_opts xo = { .target = xdp, .provider = spec,
						 .seconds = seconds, .hold = hold,
						 .split = split_set ? (int)split : -1, .json = json };

		if (!netmem_rx_xdp) {
			fprintf(stderr, "netmem rx: --xdp: built without libxdp/libbpf\n");
			return 1;
		}
		return netmem_rx_xdp(&xo);
	}
	if (!spec) {
		if (netmem_provider_lookup("devsim")) {
			spec = "devsim";
		} else {
			spec = "host";
			note = "devsim is not built into this library; payload on host memory";
		}
	}
	prov = netmem_arg_provider("rx", spec, &status);
	if (!prov)
		return status;
	netmem_sim_params_init(&sp, prov);
	sp.nr_queues = queues;
	sp.nr_flows = flows;
	sp.hdr_split = split;
	sp.rate_pps = rate;
	if (use_imix) {
		sp.sizes = imix;
		sp.nr_sizes = sizeof(imix) / sizeof(imix[0]);
	} else {
		sp.sizes = &size;
		sp.nr_sizes = 1;
	}
	sp.seed = (uint64_t)time(NULL);
	sim = netmem_sim_create(&sp);
	if (!sim) {
		/* EINVAL: options the device refuses together (a frame larger
		 * than one packet's buffers); else memory it could not get. */
		status = errno == EINVAL ? 2 : 1;
		fprintf(stderr, "netmem rx: sim NIC: %s\n", netmem_last_error());
		netmem_provider_destroy(prov);
		return status;
	}
	w = calloc(queues, sizeof(*w));
	if (!w) {
		fprintf(stderr, "netmem rx: out of memory\n");
		netmem_sim_destroy(sim);
		netmem_provider_destroy(prov);
		return 1;
	}
	tty = isatty(STDERR_FILENO);
	if (note && !json)
		fprintf(stderr, "netmem rx: note: %s\n", note);
	if (use_imix)
		snprintf(sizedesc, sizeof(sizedesc), "imix");
	else
		snprintf(sizedesc, sizeof(sizedesc), "%u", size);
	if (!json)
		printf("netmem rx: sim NIC, %u queue%s, %s%s frames, headers on host (split %u), "
		       "payload on %s, %.3g s%s%s\n",
		       queues, queues == 1 ? "" : "s", sizedesc, use_imix ? "" : "-byte", split,
		       spec, seconds, verify ? ", verifying" : "", hold ? ", holding tokens" : "");
	fflush(stdout);
	atomic_store(&stop, 0);
	for (unsigned i = 0; i < queues; i++) {
		w[i].q = netmem_sim_rxq(sim, i);
		w[i].hold = hold;
		w[i].verify = verify;
		pthread_mutex_init(&w[i].lock, NULL);
		if (pthread_create(&w[i].thr, NULL, worker_main, &w[i])) {
			/* The threads started stop and are joined below, once. */
			fprintf(stderr, "netmem rx: cannot start a thread\n");
			atomic_store(&stop, 1);
			queues = i;
			ret = 1;
			break;
		}
	}
	t0 = now_s();
	t_end = t0 + seconds;
	last = t0;
	while (!ret) {
		double t = now_s();

		/* The revoke before the end check: a loop woken late still
		 * revokes at its first look past --revoke-after. */
		if (revoke_after >= 0 && !revoked && t - t0 >= revoke_after) {
			netmem_provider_revoke(prov);
			revoked = 1;
			t_revoke = t - t0;
			if (tty && !json)
				fprintf(stderr, "\n");
			if (!json)
				fprintf(stderr, "netmem rx: payload provider %s revoked at %.2f s\n",
					spec, t_revoke);
		}
		if (t >= t_end)
			break;
		if (tty && !json && t - last >= 0.25) {
			char pps[16], gbps[16];

			sum(w, queues, &tot, &verified, &bad);
			human((double)(tot.packets - last_pk) / (t - last), pps, sizeof(pps));
			snprintf(gbps, sizeof(gbps), "%.2f", (double)(tot.bytes - last_bytes) * 8 / (t - last) / 1e9);
			fprintf(stderr,
				"\r%5.1fs  %8s pkt/s  %7s Gbit/s  in flight %6" PRIu64 " (held %" PRIu64
				")  drops %" PRIu64 "%s   ",
				t - t0, pps, gbps, tot.tokens_held + tot.posted, tot.tokens_held,
				tot.drops, tot.revoked ? "  [revoked]" : "");
			last = t;
			last_pk = tot.packets;
			last_bytes = tot.bytes;
		}
		usleep(20000);
	}
	atomic_store(&stop, 1);
	for (unsigned i = 0; i < queues; i++)
		pthread_join(w[i].thr, NULL);
	t_end = now_s();
	if (tty && !json)
		fprintf(stderr, "\n");
	sum(w, queues, &tot, &verified, &bad);
	for (unsigned i = 0; i < queues; i++)
		netmem_rxq_set_owner(w[i].q);
	held_after = netmem_sim_destroy(sim);
	areas_after = (int)netmem_provider_nr_areas(prov);
	{
		double el = t_end - t0;
		double pps = (double)tot.packets / el, gbps = (double)tot.bytes * 8 / el / 1e9;

		if (json) {
			printf("{\"provider\":\"%s\",\"queues\":%u,\"size\":%s%s%s,\"split\":%u,"
			       "\"seconds\":%.3f,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"pps\":%.0f,\"gbps\":%.3f,\"generated\":%" PRIu64
			       ",\"drops\":%" PRIu64 ",\"drop_no_buf\":%" PRIu64 ",\"drop_revoked\":%" PRIu64
			       ",\"drop_fault\":%" PRIu64 ",\"drop_overflow\":%" PRIu64
			       ",\"drop_no_token\":%" PRIu64
			       ",\"drop_truncated\":%" PRIu64 ",\"tokens_issued\":%" PRIu64
			       ",\"tokens_released\":%" PRIu64 ",\"bad_release\":%" PRIu64
			       ",\"hold\":%u,\"verify\":%s,\"verified\":%" PRIu64 ",\"verify_failed\":%" PRIu64
			       ",\"revoked\":%s,\"revoke_at\":%.3f,\"tokens_left\":%d,\"areas_left\":%d}\n",
			       spec, queues, use_imix ? "\"" : "", sizedesc, use_imix ? "\"" : "", split, el, tot.packets, tot.bytes, pps, gbps,
			       tot.generated, tot.drops, tot.drop_no_buf, tot.drop_revoked,
			       tot.drop_fault, tot.drop_overflow, tot.drop_no_token, tot.drop_truncated,
			       tot.tokens_issued,
			       tot.tokens_released, tot.bad_release, hold, verify ? "true" : "false",
			       verified, bad, revoked || tot.revoked ? "true" : "false",
			       revoked ? t_revoke : 0.0,
			       held_after, areas_after);
		} else {
			char p1[16];

			human(pps, p1, sizeof(p1));
			printf("received %" PRIu64 " packets in %.2f s: %s pkt/s, %.2f Gbit/s\n",
			       tot.packets, el, p1, gbps);
			printf("generated %" PRIu64 ", dropped %" PRIu64 " (no buffer %" PRIu64
			       ", revoked %" PRIu64 ", fault %" PRIu64 ", overflow %" PRIu64
			       ", no token %" PRIu64 ", truncated %" PRIu64 ")\n",
			       tot.generated, tot.drops, tot.drop_no_buf, tot.drop_revoked, tot.drop_fault,
			       tot.drop_overflow, tot.drop_no_token, tot.drop_truncated);
			printf("tokens: %" PRIu64 " issued, %" PRIu64 " released, %" PRIu64
			       " refused%s\n",
			       tot.tokens_issued, tot.tokens_released, tot.bad_release,
			       hold ? " (held back per queue: --hold)" : "");
			if (verify) {
				/* The first failure of the first queue that had one. */
				const char *first = "";

				for (unsigned i = 0; bad && i < queues && !*first; i++)
					first = w[i].first_bad;
				printf("verify: %" PRIu64 " packets checked end to end, %" PRIu64 " bad%s%s\n",
				       verified, bad, *first ? ", first: " : "", first);
			}
			if (revoked)
				printf("revoke: provider %s revoked at %.2f s; receive went on, %" PRIu64
				       " payload frames dropped; %d area%s still mapped\n",
				       spec, t_revoke, tot.drop_revoked, areas_after,
				       areas_after == 1 ? "" : "s");
			else if (tot.revoked)
				printf("revoke: provider %s was revoked during the run (not by --revoke-after); "
				       "%" PRIu64 " payload frames dropped; %d area%s still mapped\n",
				       spec, tot.drop_revoked, areas_after, areas_after == 1 ? "" : "s");
			if (held_after || areas_after)
				printf("warning: %d tokens and %d areas left after the device was destroyed\n",
				       held_after, areas_after);
		}
	}
	if (bad || held_after || areas_after)
		ret = ret ? ret : 1;
	for (unsigned i = 0; i < queues; i++)
		pthread_mutex_destroy(&w[i].lock);
	free(w);
	netmem_provider_destroy(prov);
	return ret;
}
