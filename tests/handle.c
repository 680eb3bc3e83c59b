/* Handles and their accessors. */
#include "harness.h"
#include "netmem/netmem.h"

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host:order=2");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	netmem_t h[8];
	uint64_t dma = 0;

	REQUIRE(prov);
	CHECK_EQ(netmem_provider_default_order(prov), 2);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 8;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	CHECK_EQ(netmem_pool_chunk_size(pool), 16384);
	for (int i = 0; i < 8; i++) {
		h[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(h[i] != NETMEM_NONE);
		CHECK(netmem_is_readable(h[i]));
		CHECK(!netmem_is_revoked(h[i]));
		CHECK_EQ(netmem_size(h[i]), 16384);
		CHECK(netmem_address(h[i]) != NULL);
		CHECK_EQ((uintptr_t)netmem_address(h[i]) % 16384, 0);
		CHECK_EQ(netmem_dma_addr(h[i], &dma), 0);
		/* host: the device address is the virtual address */
		CHECK_EQ(dma, (uintptr_t)netmem_address(h[i]));
		CHECK(netmem_area_id(h[i]) != 0);
		CHECK_EQ(netmem_area_offset(h[i]) % 16384, 0);
		CHECK(netmem_area_offset(h[i]) < 8 * 16384);
		CHECK(netmem_pool_of(h[i]) == pool);
	}
	/* distinct chunks, same area, offsets consistent with addresses */
	for (int i = 0; i < 8; i++)
		for (int j = i + 1; j < 8; j++) {
			CHECK(h[i] != h[j]);
			CHECK(netmem_area_offset(h[i]) != netmem_area_offset(h[j]));
			CHECK_EQ(netmem_area_id(h[i]), netmem_area_id(h[j]));
			CHECK_EQ((char *)netmem_address(h[i]) - (char *)netmem_address(h[j]),
				 (long long)netmem_area_offset(h[i]) - (long long)netmem_area_offset(h[j]));
		}
	/* the pool is empty: the ninth allocation fails with ENOMEM */
	errno = 0;
	CHECK_EQ(netmem_pool_alloc_direct(pool), NETMEM_NONE);
	CHECK_EQ(errno, ENOMEM);
	/* a put changes the generation: the same chunk comes back under a new handle */
	{
		netmem_t old = h[3], again;

		netmem_pool_put_direct(pool, old);
		again = netmem_pool_alloc_direct(pool);
		CHECK((again & ((UINT64_C(1) << 48) - 1)) == (old & ((UINT64_C(1) << 48) - 1)));
		CHECK(again != old);
		h[3] = again;
	}
	/* device-side write and read reach the chunk's bytes */
	{
		char buf[5] = { 0 };

		CHECK_EQ(netmem_dev_write(h[0], 100, "abcd", 4), 0);
		CHECK_EQ(memcmp((char *)netmem_address(h[0]) + 100, "abcd", 4), 0);
		CHECK_EQ(netmem_dev_read(h[0], 100, buf, 4), 0);
		CHECK_EQ(strcmp(buf, "abcd"), 0);
		CHECK_EQ(netmem_dev_write(h[0], 16380, "abcd", 5), -EINVAL);
		CHECK_EQ(netmem_dev_write(NETMEM_NONE, 0, "a", 1), -EINVAL);
	}
	for (int i = 0; i < 8; i++)
		netmem_put(h[i]);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
