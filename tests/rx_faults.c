/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: truncated device writes and drops are reported and never
 * delivered as good data; lost completions recycle their buffers.
 */
#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define FRAMES 4000

struct result {
	uint64_t good, flagged;
	struct netmem_rxq_stats st;
};

static unsigned long ndrops[6];

static void on_drop(void *arg, unsigned q, uint64_t seq, enum netmem_sim_drop why)
{
	(void)arg;
	(void)q;
	(void)seq;
	if ((unsigned)why < 6)
		ndrops[why]++;
}

static struct result run(struct netmem_provider *prov, uint32_t drop, uint32_t trunc,
			 uint32_t overflow, unsigned flags)
{
	static const uint32_t sizes[] = {1500, 9000, 64, 700};
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rxq *q;
	struct netmem_rx_pkt pkts[32];
	struct result r = {0};
	int n;

	memset(ndrops, 0, sizeof(ndrops));
	netmem_sim_params_init(&sp, prov);
	sp.sizes = sizes;
	sp.nr_sizes = 4;
	sp.max_frames = FRAMES;
	sp.drop_ppm = drop;
	sp.trunc_ppm = trunc;
	sp.overflow_ppm = overflow;
	sp.flags = flags;
	sp.on_drop = on_drop;
	sp.seed = drop + trunc + overflow + flags;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	q = netmem_sim_rxq(sim, 0);
	for (;;) {
		n = netmem_rxq_recv(q, pkts, 32);
		REQUIRE(n >= 0);
		REQUIRE(netmem_rxq_stats(q, &r.st) == 0);
		if (n == 0 && r.st.generated == FRAMES)
			break;
		for (int i = 0; i < n; i++) {
			struct netmem_rx_pkt *p = &pkts[i];
			uint32_t got = p->hdr_len;
			int v = netmem_sim_verify(q, p);

			for (unsigned j = 0; j < p->nr_frags; j++)
				got += p->frag[j].len;
			if (p->flags & NETMEM_RX_TRUNCATED) {
				r.flagged++;
				CHECK(got < p->len);
				CHECK_EQ(v, -EBADMSG);
			} else {
				r.good++;
				CHECK_EQ(got, p->len);
				CHECK_EQ(v, 0);
			}
			CHECK_EQ(netmem_rxq_release_pkt(q, p), p->nr_frags);
		}
	}
	CHECK_EQ(r.st.generated, FRAMES);
	CHECK_EQ(r.st.packets + r.st.drops, FRAMES);
	CHECK_EQ(r.st.truncated, r.flagged);
	CHECK_EQ(ndrops[NETMEM_SIM_DROP_FAULT], r.st.drop_fault);
	CHECK_EQ(ndrops[NETMEM_SIM_DROP_TRUNCATED], r.st.drop_truncated);
	CHECK_EQ(ndrops[NETMEM_SIM_DROP_OVERFLOW], r.st.drop_overflow);
	CHECK_EQ(r.st.drop_no_buf, 0);
	CHECK_EQ(r.st.tokens_held, 0);
	printf("drop %u trunc %u overflow %u flags %u: good %" PRIu64 " flagged %" PRIu64
	       " drops fault %" PRIu64 " truncated %" PRIu64 " overflow %" PRIu64 "\n",
	       drop, trunc, overflow, flags, r.good, r.flagged, r.st.drop_fault,
	       r.st.drop_truncated, r.st.drop_overflow);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	return r;
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct result r;

	REQUIRE(prov);
	/* Everything dropped on the wire: nothing delivered. */
	r = run(prov, 1000000, 0, 0, 0);
	CHECK_EQ(r.st.packets, 0);
	CHECK_EQ(r.st.drop_fault, FRAMES);
	/* Every write short, default: dropped, never delivered. */
	r = run(prov, 0, 1000000, 0, 0);
	/* 64-byte frames have 6 payload bytes; all frames carry payload. */
	CHECK_EQ(r.st.packets, 0);
	CHECK_EQ(r.st.drop_truncated, FRAMES);
	/* Every write short, delivered flagged: none of them passes as good. */
	r = run(prov, 0, 1000000, 0, NETMEM_SIM_DELIVER_ERRORS);
	CHECK_EQ(r.good, 0);
	CHECK_EQ(r.flagged, FRAMES);
	/* Every completion lost: all buffers recycled. */
	r = run(prov, 0, 0, 1000000, 0);
	CHECK_EQ(r.st.packets, 0);
	CHECK_EQ(r.st.drop_overflow, FRAMES);
	/* A mix. */
	r = run(prov, 50000, 50000, 50000, NETMEM_SIM_DELIVER_ERRORS);
	CHECK(r.good > 0 && r.flagged > 0 && r.st.drop_fault > 0 && r.st.drop_overflow > 0);
	r = run(prov, 50000, 50000, 50000, 0);
	CHECK(r.good > 0 && r.flagged == 0 && r.st.drop_truncated > 0);
	netmem_provider_destroy(prov);
	return t_done();
}
