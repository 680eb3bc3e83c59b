/* SPDX-License-Identifier: MIT */
/*
 * A memory provider of your own, registered at run time.
 *
 * "scratch" hands out heap memory and tells the pool that the device sees
 * it at a bus address of its choosing (spec "scratch:bus=0x40000000"). A
 * real provider would map device memory in area_create and program the
 * device's IOMMU in dma_addr; the pool API in front of it does not change.
 *
 *   cc -Iinclude examples/custom_provider.c build/libnetmem.a -pthread
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"

struct scratch {
	uint64_t bus; /* device address of byte 0 of each area */
};

/* Parse "bus=ADDR"; unknown keys are an error with a message. */
static int scratch_init(struct netmem_provider *p, const char *args)
{
	struct scratch *s = calloc(1, sizeof(*s));
	char key[16], val[32];
	int ret;

	if (!s)
		return -ENOMEM;
	s->bus = 0x40000000;
	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		if (strcmp(key, "bus") != 0) {
			netmem_set_error("scratch: unknown key '%s' (known: bus)", key);
			ret = -EINVAL;
			break;
		}
		s->bus = strtoull(val, NULL, 0);
	}
	if (ret < 0) {
		free(s);
		return ret;
	}
	netmem_provider_set_priv(p, s);
	return 0;
}

static void scratch_fini(struct netmem_provider *p)
{
	free(netmem_provider_priv(p));
}

/* One area: nr_chunks chunks of chunk_size bytes. */
static int scratch_area_create(struct netmem_provider *p, struct netmem_area_spec *a)
{
	(void)p;
	a->cpu_base = aligned_alloc(4096, a->size);
	return a->cpu_base ? 0 : -ENOMEM;
}

static void scratch_area_destroy(struct netmem_provider *p, struct netmem_area_spec *a)
{
	(void)p;
	free(a->cpu_base);
}

/* Called once per chunk when the area is made, never on the fast path. */
static uint64_t scratch_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *a,
				 size_t off)
{
	(void)a;
	return ((struct scratch *)netmem_provider_priv(p))->bus + off;
}

/* The device's side of a transfer (drivers that emulate DMA call this). */
static int scratch_write(struct netmem_provider *p, const struct netmem_area_spec *a,
			 size_t off, const void *src, size_t len)
{
	(void)p;
	memcpy((char *)a->cpu_base + off, src, len);
	return 0;
}

static const struct netmem_provider_ops scratch_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "scratch",
	.init = scratch_init,
	.fini = scratch_fini,
	.area_create = scratch_area_create,
	.area_destroy = scratch_area_destroy,
	.dma_addr = scratch_dma_addr,
	.write = scratch_write,
};

int main(void)
{
	struct netmem_provider *prov;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	netmem_t h;
	uint64_t dma;
	uint32_t off;

	if (netmem_provider_register(&scratch_ops) < 0) {
		fprintf(stderr, "register: %s\n", netmem_last_error());
		return 1;
	}
	prov = netmem_provider_create("scratch:bus=0x80000000");
	if (!prov) {
		fprintf(stderr, "create: %s\n", netmem_last_error());
		return 1;
	}
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 64;
	pool = netmem_pool_create(&pp);
	if (!pool) {
		fprintf(stderr, "pool: %s\n", netmem_last_error());
		return 1;
	}

	/* The same calls as for any built-in provider. */
	h = netmem_pool_alloc_frag_direct(pool, 1500, &off);
	if (!h || netmem_dma_addr(h, &dma) < 0 ||
	    netmem_dev_write(h, off, "hello, device", 14) < 0)
		return 1;
	printf("fragment at bus address 0x%llx holds \"%s\"\n",
	       (unsigned long long)(dma + off), (char *)netmem_address(h) + off);
	netmem_put(h);

	netmem_pool_stats_json(pool, stdout);
	printf("\n");
	if (netmem_pool_destroy(pool) != 0)
		return 1;
	netmem_provider_destroy(prov);
	return dma >= 0x80000000 ? 0 : 1;
}
