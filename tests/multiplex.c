/* Multiplexing: pools on host, memfd, devsim and a provider registered at
 * run time, in one process. One mixed batch of handles from all of them,
 * put with netmem_put_bulk (from another thread, then from the owner),
 * returns every chunk to its own pool: conservation holds per pool. */
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NPOOL 4
#define PER 40
#define TOTAL (NPOOL * PER)
#define BUS_BASE UINT64_C(0xb0000000)

/* ---- a user-defined provider: heap memory with its own free list ---- */

struct heap_area {
	void *mem;
	uint32_t *free;
	unsigned nr_free;
};

static int heap_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct heap_area *ha = calloc(1, sizeof(*ha));

	if (!ha)
		return -ENOMEM;
	ha->mem = aligned_alloc(4096, s->size);
	ha->free = malloc(s->nr_chunks * sizeof(*ha->free));
	if (!ha->mem || !ha->free) {
		free(ha->mem);
		free(ha->free);
		free(ha);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nr_chunks; i++)
		ha->free[i] = (uint32_t)(s->nr_chunks - 1 - i);
	ha->nr_free = (unsigned)s->nr_chunks;
	s->cpu_base = ha->mem;
	s->priv = ha;
	return 0;
}

static void heap_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct heap_area *ha = s->priv;

	free(ha->mem);
	free(ha->free);
	free(ha);
}

static uint64_t heap_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
			      size_t off)
{
	return BUS_BASE + off;
}

static int heap_write(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		      const void *src, size_t len)
{
	memcpy((char *)s->cpu_base + off, src, len);
	return 0;
}

static int heap_read(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		     void *dst, size_t len)
{
	memcpy(dst, (char *)s->cpu_base + off, len);
	return 0;
}

static unsigned heap_alloc_bulk(struct netmem_provider *p, const struct netmem_area_spec *s,
				uint32_t *idx, unsigned n)
{
	struct heap_area *ha = s->priv;
	unsigned k = n < ha->nr_free ? n : ha->nr_free;

	for (unsigned i = 0; i < k; i++)
		idx[i] = ha->free[--ha->nr_free];
	return k;
}

static void heap_release_bulk(struct netmem_provider *p, const struct netmem_area_spec *s,
			      const uint32_t *idx, unsigned n)
{
	struct heap_area *ha = s->priv;

	for (unsigned i = 0; i < n; i++)
		ha->free[ha->nr_free++] = idx[i];
}

static const struct netmem_provider_ops heap_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "testheap",
	.area_create = heap_area_create,
	.area_destroy = heap_area_destroy,
	.dma_addr = heap_dma_addr,
	.write = heap_write,
	.read = heap_read,
	.alloc_bulk = heap_alloc_bulk,
	.release_bulk = heap_release_bulk,
};

/* ---- the test ---------------------------------------------------------- */

static netmem_t batch[TOTAL];

static void *remote_put(void *arg)
{
	netmem_put_bulk(batch, TOTAL);
	return arg;
}

static void check_pool(struct netmem_pool *pool, const char *name, uint64_t ring,
		       uint64_t cached_puts)
{
	struct netmem_pool_stats st;

	CHECK_EQ(netmem_pool_stats(pool, &st), 0);
	printf("%-8s nr %" PRIu64 " free %" PRIu64 " cached %" PRIu64 " ring %" PRIu64
	       " in flight %" PRIu64 " recycle_ring %" PRIu64 " recycle_cached %" PRIu64 "\n",
	       name, st.nr_chunks, st.provider_free, st.cached, st.in_ring, st.in_flight,
	       st.recycle_ring, st.recycle_cached);
	CHECK_EQ(st.nr_chunks, st.provider_free + st.cached + st.in_ring + st.in_flight);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(st.bad_put, 0);
	CHECK_EQ(st.recycle_ring, ring);
	CHECK_EQ(st.recycle_cached, cached_puts);
}

int main(void)
{
	static const char *const specs[NPOOL] = { "host", "memfd", "devsim", "testheap" };
	struct netmem_provider *prov[NPOOL];
	struct netmem_pool *pool[NPOOL];
	struct netmem_pool_params pp;
	struct netmem_pool_stats st;
	uint64_t seed = 42;
	pthread_t t;

	CHECK_EQ(netmem_provider_register(&heap_ops), 0);
	CHECK_EQ(netmem_provider_register(&heap_ops), -EEXIST);
	for (int i = 0; i < NPOOL; i++) {
		prov[i] = netmem_provider_create(specs[i]);
		REQUIRE(prov[i]);
		netmem_pool_params_init(&pp, prov[i]);
		pp.nr_chunks = 64;
		pool[i] = netmem_pool_create(&pp);
		REQUIRE(pool[i]);
	}

	for (int round = 0; round < 2; round++) {
		/* PER chunks of each pool, interleaved, then shuffled. */
		for (int i = 0; i < TOTAL; i++) {
			struct netmem_pool *want = pool[i % NPOOL];
			unsigned char in[64], out[64];
			uint64_t dma = 0;

			batch[i] = netmem_pool_alloc_direct(want);
			REQUIRE(batch[i]);
			CHECK(netmem_pool_of(batch[i]) == want);
			memset(in, i, sizeof(in));
			CHECK_EQ(netmem_dev_write(batch[i], 64, in, sizeof(in)), 0);
			CHECK_EQ(netmem_dev_read(batch[i], 64, out, sizeof(out)), 0);
			CHECK(!memcmp(in, out, sizeof(in)));
			CHECK_EQ(netmem_dma_addr(batch[i], &dma), 0);
			switch (i % NPOOL) {
			case 0: CHECK_EQ(dma, (uintptr_t)netmem_address(batch[i])); break;
			case 1: CHECK_EQ(dma, netmem_area_offset(batch[i])); break;
			case 2: CHECK(netmem_address(batch[i]) == NULL &&
				      dma == NETMEM_DEVSIM_IOVA_BASE + netmem_area_offset(batch[i]));
				break;
			case 3: CHECK_EQ(dma, BUS_BASE + netmem_area_offset(batch[i])); break;
			}
		}
		for (int i = TOTAL - 1; i > 0; i--) {
			int j = (int)(t_rand(&seed) % (uint64_t)(i + 1));
			netmem_t x = batch[i];

			batch[i] = batch[j];
			batch[j] = x;
		}
		if (round == 0) {
			/* Not the owner of any: every chunk goes to its pool's ring. */
			REQUIRE(pthread_create(&t, NULL, remote_put, NULL) == 0);
			pthread_join(t, NULL);
			for (int i = 0; i < NPOOL; i++)
				check_pool(pool[i], specs[i], PER, 0);
		} else {
			/* The owner of all four: into each pool's cache. The
			 * second round's allocations came from the rings. */
			netmem_put_bulk(batch, TOTAL);
			for (int i = 0; i < NPOOL; i++) {
				check_pool(pool[i], specs[i], PER, PER);
				CHECK_EQ(netmem_pool_stats(pool[i], &st), 0);
				CHECK_EQ(st.cached, st.nr_chunks);
				CHECK(st.alloc_refill >= PER);
			}
		}
	}

	/* A handle put to the wrong pool is refused and counted there. */
	{
		netmem_t h = netmem_pool_alloc_direct(pool[2]);

		REQUIRE(h);
		netmem_pool_put_direct(pool[0], h);
		CHECK_EQ(netmem_pool_stats(pool[0], &st), 0);
		CHECK_EQ(st.bad_put, 1);
		CHECK_EQ(netmem_pool_stats(pool[2], &st), 0);
		CHECK_EQ(st.in_flight, 1);
		netmem_put(h);
		CHECK_EQ(netmem_pool_stats(pool[2], &st), 0);
		CHECK_EQ(st.in_flight, 0);
	}

	for (int i = 0; i < NPOOL; i++) {
		CHECK_EQ(netmem_pool_destroy(pool[i]), 0);
		CHECK_EQ(netmem_provider_nr_areas(prov[i]), 0);
		netmem_provider_destroy(prov[i]);
	}
	return t_done();
}
