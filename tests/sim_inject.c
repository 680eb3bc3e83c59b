/* Frames injected into the sim NIC (netmem_sim_inject): delivered in order,
 * byte for byte, split where configured, with sim metadata only for
 * well-formed sim frames; bad frames refused; RSS picks the queue (and netmem_sim_rss_queue says
 * which beforehand); only the queue's owner injects; failed
 * device writes are counted drops. Also the regression for a NULL memcpy in
 * netmem_sim_verify() without a header split (found by fuzz_rx_frames;
 * caught by SAN=undefined). */
#include <endian.h>
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"
#include "sim_frame.h"

/* A well-formed sim frame, as the generator builds it. */
static void sim_frame(uint8_t *b, uint32_t len, uint64_t seq, uint32_t flow)
{
	for (uint32_t i = NETMEM_SIM_HDR_LEN; i < len; i++)
		b[i] = (uint8_t)(i * 13 + seq);
	t_sim_frame_hdr(b, len, seq, flow);
}

static struct netmem_sim *mksim(struct netmem_provider *prov, unsigned nq, uint32_t split,
				unsigned flags)
{
	struct netmem_sim_params sp;
	struct netmem_sim *sim;

	netmem_sim_params_init(&sp, prov);
	sp.nr_queues = nq;
	sp.hdr_split = split;
	sp.payload_chunks = 64;
	sp.ring_size = 64;
	sp.flags = flags;
	sim = netmem_sim_create(&sp);
	if (!sim)
		fprintf(stderr, "sim: %s\n", netmem_last_error());
	REQUIRE(sim);
	return sim;
}

/* The packet's bytes equal frame[0, len). */
static void check_bytes(struct netmem_rxq *q, const struct netmem_rx_pkt *pkt, const uint8_t *frame,
			uint32_t len)
{
	static uint8_t got[NETMEM_SIM_MAX_FRAME];
	uint32_t at = pkt->hdr_len;

	CHECK_EQ(pkt->len, len);
	if (pkt->hdr_len)
		memcpy(got, pkt->hdr, pkt->hdr_len);
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		REQUIRE(at + pkt->frag[i].len <= len);
		CHECK_EQ(netmem_rxq_frag_read(q, &pkt->frag[i], 0, got + at, pkt->frag[i].len), 0);
		at += pkt->frag[i].len;
	}
	CHECK_EQ(at, len);
	CHECK(!memcmp(got, frame, len));
}

static uint8_t frame[NETMEM_SIM_MAX_FRAME + 1];

static void test_basic(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_rx_pkt pkts[8];
	struct netmem_rxq_stats st;
	struct netmem_sim *sim;
	struct netmem_rxq *q;

	REQUIRE(prov);
	/* No header split: every byte is payload, hdr is NULL. */
	sim = mksim(prov, 1, 0, NETMEM_SIM_INJECT_ONLY);
	q = netmem_sim_rxq(sim, 0);
	sim_frame(frame, 1500, 7, 3);
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, 1500), 0);
	CHECK_EQ(netmem_rxq_recv(q, pkts, 8), 1);
	CHECK_EQ(pkts[0].hdr_len, 0);
	CHECK(pkts[0].hdr == NULL);
	CHECK_EQ(pkts[0].flags, NETMEM_RX_HAS_SEQ | NETMEM_RX_HAS_CSUM);
	CHECK_EQ(pkts[0].seq, 7);
	check_bytes(q, &pkts[0], frame, 1500);
	CHECK_EQ(netmem_sim_verify(q, &pkts[0]), 0); /* the regression */
	CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[0]), 1);
	CHECK_EQ(netmem_rxq_recv(q, pkts, 8), 0); /* generator off */
	CHECK_EQ(netmem_sim_destroy(sim), 0);

	/* Split at the sim header; a corrupted payload is flagged. */
	sim = mksim(prov, 1, NETMEM_SIM_HDR_LEN, NETMEM_SIM_INJECT_ONLY);
	q = netmem_sim_rxq(sim, 0);
	sim_frame(frame, 3000, 8, 1);
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, 3000), 0);
	frame[2000] ^= 1;
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, 3000), 0);
	CHECK_EQ(netmem_sim_inject(sim, 0, "short\0\0\0\0\0", 10), 0); /* not even Ethernet */
	CHECK_EQ(netmem_rxq_recv(q, pkts, 8), 3);
	CHECK_EQ(pkts[0].hdr_len, NETMEM_SIM_HDR_LEN);
	CHECK_EQ(pkts[0].nr_frags, 2);
	CHECK_EQ(netmem_sim_verify(q, &pkts[0]), 0);
	CHECK(pkts[1].flags & NETMEM_RX_CSUM_BAD);
	CHECK_EQ(netmem_sim_verify(q, &pkts[1]), -EBADMSG);
	check_bytes(q, &pkts[1], frame, 3000);
	frame[2000] ^= 1;
	CHECK_EQ(pkts[2].len, 10);
	CHECK_EQ(pkts[2].hdr_len, 10);
	CHECK_EQ(pkts[2].nr_frags, 0);
	CHECK_EQ(pkts[2].flags, 0);
	CHECK(!memcmp(pkts[2].hdr, "short", 5));
	CHECK_EQ(netmem_sim_verify(q, &pkts[2]), -EBADMSG);
	for (int i = 0; i < 3; i++)
		netmem_rxq_release_pkt(q, &pkts[i]);

	/* Refused: sizes, too many buffers, no such queue, a full queue. */
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, 0), -EINVAL);
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, NETMEM_SIM_MAX_FRAME + 1), -EINVAL);
	CHECK_EQ(netmem_sim_inject(sim, 1, frame, 100), -EINVAL);
	CHECK_EQ(netmem_sim_inject(NULL, 0, frame, 100), -EINVAL);
	CHECK_EQ(netmem_sim_inject(sim, 0, NULL, 100), -EINVAL);
	for (int i = 0; i < NETMEM_SIM_INJECT_MAX; i++)
		CHECK_EQ(netmem_sim_inject(sim, 0, frame, 100), 0);
	CHECK_EQ(netmem_sim_inject(sim, 0, frame, 100), -ENOSPC);
	CHECK(netmem_last_error()[0] != 0);
	/* destroyed with frames waiting: freed (ASan would say otherwise) */
	CHECK_EQ(netmem_rxq_stats(q, &st), 0);
	CHECK_EQ(st.tokens_held, 0);
	CHECK_EQ(netmem_sim_destroy(sim), 0);

	/* 64-byte buffers: 8 hold 512 payload bytes, 513 do not fit. */
	{
		struct netmem_sim_params sp;

		netmem_sim_params_init(&sp, prov);
		sp.hdr_split = 0;
		sp.buf_size = 64;
		sp.payload_chunks = 8;
		sp.flags = NETMEM_SIM_INJECT_ONLY;
		sim = netmem_sim_create(&sp);
		REQUIRE(sim);
		CHECK_EQ(netmem_sim_inject(sim, 0, frame, 512), 0);
		CHECK_EQ(netmem_sim_inject(sim, 0, frame, 513), -EINVAL);
		q = netmem_sim_rxq(sim, 0);
		CHECK_EQ(netmem_rxq_recv(q, pkts, 8), 1);
		CHECK_EQ(pkts[0].nr_frags, 8);
		netmem_rxq_release_pkt(q, &pkts[0]);
		CHECK_EQ(netmem_sim_destroy(sim), 0);
	}
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

/* RSS picks the queue from the headers; injected frames come before
 * generated ones. */
static void test_rss(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_rx_pkt pkts[16];
	struct netmem_sim *sim;
	unsigned seen[4] = {0};
	int qs[32];

	REQUIRE(prov);
	sim = mksim(prov, 4, NETMEM_SIM_HDR_LEN, 0);
	for (unsigned f = 0; f < 32; f++) {
		sim_frame(frame, 200, 1000 + f, f);
		qs[f] = netmem_sim_inject(sim, NETMEM_SIM_INJECT_RSS, frame, 200);
		CHECK(qs[f] >= 0 && qs[f] < 4);
		/* the dispatcher's view is the device's */
		CHECK_EQ(netmem_sim_rss_queue(sim, frame, 200), qs[f]);
		if (qs[f] >= 0 && qs[f] < 4)
			seen[qs[f]]++;
	}
	CHECK(seen[0] && seen[1] && seen[2] && seen[3]); /* 32 flows spread */
	for (unsigned qi = 0; qi < 4; qi++) {
		struct netmem_rxq *q = netmem_sim_rxq(sim, qi);
		int n = netmem_rxq_recv(q, pkts, 16);
		unsigned k = 0;

		REQUIRE(n > 0);
		for (unsigned f = 0; f < 32; f++) {
			if (qs[f] != (int)qi)
				continue;
			REQUIRE(k < (unsigned)n);
			CHECK_EQ(pkts[k].seq, 1000 + f); /* injected first, in order */
			CHECK_EQ(pkts[k].flow, f);
			k++;
		}
		CHECK_EQ(k, seen[qi]);
		for (int i = 0; i < n; i++)
			netmem_rxq_release_pkt(q, &pkts[i]);
	}
	/* IPv4 fragments of one datagram (the first with the ports, MF set;
	 * a later one at offset 176) land on one queue. */
	for (unsigned f = 0; f < 32; f++) {
		int first, later;

		sim_frame(frame, 200, 1000 + f, f);
		frame[14 + 6] = 0x20;
		first = netmem_sim_rss_queue(sim, frame, 200);
		frame[14 + 6] = 0;
		frame[14 + 7] = 22;
		memset(frame + 34, 0xa5, 4); /* the ports' bytes are payload now */
		later = netmem_sim_rss_queue(sim, frame, 200);
		CHECK(first >= 0);
		CHECK_EQ(later, first);
	}
	CHECK_EQ(netmem_sim_rss_queue(NULL, frame, 200), -EINVAL);
	CHECK_EQ(netmem_sim_rss_queue(sim, NULL, 200), -EINVAL);
	CHECK_EQ(netmem_sim_rss_queue(sim, frame, 0), -EINVAL);
	CHECK_EQ(netmem_sim_rss_queue(sim, frame, NETMEM_SIM_MAX_FRAME + 1), -EINVAL);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	netmem_provider_destroy(prov);
}

/* Injection is the target queue's owner's: another thread is refused and
 * nothing is queued (the waiting frames are read by recv unlocked). */
struct inj_arg {
	struct netmem_sim *sim;
	int direct, rss;
};

static void *inject_elsewhere(void *arg)
{
	struct inj_arg *a = arg;

	a->direct = netmem_sim_inject(a->sim, 0, frame, 200);
	a->rss = netmem_sim_inject(a->sim, NETMEM_SIM_INJECT_RSS, frame, 200);
	return NULL;
}

static void test_owner(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_rx_pkt pkts[4];
	struct inj_arg a;
	pthread_t t;

	REQUIRE(prov);
	a.sim = mksim(prov, 1, NETMEM_SIM_HDR_LEN, NETMEM_SIM_INJECT_ONLY);
	REQUIRE(a.sim);
	sim_frame(frame, 200, 7, 3);
	REQUIRE(pthread_create(&t, NULL, inject_elsewhere, &a) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	CHECK_EQ(a.direct, -EINVAL);
	CHECK_EQ(a.rss, -EINVAL);
	CHECK_EQ(netmem_rxq_recv(netmem_sim_rxq(a.sim, 0), pkts, 4), 0);
	CHECK_EQ(netmem_sim_inject(a.sim, 0, frame, 200), 0);
	CHECK_EQ(netmem_rxq_recv(netmem_sim_rxq(a.sim, 0), pkts, 4), 1);
	CHECK_EQ(netmem_rxq_release_pkt(netmem_sim_rxq(a.sim, 0), &pkts[0]), 1);
	CHECK_EQ(netmem_sim_destroy(a.sim), 0);
	netmem_provider_destroy(prov);
}

/* A device write that fails is a counted drop (drop_fault), not a revoke. */
static void test_write_fault(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:wfail=2,seed=3");
	struct netmem_rx_pkt pkts[64];
	struct netmem_rxq_stats st;
	struct netmem_fault_stats fs;
	struct netmem_sim *sim;
	struct netmem_rxq *q;
	int n;

	REQUIRE(prov);
	sim = mksim(prov, 1, NETMEM_SIM_HDR_LEN, NETMEM_SIM_INJECT_ONLY);
	q = netmem_sim_rxq(sim, 0);
	sim_frame(frame, 1000, 1, 1);
	for (int i = 0; i < 40; i++)
		CHECK_EQ(netmem_sim_inject(sim, 0, frame, 1000), 0);
	n = netmem_rxq_recv(q, pkts, 64);
	REQUIRE(n >= 0);
	CHECK_EQ(netmem_rxq_stats(q, &st), 0);
	CHECK_EQ(netmem_fault_stats(prov, &fs), 0);
	printf("wfail=2: %d of 40 delivered, %" PRIu64 " drop_fault\n", n, st.drop_fault);
	CHECK_EQ(st.drop_fault, fs.write_failed);
	CHECK_EQ(st.drop_revoked, 0);
	CHECK_EQ((uint64_t)n + st.drop_fault, 40);
	CHECK(n > 5 && n < 35);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(netmem_sim_verify(q, &pkts[i]), 0);
		netmem_rxq_release_pkt(q, &pkts[i]);
	}
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

int main(void)
{
	test_basic();
	test_rss();
	test_owner();
	test_write_fault();
	return t_done();
}
