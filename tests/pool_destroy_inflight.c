/* Destroy a pool while buffers are out, then return them from other threads
 * (and fragments from several at once): the pool is freed by the last put,
 * with no leak or use after free (SAN=address checks both). */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"

struct job {
	netmem_t *h;
	unsigned n;
};

static void *returner(void *arg)
{
	struct job *j = arg;

	for (unsigned i = 0; i < j->n; i++) {
		if (i % 3 == 0)
			netmem_put_bulk(&j->h[i], 1);
		else
			netmem_put(j->h[i]);
	}
	return NULL;
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	netmem_t h[200];
	pthread_t th[4];
	struct job jobs[4];
	int left;

	REQUIRE(prov);
	for (int round = 0; round < 50; round++) {
		netmem_pool_params_init(&pp, prov);
		pp.nr_chunks = 256;
		pool = netmem_pool_create(&pp);
		REQUIRE(pool);
		for (int i = 0; i < 100; i++) {
			h[i] = netmem_pool_alloc_direct(pool);
			REQUIRE(h[i]);
		}
		/* fragments of a few chunks, to be put from several threads */
		for (int i = 100; i < 200; i++) {
			uint32_t off;

			h[i] = netmem_pool_alloc_frag_direct(pool, 1500, &off);
			REQUIRE(h[i]);
		}
		/* some back before destroy: they sit in the cache */
		for (int i = 0; i < 10; i++)
			netmem_pool_put_direct(pool, h[i]);
		if (round == 0) {
			long out = netmem_pool_report_inflight(pool, stdout, 0);
			/* 90 whole chunks + the chunks carved into 100 fragments */
			CHECK(out >= 90 + 100 / (4096 / 1536));
		}
		left = netmem_pool_destroy(pool);
		CHECK(left > 0);
		/* the provider still has the area: the pool lives on */
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		for (int t = 0; t < 4; t++) {
			/* interleave whole chunks and fragments across threads */
			jobs[t].h = &h[10 + t * 47];
			jobs[t].n = t == 3 ? 190 - 3 * 47 : 47;
			REQUIRE(pthread_create(&th[t], NULL, returner, &jobs[t]) == 0);
		}
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		/* the last put freed the pool and unmapped its area */
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	}
	netmem_provider_destroy(prov);
	return t_done();
}
