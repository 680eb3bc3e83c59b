/* SPDX-License-Identifier: MIT */
/*
 * Header split boundaries: frames shorter than, equal to and longer than the
 * split, header-only frames, no split at all, splits inside the sim header,
 * and payloads that fill exactly one or just over one buffer.
 */
#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define BUF 2048

static void run(struct netmem_provider *prov, uint32_t split)
{
	uint32_t cand[] = {64,	       100,  split - 1,	  split,	   split + 1,
			   split + 64, 1500, split + BUF, split + BUF + 1, split + 4 * BUF,
			   9216};
	uint32_t sizes[16];
	unsigned ns = 0, seen[16] = {0};
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rxq *q;
	struct netmem_rx_pkt pkts[16];
	struct netmem_rxq_stats st;
	uint64_t hdr_only = 0;

	for (unsigned i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (cand[i] >= NETMEM_SIM_MIN_FRAME && cand[i] <= NETMEM_SIM_MAX_FRAME &&
		    cand[i] < 0x80000000u)
			sizes[ns++] = cand[i];
	netmem_sim_params_init(&sp, prov);
	sp.hdr_split = split;
	sp.buf_size = BUF;
	sp.payload_order = 1; /* 8 KiB chunks: a 2048-byte buffer never spans two */
	sp.sizes = sizes;
	sp.nr_sizes = ns;
	sp.max_frames = ns * 20;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	q = netmem_sim_rxq(sim, 0);
	for (;;) {
		int n = netmem_rxq_recv(q, pkts, 16);

		REQUIRE(n >= 0);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			const struct netmem_rx_pkt *p = &pkts[i];
			uint32_t hl = p->len < split ? p->len : split;
			uint32_t pl = p->len - hl, sum = 0;

			CHECK_EQ(p->len, sizes[p->seq % ns]);
			CHECK_EQ(p->hdr_len, hl);
			CHECK((p->hdr == NULL) == (hl == 0));
			CHECK_EQ(p->nr_frags, (pl + BUF - 1) / BUF);
			for (unsigned j = 0; j < p->nr_frags; j++) {
				CHECK(p->frag[j].len > 0 && p->frag[j].len <= BUF);
				CHECK(p->frag[j].addr != NULL); /* host memory */
				sum += p->frag[j].len;
			}
			CHECK_EQ(sum, pl);
			CHECK_EQ(netmem_sim_verify(q, p), 0);
			hdr_only += p->nr_frags == 0;
			seen[p->seq % ns]++;
			CHECK_EQ(netmem_rxq_release_pkt(q, p), p->nr_frags);
		}
	}
	REQUIRE(netmem_rxq_stats(q, &st) == 0);
	CHECK_EQ(st.packets, ns * 20);
	CHECK_EQ(st.drops, 0);
	CHECK_EQ(st.hdr_only, hdr_only);
	CHECK_EQ(st.tokens_held, 0);
	for (unsigned i = 0; i < ns; i++)
		CHECK_EQ(seen[i], 20);
	printf("split %3u: %u sizes, %" PRIu64 " packets, %" PRIu64 " header-only\n", split, ns,
	       st.packets, st.hdr_only);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
}

int main(void)
{
	static const uint32_t splits[] = {0,  14,  32,	42,  NETMEM_SIM_HDR_LEN,  64,
					  65, 100, 128, 200, NETMEM_SIM_MAX_SPLIT};
	struct netmem_provider *prov = netmem_provider_create("host");

	REQUIRE(prov);
	for (unsigned i = 0; i < sizeof(splits) / sizeof(splits[0]); i++)
		run(prov, splits[i]);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
