/* Revocation with chunks everywhere a chunk can be: in the owner cache, in the
 * recycle ring, in application hands, and as partly returned fragments (of
 * the chunk being carved and of retired ones). Then everything comes back:
 * the area is unmapped (provider counter and /proc/self/maps), the pool is
 * freed by destroy or by the last put (SAN=address checks no leak and no use
 * after free), in every order of revoke, poll and destroy, with destroy from
 * the owner or from another thread. */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR 64

/* Is addr inside any mapping of this process? */
static int is_mapped(const void *addr)
{
	char line[512];
	uintptr_t a = (uintptr_t)addr;
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	REQUIRE(f);
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			found = 1;
	}
	fclose(f);
	return found;
}

static int revoke_calls;

static void on_revoke(struct netmem_pool *pool, void *arg)
{
	(void)pool;
	CHECK(arg == &revoke_calls);
	revoke_calls++;
}

struct held {
	netmem_t whole[8];      /* whole chunks in application hands */
	netmem_t frag_old[6];   /* fragments of a retired chunk, 2 already put */
	netmem_t frag_cur[5];   /* fragments of the chunk being carved, 2 put */
};

static void *put_all(void *arg)
{
	netmem_t *h = arg;

	for (int i = 0; h[i]; i++)
		netmem_put(h[i]);
	return NULL;
}

/* Puts from another thread land in the recycle ring. */
static void put_from_thread(netmem_t *h)
{
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, put_all, h) == 0);
	pthread_join(t, NULL);
}

static void *destroy_thread(void *arg)
{
	return (void *)(intptr_t)netmem_pool_destroy(arg);
}

static int destroy_from(struct netmem_pool *pool, int other_thread)
{
	pthread_t t;
	void *ret;

	if (!other_thread)
		return netmem_pool_destroy(pool);
	REQUIRE(pthread_create(&t, NULL, destroy_thread, pool) == 0);
	pthread_join(t, &ret);
	return (int)(intptr_t)ret;
}

/* Fill cache, ring, hands and fragments. Returns the area's CPU base. */
static void *populate(struct netmem_pool *pool, struct held *hd)
{
	netmem_t ring[17] = { 0 }, cache[10];
	struct netmem_pool_stats st;
	uint32_t off;
	void *base;

	for (int i = 0; i < 8; i++) {
		hd->whole[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(hd->whole[i]);
	}
	base = (char *)netmem_address(hd->whole[0]) - netmem_area_offset(hd->whole[0]);
	/* 4 KiB chunks, 1000-byte fragments: 4 per chunk (1024 aligned) */
	for (int i = 0; i < 6; i++) {
		hd->frag_old[i] = netmem_pool_alloc_frag_direct(pool, 1000, &off);
		REQUIRE(hd->frag_old[i]);
	}
	for (int i = 0; i < 5; i++) {
		hd->frag_cur[i] = netmem_pool_alloc_frag_direct(pool, 1000, &off);
		REQUIRE(hd->frag_cur[i]);
	}
	/* frag_old[0..3] are chunk A (retired), [4..5] + frag_cur[0..1] chunk B
	 * (retired), frag_cur[2..4] chunk C (being carved). Put some of each. */
	netmem_put(hd->frag_old[0]);
	netmem_put(hd->frag_old[1]);
	netmem_put(hd->frag_cur[2]);
	netmem_put(hd->frag_cur[3]);
	hd->frag_old[0] = hd->frag_old[1] = hd->frag_cur[2] = hd->frag_cur[3] = 0;
	for (int i = 0; i < 16; i++) {
		ring[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(ring[i]);
	}
	put_from_thread(ring);
	for (int i = 0; i < 10; i++) {
		cache[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(cache[i]);
	}
	for (int i = 0; i < 10; i++)
		netmem_pool_put_direct(pool, cache[i]);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_ring, 16);
	CHECK(st.cached >= 10);
	/* 8 whole + chunks A, B, C */
	CHECK_EQ(st.in_flight, 8 + 3);
	return base;
}

static void check_revoked_handles(const struct held *hd)
{
	for (int i = 0; i < 8; i++) {
		uint64_t dma;

		CHECK(netmem_is_revoked(hd->whole[i]));
		CHECK(netmem_address(hd->whole[i]) == NULL);
		CHECK(netmem_dma_addr(hd->whole[i], &dma) == -ENODEV);
	}
	CHECK(netmem_address(hd->frag_cur[4]) == NULL);
}

/* Return what the application still holds: some from the owner, the rest
 * from another thread. */
static void return_all(struct held *hd)
{
	netmem_t rest[32] = { 0 };
	int n = 0;

	for (int i = 0; i < 4; i++)
		netmem_put(hd->whole[i]);
	for (int i = 4; i < 8; i++)
		rest[n++] = hd->whole[i];
	for (int i = 0; i < 6; i++)
		if (hd->frag_old[i])
			rest[n++] = hd->frag_old[i];
	for (int i = 0; i < 5; i++)
		if (hd->frag_cur[i])
			rest[n++] = hd->frag_cur[i];
	put_from_thread(rest);
}

enum order {
	REVOKE_POLL_RETURN_DESTROY,  /* owner notices, app returns, then destroy */
	REVOKE_POLL_DESTROY_RETURN,  /* destroy while chunks are out */
	REVOKE_DESTROY_RETURN,       /* destroy before the owner noticed */
	DESTROY_REVOKE_RETURN,       /* revoke a destroyed pool's provider */
	REVOKE_RETURN_POLL_DESTROY,  /* app returns before the owner noticed */
	NR_ORDERS
};

static void run(enum order o, int other_thread)
{
	struct netmem_provider *prov = netmem_provider_create("host:order=0");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	struct held hd;
	void *base;
	int left;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = NR;
	pp.on_revoke = on_revoke;
	pp.on_revoke_arg = &revoke_calls;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	revoke_calls = 0;
	base = populate(pool, &hd);
	CHECK(is_mapped(base));

	switch (o) {
	case REVOKE_POLL_RETURN_DESTROY:
	case REVOKE_POLL_DESTROY_RETURN:
		CHECK_EQ(netmem_provider_revoke(prov), 0);
		check_revoked_handles(&hd);
		CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
		CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
		CHECK_EQ(revoke_calls, 1);
		REQUIRE(netmem_pool_stats(pool, &st) == 0);
		CHECK_EQ(st.cached, 0);
		CHECK_EQ(st.in_ring, 0);
		CHECK_EQ(st.revoked, 1);
		/* chunks A, B, C are still pinned by fragments, plus 8 whole */
		CHECK_EQ(st.in_flight, 8 + 3);
		/* still reachable through handles: still mapped */
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		CHECK(is_mapped(base));
		if (o == REVOKE_POLL_RETURN_DESTROY) {
			return_all(&hd);
			CHECK_EQ(netmem_provider_nr_areas(prov), 0);
			CHECK(!is_mapped(base));
			REQUIRE(netmem_pool_stats(pool, &st) == 0);
			CHECK_EQ(st.in_flight, 0);
			CHECK_EQ(st.provider_free, NR);
			CHECK_EQ(st.bad_put, 0);
			CHECK_EQ(destroy_from(pool, other_thread), 0);
		} else {
			left = destroy_from(pool, other_thread);
			CHECK_EQ(left, 8 + 3);
			return_all(&hd);
			CHECK_EQ(netmem_provider_nr_areas(prov), 0);
			CHECK(!is_mapped(base));
		}
		break;
	case REVOKE_DESTROY_RETURN:
		CHECK_EQ(netmem_provider_revoke(prov), 0);
		check_revoked_handles(&hd);
		left = destroy_from(pool, other_thread);
		CHECK_EQ(left, 8 + 3);
		CHECK_EQ(revoke_calls, 0); /* the owner never noticed */
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		return_all(&hd);
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
		CHECK(!is_mapped(base));
		break;
	case DESTROY_REVOKE_RETURN:
		left = destroy_from(pool, other_thread);
		CHECK_EQ(left, 8 + 3);
		CHECK_EQ(netmem_provider_revoke(prov), 0);
		check_revoked_handles(&hd);
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		return_all(&hd);
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
		CHECK(!is_mapped(base));
		break;
	case REVOKE_RETURN_POLL_DESTROY:
		CHECK_EQ(netmem_provider_revoke(prov), 0);
		return_all(&hd);
		/* the cache and the ring still hold chunks */
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
		CHECK_EQ(revoke_calls, 1);
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
		CHECK(!is_mapped(base));
		CHECK_EQ(destroy_from(pool, other_thread), 0);
		break;
	default:
		break;
	}
	netmem_provider_destroy(prov);
}

/* A revoked pool whose chunks are all in the provider's free space: the
 * memory goes at revoke time, not at destroy. */
static void revoke_idle(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 8;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	CHECK_EQ(netmem_provider_nr_areas(prov), 1);
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENODEV);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	/* no pool can be made on it any more */
	netmem_pool_params_init(&pp, prov);
	CHECK(netmem_pool_create(&pp) == NULL && errno == ENODEV);
	netmem_provider_destroy(prov);
}

int main(void)
{
	for (int o = 0; o < NR_ORDERS; o++)
		for (int other = 0; other < 2; other++) {
			int before = t_failures;

			run((enum order)o, other);
			if (t_failures != before)
				fprintf(stderr, "  (order %d, destroy from %s)\n", o,
					other ? "another thread" : "the owner");
		}
	revoke_idle();
	return t_done();
}
