/* The owner's fragment puts cost no atomic: on the chunk being carved the
 * reference goes back to the bias (and with every fragment back, carving
 * restarts at 0 under a new generation); on a retired chunk it joins the
 * references the owner holds, and the chunk recycles when those are all
 * there are (at the owner's last put, or, when another thread put last, at
 * the next slow path, poll or stats). Checks that such chunks are neither
 * lost nor recycled twice, including when the recycling happens in the
 * refill slow path while the recycle ring holds chunks (a regression test),
 * and that stale fragment handles are caught. */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR 64

static void *put_remote(void *arg)
{
	netmem_t *h = arg;

	for (int i = 0; h[i]; i++)
		netmem_put(h[i]);
	return NULL;
}

static void remote(netmem_t *h)
{
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, put_remote, h) == 0);
	pthread_join(t, NULL);
}

static struct netmem_pool *new_pool(struct netmem_provider *p)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = NR;
	return netmem_pool_create(&pp);
}

/* A held chunk recycled while the ring holds chunks: it comes out once. */
static void settle_in_refill(struct netmem_provider *p)
{
	struct netmem_pool *pool = new_pool(p);
	struct netmem_pool_stats st;
	netmem_t whole[NR], ring[11] = { 0 }, f1, f2, g, got[NR];
	uint32_t off;
	int n = 0, seen[NR] = { 0 };

	REQUIRE(pool);
	f1 = netmem_pool_alloc_frag_direct(pool, 2000, &off);
	f2 = netmem_pool_alloc_frag_direct(pool, 2000, &off);
	REQUIRE(f1 && f1 == f2 && off == 2048);
	g = netmem_pool_alloc_frag_direct(pool, 4096, &off); /* retires f's chunk */
	REQUIRE(g && g != f1);
	/* every other chunk out: the cache and the provider are empty */
	for (int i = 0; i < NR - 2; i++) {
		whole[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(whole[i]);
	}
	REQUIRE(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM);
	/* the owner holds every reference left: recycled at its last put */
	netmem_pool_put_direct(pool, f1);
	netmem_pool_put_direct(pool, f2);
	for (int i = 0; i < 10; i++)
		ring[i] = whole[i];
	remote(ring); /* 10 chunks in the ring */
	/* the cache (that chunk), then the ring */
	while ((got[n] = netmem_pool_alloc_direct(pool)) != 0)
		n++;
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(n, 11);
	for (int i = 0; i < n; i++)
		seen[netmem_area_offset(got[i]) / 4096]++;
	for (int i = 0; i < NR; i++)
		CHECK(seen[i] <= 1);
	CHECK_EQ(seen[netmem_area_offset(f1) / 4096], 1);
	netmem_pool_put_bulk_direct(pool, got, (unsigned)n);
	netmem_pool_put_bulk_direct(pool, whole + 10, NR - 12);
	netmem_pool_put_direct(pool, g);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, 1); /* g's chunk, being carved */
	CHECK_EQ(st.bad_put, 0);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
}

/* Puts on several held chunks, the last one put by another thread and
 * recycled by the owner's poll. */
static void settle_points(struct netmem_provider *p)
{
	struct netmem_pool *pool = new_pool(p);
	struct netmem_pool_stats st;
	netmem_t f[12], other[3] = { 0 }, last;
	uint32_t off;

	REQUIRE(pool);
	/* 3 chunks of 4 fragments; the fourth chunk is being carved */
	for (int i = 0; i < 12; i++) {
		f[i] = netmem_pool_alloc_frag_direct(pool, 1000, &off);
		REQUIRE(f[i]);
		CHECK_EQ(off, (uint32_t)(i % 4) * 1024);
	}
	last = netmem_pool_alloc_frag_direct(pool, 1000, &off);
	REQUIRE(last && off == 0);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, 4);
	/* chunk 0: all by the owner; chunk 1: one remote, three owner;
	 * chunk 2: owner first, remote last */
	for (int i = 0; i < 4; i++)
		netmem_put(f[i]);
	other[0] = f[4];
	remote(other);
	for (int i = 5; i < 8; i++)
		netmem_put(f[i]);
	for (int i = 8; i < 11; i++)
		netmem_put(f[i]);
	other[0] = f[11];
	remote(other); /* ref == the owner's held references now... */
	CHECK_EQ(netmem_pool_poll(pool), 0); /* ...which the owner's poll notices */
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, 1);
	CHECK_EQ(st.in_ring, 0); /* the owner recycled it, not the remote put */
	CHECK_EQ(st.bad_put, 0);
	/* stale: a fragment of a recycled chunk */
	netmem_put(f[0]);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.bad_put, 1);
	CHECK_EQ(netmem_pool_destroy(pool), 1);
	/* the carving chunk's fragment, after destroy, frees the pool */
	CHECK_EQ(netmem_provider_nr_areas(p), 1);
	netmem_put(last);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
}

/* Every fragment of the carving chunk back with the owner: carve from 0
 * again, under a new generation. */
static void rewind_carving(struct netmem_provider *p)
{
	struct netmem_pool *pool = new_pool(p);
	struct netmem_pool_stats st;
	netmem_t a, b, c, r[2] = { 0 };
	uint32_t off;

	REQUIRE(pool);
	a = netmem_pool_alloc_frag_direct(pool, 100, &off);
	b = netmem_pool_alloc_frag_direct(pool, 100, &off);
	REQUIRE(a && a == b && off == 128);
	netmem_pool_put_direct(pool, a);
	netmem_pool_put_direct(pool, b);
	c = netmem_pool_alloc_frag_direct(pool, 100, &off);
	CHECK(c != a);
	CHECK_EQ(off, 0);
	CHECK_EQ(netmem_area_offset(c), netmem_area_offset(a));
	/* the old handle is stale now */
	netmem_pool_put_direct(pool, a);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.bad_put, 1);
	CHECK_EQ(st.frag_chunks, 1);
	CHECK_EQ(st.frag_waste_bytes, 0);
	/* a fragment put remotely keeps the owner from rewinding */
	b = netmem_pool_alloc_frag_direct(pool, 100, &off);
	CHECK(b == c && off == 128);
	r[0] = c;
	remote(r);
	netmem_pool_put_direct(pool, b);
	c = netmem_pool_alloc_frag_direct(pool, 100, &off);
	CHECK(c == b && off == 256);
	netmem_pool_put_direct(pool, c);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
}

int main(void)
{
	struct netmem_provider *p = netmem_provider_create("host");

	REQUIRE(p);
	settle_in_refill(p);
	rewind_carving(p);
	settle_points(p);
	netmem_provider_destroy(p);
	return t_done();
}
