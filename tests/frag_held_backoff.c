/* Chunks whose fragments another thread put are found again by an owner
 * whose allocations kept failing. While the application holds every
 * fragment, the owner's sweeps of the chunks it holds references on find
 * nothing and back off (so that a failing allocation stays cheap); once the
 * other thread has put them all, allocation must succeed again within the
 * back-off's bound, and every chunk must come back: none lost, none twice.
 * Run with SAN=thread too. */
#include <errno.h>
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR_CHUNKS 16
#define FRAG	  2048
#define NR_FRAGS  (NR_CHUNKS * 4096 / FRAG)

static netmem_t frags[NR_FRAGS];

static void *put_all(void *arg)
{
	(void)arg;
	for (int i = 0; i < NR_FRAGS; i++)
		netmem_put(frags[i]);
	return NULL;
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool_stats st;
	struct netmem_pool *pool;
	int per_chunk[NR_CHUNKS] = {0};
	pthread_t thr;
	uint32_t off;
	int tries, n = 0;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.order = 0;
	pp.nr_chunks = NR_CHUNKS;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);

	/* Carve everything: the application holds every fragment. */
	for (n = 0; n < NR_FRAGS; n++) {
		frags[n] = netmem_pool_alloc_frag_direct(pool, FRAG, &off);
		REQUIRE(frags[n]);
	}
	/* Fail for a while: the sweeps find nothing and back off. */
	for (int i = 0; i < 2000; i++) {
		errno = 0;
		CHECK(netmem_pool_alloc_frag_direct(pool, FRAG, &off) == 0);
		CHECK_EQ(errno, ENOMEM);
		netmem_pool_poll(pool);
	}
	/* Another thread gives them all back; only its puts touched the
	 * reference counts, so only a sweep or a poll finds the chunks. */
	REQUIRE(pthread_create(&thr, NULL, put_all, NULL) == 0);
	pthread_join(thr, NULL);
	for (tries = 1; tries <= 1000; tries++) {
		frags[0] = netmem_pool_alloc_frag_direct(pool, FRAG, &off);
		if (frags[0])
			break;
	}
	printf("first allocation after the puts: attempt %d\n", tries);
	/* The back-off skips at most 256 full sweeps. */
	CHECK(tries <= 257);
	REQUIRE(frags[0]);
	/* Every fragment of every chunk can be carved again, each once. */
	for (n = 1; n < NR_FRAGS; n++) {
		frags[n] = netmem_pool_alloc_frag_direct(pool, FRAG, &off);
		CHECK(frags[n] != 0);
		if (!frags[n])
			break;
	}
	CHECK_EQ(n, NR_FRAGS);
	/* Two fragments per chunk: each chunk handed out exactly twice. */
	for (int i = 0; i < n; i++) {
		size_t c = netmem_area_offset(frags[i]) / 4096;

		CHECK(c < NR_CHUNKS);
		if (c < NR_CHUNKS)
			per_chunk[c]++;
	}
	for (int c = 0; c < NR_CHUNKS; c++)
		CHECK_EQ(per_chunk[c], 2);
	errno = 0;
	CHECK(netmem_pool_alloc_frag_direct(pool, FRAG, &off) == 0 && errno == ENOMEM);
	for (int i = 0; i < n; i++)
		netmem_put(frags[i]);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
