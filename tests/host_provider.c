/* The host provider at every order: alignment, distinct chunks inside the
 * area, and the mapping gone after destroy. */
#include <stdbool.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

/* Is [addr, addr+len) inside one mapping listed in /proc/self/maps? */
static bool mapped(uintptr_t addr, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr < hi && addr + len > lo) {
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

int main(void)
{
	for (int order = 0; order <= NETMEM_MAX_ORDER; order++) {
		char spec[32];
		struct netmem_provider *prov;
		struct netmem_pool_params pp;
		struct netmem_pool *pool;
		size_t chunk = (size_t)4096 << order;
		unsigned n = order >= 8 ? 4 : 16;
		netmem_t h[16];
		uintptr_t base = UINTPTR_MAX;

		snprintf(spec, sizeof(spec), "host:order=%d", order);
		prov = netmem_provider_create(spec);
		REQUIRE(prov);
		netmem_pool_params_init(&pp, prov);
		pp.nr_chunks = n;
		pool = netmem_pool_create(&pp);
		REQUIRE(pool);
		CHECK_EQ(netmem_provider_nr_areas(prov), 1);
		CHECK_EQ(netmem_pool_chunk_size(pool), chunk);
		for (unsigned i = 0; i < n; i++) {
			h[i] = netmem_pool_alloc_direct(pool);
			REQUIRE(h[i]);
			CHECK_EQ((uintptr_t)netmem_address(h[i]) % chunk, 0);
			CHECK(netmem_area_offset(h[i]) + chunk <= n * chunk);
			if ((uintptr_t)netmem_address(h[i]) - netmem_area_offset(h[i]) < base)
				base = (uintptr_t)netmem_address(h[i]) - netmem_area_offset(h[i]);
			/* the chunk is real memory: first and last byte writable */
			((volatile char *)netmem_address(h[i]))[0] = (char)i;
			((volatile char *)netmem_address(h[i]))[chunk - 1] = (char)i;
		}
		for (unsigned i = 0; i < n; i++) {
			CHECK_EQ((uintptr_t)netmem_address(h[i]) - netmem_area_offset(h[i]), base);
			for (unsigned j = i + 1; j < n; j++)
				CHECK(netmem_address(h[i]) != netmem_address(h[j]));
			CHECK_EQ(((volatile char *)netmem_address(h[i]))[0], (char)i);
		}
		CHECK(mapped(base, n * chunk));
		for (unsigned i = 0; i < n; i++)
			netmem_pool_put_direct(pool, h[i]);
		CHECK_EQ(netmem_pool_destroy(pool), 0);
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
		CHECK(!mapped(base, n * chunk));
		netmem_provider_destroy(prov);
	}
	return t_done();
}
