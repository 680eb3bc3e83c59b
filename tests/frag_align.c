/* Fragment alignment (frag_align 64, 128, 4096 and the 64-byte default),
 * exact offsets and tail waste, bad sizes and bad parameters rejected with
 * nothing changed, and a fragment as large as the chunk. */
#include "harness.h"
#include "netmem/netmem.h"

static struct netmem_pool *new_pool(struct netmem_provider *p, int order, uint32_t align)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.order = order;
	pp.nr_chunks = 64;
	pp.frag_align = align;
	return netmem_pool_create(&pp);
}

static void check_align(struct netmem_provider *p, uint32_t align)
{
	struct netmem_pool *pool = new_pool(p, 4, align);
	uint32_t a = align ? align : 64, expect = 0;
	netmem_t cur = 0, hs[4096];
	uint64_t s = a, waste = 0;
	int n = 0;

	REQUIRE(pool);
	for (int i = 0; i < 4000; i++) {
		uint32_t size = 1 + (uint32_t)(t_rand(&s) % 5000), off;
		netmem_t h = netmem_pool_alloc_frag_direct(pool, size, &off);

		REQUIRE(h);
		CHECK_EQ(off % a, 0);
		if (h != cur) {
			/* a new chunk, or the same one carved again from 0 once
			 * every fragment came back (no waste then) */
			if (cur && netmem_area_offset(h) != netmem_area_offset(cur))
				waste += 65536 - expect;
			CHECK_EQ(off, 0);
			cur = h;
		} else {
			/* packed: right after the previous one, rounded up */
			CHECK_EQ(off, expect);
		}
		expect = (off + size + a - 1) / a * a;
		hs[n++] = h;
		if (n == 4096 || i % 7 == 0) {
			netmem_put_bulk(hs, (unsigned)n);
			n = 0;
		}
	}
	netmem_put_bulk(hs, (unsigned)n);
	{
		struct netmem_pool_stats st;

		REQUIRE(netmem_pool_stats(pool, &st) == 0);
		CHECK_EQ(st.frag_waste_bytes, waste);
		CHECK_EQ(st.frag_alloc, 4000);
	}
	CHECK_EQ(netmem_pool_destroy(pool), 0);
}

int main(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_pool *pool;
	struct netmem_pool_stats a, b;
	uint32_t off;
	netmem_t h, h2;

	REQUIRE(p);
	check_align(p, 0);
	check_align(p, 64);
	check_align(p, 128);
	check_align(p, 4096);

	/* bad alignments */
	CHECK(new_pool(p, 0, 3) == NULL && errno == EINVAL);
	CHECK(new_pool(p, 0, 8192) == NULL && errno == EINVAL);
	CHECK(new_pool(p, 0, 0x80000000u) == NULL && errno == EINVAL);

	/* bad sizes: EINVAL, *offset and the pool unchanged */
	pool = new_pool(p, 0, 0);
	REQUIRE(pool);
	h = netmem_pool_alloc_frag_direct(pool, 100, &off);
	REQUIRE(h && off == 0);
	REQUIRE(netmem_pool_stats(pool, &a) == 0);
	{
		const uint32_t bad[] = { 0, 4097, 8192, 65536, UINT32_MAX, UINT32_MAX / 2 + 1 };

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			off = 777;
			errno = 0;
			CHECK(netmem_pool_alloc_frag_direct(pool, bad[i], &off) == 0);
			CHECK_EQ(errno, EINVAL);
			CHECK_EQ(off, 777);
		}
		errno = 0;
		CHECK(netmem_pool_alloc_frag_direct(pool, 100, NULL) == 0 && errno == EINVAL);
	}
	REQUIRE(netmem_pool_stats(pool, &b) == 0);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	/* the current chunk is still carved where it was */
	h2 = netmem_pool_alloc_frag_direct(pool, 100, &off);
	CHECK(h2 == h && off == 128);
	/* a whole chunk as one fragment: a new chunk, the old tail wasted */
	h2 = netmem_pool_alloc_frag_direct(pool, 4096, &off);
	CHECK(h2 && h2 != h && off == 0);
	REQUIRE(netmem_pool_stats(pool, &b) == 0);
	CHECK_EQ(b.frag_waste_bytes, 4096 - 256);
	CHECK_EQ(b.frag_chunks, 2);
	CHECK_EQ(b.frag_retired, 1);
	/* which is full: the next one takes another chunk, no waste */
	{
		netmem_t h3 = netmem_pool_alloc_frag_direct(pool, 1, &off);

		CHECK(h3 && h3 != h2 && off == 0);
		REQUIRE(netmem_pool_stats(pool, &b) == 0);
		CHECK_EQ(b.frag_waste_bytes, 4096 - 256);
		CHECK_EQ(netmem_pool_destroy(pool), 3);
		netmem_put(h3);
	}
	netmem_put(h2);
	netmem_put(h);
	netmem_put(h);
	netmem_provider_destroy(p);
	return t_done();
}
