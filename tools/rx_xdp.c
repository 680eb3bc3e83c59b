/* SPDX-License-Identifier: MIT */
/*
 * netmem rx --xdp IFACE[:QUEUE][,OPT...]: the main job on a real netdev
 * queue. The xsk driver receives into the payload provider's memory (the
 * UMEM), headers split in software into host memory, tokens given back in
 * batches (or held: --hold). The summary says the AF_XDP mode and the
 * kernel's XDP statistics. Run it in the interface's network namespace
 * (ip netns exec NS netmem rx --xdp IFACE).
 */
#include "cmds.h"

#ifdef NETMEM_HAVE_XDP
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netmem/netmem.h"
#include "netmem/xsk.h"

#define BATCH 64

static volatile sig_atomic_t xdp_stop;

static void on_signal(int sig)
{
	(void)sig;
	xdp_stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* IFACE[:QUEUE][,copy|zerocopy][,wakeup][,busy-poll][,skb] into p. */
static int parse_target(const char *t, char *ifname, size_t len, struct netmem_xsk_params *p)
{
	char buf[128], *save = NULL, *tok, *colon, *end;

	if (snprintf(buf, sizeof(buf), "%s", t) >= (int)sizeof(buf))
		return -1;
	tok = strtok_r(buf, ",", &save);
	if (!tok)
		return -1;
	colon = strchr(tok, ':');
	if (colon) {
		*colon = 0;
		unsigned long long qn;

		/* Digits only, and a queue number: no sign, no wrap. */
		errno = 0;
		qn = colon[1] >= '0' && colon[1] <= '9' ? strtoull(colon + 1, &end, 10) : 0;
		if (colon[1] < '0' || colon[1] > '9' || *end || errno || qn > UINT32_MAX)
			return -1;
		p->queue = (uint32_t)qn;
	}
	if (!*tok || snprintf(ifname, len, "%s", tok) >= (int)len)
		return -1;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "copy"))
			p->flags |= NETMEM_XSK_COPY;
		else if (!strcmp(tok, "zerocopy"))
			p->flags |= NETMEM_XSK_ZEROCOPY;
		else if (!strcmp(tok, "wakeup"))
			p->flags |= NETMEM_XSK_NEED_WAKEUP;
		else if (!strcmp(tok, "busy-poll"))
			p->flags |= NETMEM_XSK_BUSY_POLL;
		else if (!strcmp(tok, "skb"))
			p->flags |= NETMEM_XSK_SKB_MODE;
		else
			return -1;
	}
	return 0;
}

int netmem_rx_xdp(const struct netmem_rx_xdp_opts *o)
{
	struct netmem_xsk_params xp;
	struct netmem_provider *prov;
	struct netmem_rxq *q;
	struct netmem_xsk *x;
	struct netmem_rx_pkt pkts[BATCH];
	uint64_t rel[BATCH * NETMEM_RX_MAX_FRAGS], *fifo = NULL;
	unsigned head = 0, count = 0, cap = o->hold;
	struct netmem_rxq_stats rs;
	struct netmem_xsk_stats xs;
	struct netmem_pool_stats ps;
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term;
	const char *spec = o->provider ? o->provider : "host";
	char ifname[64];
	double t0, last, t_end, el;
	uint64_t last_pk = 0;
	int tty = isatty(STDERR_FILENO), left, areas, ret = 0, status;

	netmem_xsk_params_init(&xp);
	if (parse_target(o->target, ifname, sizeof(ifname), &xp)) {
		fprintf(stderr, "netmem rx: --xdp wants IFACE[:QUEUE][,copy|zerocopy][,wakeup]"
				"[,busy-poll][,skb], not '%s'\n", o->target);
		return 2;
	}
	if (o->split < NETMEM_XSK_SPLIT_AUTO || o->split > NETMEM_XSK_MAX_HDR) {
		fprintf(stderr, "netmem rx: --split wants 0..%d with --xdp\n", NETMEM_XSK_MAX_HDR);
		return 2;
	}
	prov = netmem_arg_provider("rx", spec, &status);
	if (!prov)
		return status;
	xp.ifname = ifname;
	xp.provider = prov;
	xp.hdr_split = o->split;
	q = netmem_xsk_rxq_create(&xp);
	if (!q) {
		/* No such interface or queue, or values it refuses: the
		 * target's fault; anything else (no permission, no AF_XDP,
		 * no memory) a failure. */
		status = errno == EINVAL || errno == ENODEV ? 2 : 1;
		fprintf(stderr, "netmem rx: --xdp %s: %s\n", o->target, netmem_last_error());
		netmem_provider_destroy(prov);
		return status;
	}
	x = netmem_xsk_of(q);
	if (cap) {
		fifo = calloc(cap, sizeof(*fifo));
		if (!fifo)
			cap = 0;
	}
	if (!o->json)
		printf("netmem rx: AF_XDP on %s queue %u, %s mode, %u-byte fragments of %u-byte "
		       "chunks, payload on %s, headers %s, %.3g s%s\n",
		       ifname, xp.queue, netmem_xsk_mode(x), netmem_xsk_frame_size(x),
		       netmem_pool_chunk_size(netmem_xsk_pool(x)), spec,
		       o->split < 0 ? "split by parsing" : o->split ? "split at a fixed offset"
								  : "not split",
		       o->seconds, cap ? ", holding tokens" : "");
	fflush(stdout);
	xdp_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	t0 = last = now_s();
	t_end = t0 + o->seconds;
	while (!xdp_stop && now_s() < t_end) {
		int n = netmem_rxq_recv(q, pkts, BATCH);
		unsigned nrel = 0;

		if (n < 0) {
			fprintf(stderr, "netmem rx: recv: %s\n", strerror(-n));
			ret = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			for (unsigned j = 0; j < pkts[i].nr_frags; j++) {
				uint64_t t = pkts[i].frag[j].token;

				if (!cap) {
					rel[nrel++] = t;
					continue;
				}
				/* Keep the newest `cap` tokens, give back the oldest. */
				if (count == cap)
					rel[nrel++] = fifo[head];
				else
					count++;
				fifo[head] = t;
				head = (head + 1) % cap;
			}
		}
		if (nrel)
			netmem_rxq_release(q, rel, nrel);
		if (!n && netmem_xsk_wait(x, 10) == -ENODEV) {
			fprintf(stderr, "netmem rx: the payload provider was revoked; the socket "
					"is closed\n");
			break;
		}
		if (tty && !o->json && now_s() - last >= 0.25) {
			double t = now_s();

			netmem_rxq_stats(q, &rs);
			fprintf(stderr, "\r%5.1fs  %10.0f pkt/s  held %6" PRIu64 "  posted %6" PRIu64
					"  drops %" PRIu64 "   ",
				t - t0, (double)(rs.packets - last_pk) / (t - last), rs.tokens_held,
				rs.posted, rs.drops);
			last = t;
			last_pk = rs.packets;
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (tty && !o->json)
		fprintf(stderr, "\n");
	el = now_s() - t0;
	for (unsigned i = 0; i < count; i++)
		netmem_rxq_release(q, &fifo[(head + cap - count + i) % cap], 1);
	free(fifo);
	netmem_rxq_stats(q, &rs);
	netmem_xsk_stats(x, &xs);
	netmem_pool_stats(netmem_xsk_pool(x), &ps);
	if (o->json) {
		printf("{\"driver\":\"xsk\",\"ifname\":\"%s\",\"queue\":%u,\"mode\":\"%s\","
		       "\"provider\":\"%s\",\"frame_size\":%u,\"chunk_size\":%u,\"umem_bytes\":%" PRIu64
		       ",\"seconds\":%.3f,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"pps\":%.0f"
		       ",\"hdr_only\":%" PRIu64 ",\"tokens_issued\":%" PRIu64
		       ",\"tokens_released\":%" PRIu64 ",\"hold\":%u,\"posted\":%" PRIu64
		       ",\"chunks_in_flight\":%" PRIu64 ",\"fill_alloc_failed\":%" PRIu64
		       ",\"wakeups\":%" PRIu64 ",\"kernel\":{\"rx_dropped\":%" PRIu64
		       ",\"rx_fill_ring_empty_descs\":%" PRIu64 ",\"rx_ring_full\":%" PRIu64
		       ",\"rx_invalid_descs\":%" PRIu64 "}",
		       ifname, xp.queue, netmem_xsk_mode(x), spec, netmem_xsk_frame_size(x),
		       ps.chunk_size, xs.umem_bytes, el, rs.packets, rs.bytes, rs.packets / el,
		       rs.hdr_only, rs.tokens_issued, rs.tokens_released, o->hold, rs.posted,
		       ps.in_flight, xs.fill_alloc_failed, xs.wakeups, xs.rx_dropped,
		       xs.rx_fill_ring_empty_descs, xs.rx_ring_full, xs.rx_invalid_descs);
	} else {
		printf("received %" PRIu64 " packets (%" PRIu64 " bytes) in %.2f s: %.0f pkt/s, "
		       "%.3f Gbit/s\n",
		       rs.packets, rs.bytes, el, rs.packets / el, rs.bytes * 8 / el / 1e9);
		printf("mode %s; UMEM %" PRIu64 " bytes, %" PRIu64 " of %" PRIu64
		       " chunks in flight, %" PRIu64 " fragments posted\n",
		       netmem_xsk_mode(x), xs.umem_bytes, ps.in_flight, ps.nr_chunks, rs.posted);
		printf("kernel XDP statistics: rx_dropped %" PRIu64 ", rx_fill_ring_empty_descs %" PRIu64
		       ", rx_ring_full %" PRIu64 ", rx_invalid_descs %" PRIu64 "\n",
		       xs.rx_dropped, xs.rx_fill_ring_empty_descs, xs.rx_ring_full,
		       xs.rx_invalid_descs);
		printf("tokens: %" PRIu64 " issued, %" PRIu64 " released; pool refills cut short %" PRIu64
		       ", wakeups %" PRIu64 "\n",
		       rs.tokens_issued, rs.tokens_released, xs.fill_alloc_failed, xs.wakeups);
	}
	left = netmem_rxq_destroy(q);
	areas = (int)netmem_provider_nr_areas(prov);
	if (o->json)
		printf(",\"tokens_left\":%d,\"areas_left\":%d}\n", left, areas);
	else if (left || areas)
		printf("warning: %d tokens and %d areas left after the queue was destroyed\n", left,
		       areas);
	netmem_provider_destroy(prov);
	return ret ? ret : (left || areas);
}
#else
/* Without libxdp the weak netmem_rx_xdp stays NULL and rx says so. */
typedef int netmem_rx_xdp_not_built;
#endif
