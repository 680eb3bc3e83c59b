/* owner identity: a thread started after the owner of a pool or a queue
 * exited is not that owner, even where the C library gives it the exited
 * thread's control block (and so its thread pointer). Its netmem_put() goes
 * through the recycle ring, and the queue's owner-only calls refuse it. */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"

struct owned {
	struct netmem_provider *prov;
	struct netmem_pool *pool;
	struct netmem_sim *sim;
	netmem_t h[4];
	void *tp;
};

static void *creator(void *arg)
{
	struct owned *o = arg;
	struct netmem_pool_params pp;
	struct netmem_sim_params sp;

	o->tp = __builtin_thread_pointer();
	netmem_pool_params_init(&pp, o->prov);
	pp.nr_chunks = 64;
	o->pool = netmem_pool_create(&pp);
	if (o->pool)
		for (int i = 0; i < 4; i++)
			o->h[i] = netmem_pool_alloc_direct(o->pool);
	netmem_sim_params_init(&sp, o->prov);
	o->sim = netmem_sim_create(&sp);
	return NULL;
}

struct later {
	struct owned *o;
	void *tp;
	int recv, stats, refill, set_owner_before;
};

static void *later_thread(void *arg)
{
	struct later *l = arg;
	struct netmem_rxq *q = netmem_sim_rxq(l->o->sim, 0);
	struct netmem_rx_pkt pkts[4];
	struct netmem_rxq_stats st;

	l->tp = __builtin_thread_pointer();
	netmem_put(l->o->h[0]);
	netmem_put_bulk(&l->o->h[1], 3);
	l->recv = netmem_rxq_recv(q, pkts, 4);
	l->stats = netmem_rxq_stats(q, &st);
	l->refill = netmem_rxq_refill(q);
	return NULL;
}

int main(void)
{
	struct owned o = { 0 };
	struct later l = { .o = &o };
	struct netmem_pool_stats st;
	pthread_t t;

	o.prov = netmem_provider_create("host");
	REQUIRE(o.prov);
	REQUIRE(pthread_create(&t, NULL, creator, &o) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	REQUIRE(o.pool && o.sim);
	for (int i = 0; i < 4; i++)
		REQUIRE(o.h[i]);

	REQUIRE(pthread_create(&t, NULL, later_thread, &l) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	printf("creator's thread pointer %p, later thread's %p (%s)\n", o.tp, l.tp,
	       o.tp == l.tp ? "reused" : "not reused");

	/* Not the owner: every put went to the ring, none into the cache. */
	CHECK_EQ(netmem_pool_stats(o.pool, &st), 0);
	CHECK_EQ(st.recycle_ring, 4);
	CHECK_EQ(st.recycle_cached, 0);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(l.recv, -EINVAL);
	CHECK_EQ(l.stats, -EINVAL);
	CHECK_EQ(l.refill, -EINVAL);

	/* The main thread takes both over and tears down. */
	CHECK_EQ(netmem_pool_set_owner(o.pool), 0);
	CHECK_EQ(netmem_rxq_set_owner(netmem_sim_rxq(o.sim, 0)), 0);
	CHECK_EQ(netmem_sim_destroy(o.sim), 0);
	CHECK_EQ(netmem_pool_destroy(o.pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(o.prov), 0);
	netmem_provider_destroy(o.prov);
	return t_done();
}
