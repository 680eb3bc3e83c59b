/* A token of another live queue is refused, however the two queues'
 * generations line up: queue A keeps one token; queue B, created a few
 * thousand queues later, receives and releases one packet at a time (so one
 * slot is reused over and over) for hundreds of thousands of packets. None
 * of B's tokens equals A's, releasing A's token on B fails with -EINVAL and
 * leaves both queues as they were, and A's token still releases on A. */
#include "harness.h"
#include "netmem/netmem.h"

#define APART 2584	/* queues created between A and B */
#define ROUNDS 800000	/* packets through B */

static struct netmem_sim *small_sim(struct netmem_provider *p)
{
	struct netmem_sim_params sp;

	netmem_sim_params_init(&sp, p);
	sp.ring_size = 16;
	sp.payload_chunks = 8;
	return netmem_sim_create(&sp);
}

int main(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_sim *a, *b;
	struct netmem_rxq *qa, *qb;
	struct netmem_rx_pkt pkt;
	struct netmem_rxq_stats sa, sb;
	uint64_t ta;
	long equal = 0;

	REQUIRE(p);
	a = small_sim(p);
	REQUIRE(a);
	qa = netmem_sim_rxq(a, 0);
	REQUIRE(netmem_rxq_recv(qa, &pkt, 1) == 1 && pkt.nr_frags == 1);
	ta = pkt.frag[0].token;

	for (int i = 0; i < APART - 1; i++) {
		struct netmem_sim *s = small_sim(p);

		REQUIRE(s);
		REQUIRE(netmem_sim_destroy(s) == 0);
	}
	b = small_sim(p);
	REQUIRE(b);
	qb = netmem_sim_rxq(b, 0);
	for (long i = 0; i < ROUNDS; i++) {
		uint64_t t;

		REQUIRE(netmem_rxq_recv(qb, &pkt, 1) == 1 && pkt.nr_frags == 1);
		t = pkt.frag[0].token;
		equal += t == ta;
		REQUIRE(netmem_rxq_release(qb, &t, 1) == 1);
	}
	CHECK_EQ(equal, 0);
	printf("%d queues apart, %d tokens of B: %ld equal to A's\n", APART, ROUNDS, equal);

	/* B holds one token; A's token released on B is refused. */
	REQUIRE(netmem_rxq_recv(qb, &pkt, 1) == 1);
	CHECK_EQ(netmem_rxq_release(qb, &ta, 1), -EINVAL);
	CHECK_EQ(netmem_rxq_stats(qb, &sb), 0);
	CHECK_EQ(sb.tokens_held, 1);
	CHECK_EQ(sb.bad_release, 1);
	CHECK_EQ(netmem_rxq_release_pkt(qb, &pkt), 1);
	CHECK_EQ(netmem_rxq_release(qa, &ta, 1), 1);
	CHECK_EQ(netmem_rxq_stats(qa, &sa), 0);
	CHECK_EQ(sa.tokens_held, 0);
	CHECK_EQ(sa.bad_release, 0);

	CHECK_EQ(netmem_sim_destroy(a), 0);
	CHECK_EQ(netmem_sim_destroy(b), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
	return t_done();
}
