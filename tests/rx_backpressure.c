/* SPDX-License-Identifier: MIT */
/*
 * Back-pressure: an application that holds every token stops delivery; the
 * device drops (counted in drop_no_buf) and memory does not grow. Releasing
 * the tokens lets delivery resume. Several rounds, then nothing is left.
 */
#include <malloc.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define CHUNKS 16 /* 16 x 4 KiB / 2048-byte buffers = 32 payload buffers */
#define CAP    (CHUNKS * 2)

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rxq *q;
	struct netmem_rx_pkt pkts[32];
	struct netmem_rxq_stats st, st2;
	static uint64_t held[CAP * 4];
	unsigned nheld = 0;

	REQUIRE(prov);
	netmem_sim_params_init(&sp, prov);
	sp.payload_chunks = CHUNKS;
	sp.payload_order = 0;
	sp.ring_size = 8;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	q = netmem_sim_rxq(sim, 0);

	for (int round = 0; round < 5; round++) {
		size_t heap0 = 0;
		uint64_t pk0, drop0;

		/* Hold everything until delivery stops. */
		for (int i = 0; i < 50; i++) {
			int n = netmem_rxq_recv(q, pkts, 32);

			REQUIRE(n >= 0);
			for (int k = 0; k < n; k++) {
				CHECK_EQ(pkts[k].nr_frags, 1);
				REQUIRE(nheld < sizeof(held) / sizeof(held[0]));
				held[nheld++] = pkts[k].frag[0].token;
			}
		}
		CHECK(nheld > 0 && nheld <= CAP);
		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		CHECK_EQ(st.tokens_held, nheld);
		CHECK(st.drop_no_buf > 0);
		/* Delivery has stopped; more polls only drop, and allocate nothing. */
		pk0 = st.packets;
		drop0 = st.drop_no_buf;
		heap0 = mallinfo2().uordblks;
		for (int i = 0; i < 2000; i++)
			CHECK_EQ(netmem_rxq_recv(q, pkts, 32), 0);
		CHECK_EQ(mallinfo2().uordblks, heap0);
		REQUIRE(netmem_rxq_stats(q, &st2) == 0);
		CHECK_EQ(st2.packets, pk0);
		CHECK_EQ(st2.drop_no_buf, drop0 + 2000 * 32);
		CHECK_EQ(st2.drops, st2.generated - st2.packets);
		CHECK(st2.posted == 0);
		printf("round %d: held %u tokens, %" PRIu64 " delivered, %" PRIu64 " dropped\n",
		       round, nheld, st2.packets, st2.drop_no_buf);

		/* Give them back: delivery resumes. */
		CHECK_EQ(netmem_rxq_release(q, held, nheld), (int)nheld);
		nheld = 0;
		{
			int n = netmem_rxq_recv(q, pkts, 8);

			CHECK_EQ(n, 8);
			for (int k = 0; k < n; k++)
				CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[k]), 1);
		}
		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		CHECK_EQ(st.packets, pk0 + 8);
		CHECK_EQ(st.tokens_held, 0);
	}
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
