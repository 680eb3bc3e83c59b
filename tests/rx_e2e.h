/* SPDX-License-Identifier: MIT */
/*
 * End to end through the sim NIC on one payload provider (RX_PROVIDER):
 * every generated frame is either delivered with the right bytes or counted
 * as a drop, never both, never neither. Included by rx_e2e_*.c.
 */
#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define NQ     2
#define FRAMES 12000
#define HOLD   64

enum { NONE = 0, DELIVERED = 1, DROPPED = 2 };
static unsigned char state[NQ][FRAMES];
static unsigned long both, drops_seen;

static void on_drop(void *arg, unsigned q, uint64_t seq, enum netmem_sim_drop why)
{
	(void)arg;
	(void)why;
	if (q >= NQ || seq >= FRAMES || state[q][seq] != NONE) {
		both++;
		return;
	}
	state[q][seq] = DROPPED;
	drops_seen++;
}

int main(void)
{
	static const uint32_t sizes[] = {64, 60 + 58, 1500, 200, 3000, 9000, 1514, 64, 577};
	struct netmem_provider *prov;
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rx_pkt pkts[32];
	/* Tokens held back for a while, so the device also meets back-pressure. */
	static uint64_t held[NQ][HOLD];
	static unsigned nheld[NQ];
	struct netmem_rxq_stats st, tot = {0};
	unsigned long delivered = 0, bad = 0;
	int ret;

	if (!netmem_provider_lookup(RX_PROVIDER))
		SKIP("provider %s is not registered in this build", RX_PROVIDER);
	prov = netmem_provider_create(RX_SPEC);
	if (!prov && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EPERM))
		SKIP("provider %s unavailable here: %s", RX_SPEC, netmem_last_error());
	REQUIRE(prov);
	netmem_sim_params_init(&sp, prov);
	sp.nr_queues = NQ;
	sp.nr_flows = 16;
	sp.ring_size = 64;
	sp.payload_chunks = 128;
	sp.payload_order = 0;
	sp.sizes = sizes;
	sp.nr_sizes = sizeof(sizes) / sizeof(sizes[0]);
	sp.max_frames = FRAMES;
	sp.drop_ppm = 20000;
	sp.trunc_ppm = 20000;
	sp.overflow_ppm = 10000;
	sp.seed = 42;
	sp.on_drop = on_drop;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);

	for (int done = 0; !done;) {
		done = 1;

		for (unsigned qi = 0; qi < NQ; qi++) {
			struct netmem_rxq *q = netmem_sim_rxq(sim, qi);
			int n = netmem_rxq_recv(q, pkts, 32);

			REQUIRE(n >= 0);
			REQUIRE(netmem_rxq_stats(q, &st) == 0);
			done &= n == 0 && st.generated == FRAMES;
			for (int i = 0; i < n; i++) {
				struct netmem_rx_pkt *p = &pkts[i];

				CHECK(p->seq < FRAMES);
				if (p->seq >= FRAMES)
					continue;
				if (state[qi][p->seq] != NONE)
					both++;
				state[qi][p->seq] = DELIVERED;
				delivered++;
				ret = netmem_sim_verify(q, p);
				if (ret) {
					bad++;
					fprintf(stderr, "q%u seq %" PRIu64 " len %u: verify %d\n",
						qi, p->seq, p->len, ret);
				}
				if (nheld[qi] + p->nr_frags > HOLD || p->seq % 3) {
					CHECK_EQ(netmem_rxq_release_pkt(q, p), p->nr_frags);
				} else {
					for (unsigned j = 0; j < p->nr_frags; j++)
						held[qi][nheld[qi]++] = p->frag[j].token;
				}
			}
			if (nheld[qi] + NETMEM_RX_MAX_FRAGS > HOLD) {
				CHECK_EQ(netmem_rxq_release(q, held[qi], nheld[qi]), nheld[qi]);
				nheld[qi] = 0;
			}
		}
	}
	for (unsigned qi = 0; qi < NQ; qi++) {
		struct netmem_rxq *q = netmem_sim_rxq(sim, qi);

		CHECK_EQ(netmem_rxq_release(q, held[qi], nheld[qi]), nheld[qi]);
		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		CHECK_EQ(st.generated, FRAMES);
		CHECK_EQ(st.packets + st.drops, st.generated);
		CHECK_EQ(st.tokens_held, 0);
		CHECK_EQ(st.bad_release, 0);
		CHECK_EQ(st.drop_no_token, 0);
		CHECK_EQ(st.truncated, 0);
		netmem_rxq_stats_add(&tot, &st);
		for (unsigned s = 0; s < FRAMES; s++)
			if (state[qi][s] == NONE) {
				fprintf(stderr, "q%u seq %u neither delivered nor dropped\n", qi,
					s);
				t_failures++;
				break;
			}
	}
	printf("%s: generated %" PRIu64 " delivered %lu dropped %lu (fault %" PRIu64
	       " truncated %" PRIu64 " overflow %" PRIu64 " no_buf %" PRIu64 ")\n",
	       RX_SPEC, tot.generated, delivered, drops_seen, tot.drop_fault, tot.drop_truncated,
	       tot.drop_overflow, tot.drop_no_buf);
	CHECK_EQ(both, 0);
	CHECK_EQ(bad, 0);
	CHECK_EQ(delivered, tot.packets);
	CHECK_EQ(drops_seen, tot.drops);
	CHECK(tot.drop_fault > 0 && tot.drop_truncated > 0 && tot.drop_overflow > 0);
	CHECK(delivered > FRAMES);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
