/* The README's example: a pool over host memory, a chunk and a fragment out
 * and back. */
#include <stdio.h>

#include <netmem/netmem.h>

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host:order=4");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	uint64_t dma;
	uint32_t off;
	netmem_t h, f;

	if (!prov) {
		fprintf(stderr, "provider: %s\n", netmem_last_error());
		return 1;
	}
	netmem_pool_params_init(&pp, prov); /* 64 KiB chunks, from the spec */
	pool = netmem_pool_create(&pp);     /* this thread becomes the owner */
	if (!pool) {
		fprintf(stderr, "pool: %s\n", netmem_last_error());
		return 1;
	}
	h = netmem_pool_alloc_direct(pool); /* owner fast path */
	if (!h || netmem_dma_addr(h, &dma))
		return 1;
	printf("chunk of %zu bytes at device address 0x%llx, area %u offset %zu\n",
	       netmem_size(h), (unsigned long long)dma, netmem_area_id(h), netmem_area_offset(h));
	f = netmem_pool_alloc_frag_direct(pool, 1500, &off); /* a fragment */
	if (!f)
		return 1;
	printf("fragment of 1500 bytes at offset %u of a %zu-byte chunk\n", off, netmem_size(f));
	netmem_put(f); /* from any thread */
	netmem_put(h);
	netmem_pool_destroy(pool); /* safe with buffers still out */
	netmem_provider_destroy(prov);
	return 0;
}
