/* Live fragments never overlap: a million random fragment allocations and
 * puts (in random order) with random sizes 1..9000, over chunks of 4 KiB,
 * 16 KiB, 64 KiB and 2 MiB, each checked against a bitmap of every live byte
 * of the area. Also: offsets aligned, fragments inside their chunk, sizes
 * larger than the chunk rejected, and the counters add up at the end.
 * NETMEM_TEST_OPS overrides the number of operations. */
#include "harness.h"
#include "netmem/netmem.h"

#define MAX_LIVE 1024

struct frag {
	netmem_t h;
	uint64_t pos; /* byte position in the area */
	uint32_t size;
};

static uint64_t *bitmap;

/* Set (or clear) bits [pos, pos + len); returns the number of bits that
 * were already set (or already clear). */
static uint64_t mark(uint64_t pos, uint64_t len, int set)
{
	uint64_t bad = 0;

	while (len) {
		uint64_t w = pos / 64, b = pos % 64;
		uint64_t n = 64 - b < len ? 64 - b : len;
		uint64_t m = (n == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1)) << b;

		if (set) {
			bad += (uint64_t)__builtin_popcountll(bitmap[w] & m);
			bitmap[w] |= m;
		} else {
			bad += (uint64_t)__builtin_popcountll(~bitmap[w] & m);
			bitmap[w] &= ~m;
		}
		pos += n;
		len -= n;
	}
	return bad;
}

static void run(struct netmem_provider *prov, int order, uint32_t nr_chunks, long ops,
		uint64_t seed)
{
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	static struct frag live[MAX_LIVE];
	uint64_t chunk = (uint64_t)4096 << order, overlaps = 0, outside = 0, misaligned = 0;
	uint64_t frags = 0, rejected = 0, enomem = 0, s = seed;
	int nlive = 0;

	netmem_pool_params_init(&pp, prov);
	pp.order = order;
	pp.nr_chunks = nr_chunks;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	bitmap = calloc((size_t)(chunk * nr_chunks / 64), sizeof(*bitmap));
	REQUIRE(bitmap);
	for (long i = 0; i < ops; i++) {
		uint64_t x = t_rand(&s);
		/* drift around a few hundred live fragments */
		int do_alloc = nlive == 0 || (nlive < MAX_LIVE && (x & 1023) < (uint64_t)(1024 - nlive));

		if (do_alloc) {
			uint32_t size = 1 + (uint32_t)((x >> 20) % 9000), off = ~0u;
			netmem_t h = netmem_pool_alloc_frag_direct(pool, size, &off);

			if (size > chunk) {
				CHECK(h == 0 && errno == EINVAL && off == ~0u);
				rejected++;
				continue;
			}
			if (!h) {
				/* every chunk pinned: put one and go on */
				REQUIRE(errno == ENOMEM && nlive > 0);
				enomem++;
				x = 0;
				goto put;
			}
			frags++;
			misaligned += off % 64 != 0;
			outside += off + (uint64_t)size > chunk;
			live[nlive].h = h;
			live[nlive].size = size;
			live[nlive].pos = netmem_area_offset(h) + off;
			overlaps += mark(live[nlive].pos, size, 1);
			nlive++;
			continue;
		}
put:
		{
			int k = (int)((x >> 32) % (uint64_t)nlive);

			/* a stray bit would mean someone cleared our range */
			CHECK_EQ(mark(live[k].pos, live[k].size, 0), 0);
			if (x & 2)
				netmem_put(live[k].h);
			else
				netmem_pool_put_direct(pool, live[k].h);
			live[k] = live[--nlive];
		}
	}
	CHECK_EQ(overlaps, 0);
	CHECK_EQ(outside, 0);
	CHECK_EQ(misaligned, 0);
	while (nlive) {
		nlive--;
		CHECK_EQ(mark(live[nlive].pos, live[nlive].size, 0), 0);
		netmem_put(live[nlive].h);
	}
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	printf("order %d: %" PRIu64 " fragments over %" PRIu64 " chunks, %" PRIu64
	       " too large rejected, %" PRIu64 " times every chunk pinned, %" PRIu64
	       " bytes wasted at chunk tails\n",
	       order, frags, st.frag_chunks, rejected, enomem, st.frag_waste_bytes);
	CHECK_EQ(st.frag_alloc, frags);
	CHECK_EQ(st.bad_put, 0);
	/* only the chunk being carved is still out */
	CHECK_EQ(st.frag_chunks, st.frag_retired + 1);
	CHECK_EQ(st.in_flight, 1);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	free(bitmap);
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	const char *env = getenv("NETMEM_TEST_OPS");
	long ops = env ? atol(env) : 1000000;

	REQUIRE(prov && ops > 0);
	run(prov, 0, 2048, ops / 4, 1);  /* 4 KiB: sizes over 4096 rejected */
	run(prov, 2, 1024, ops / 4, 2);  /* 16 KiB */
	run(prov, 4, 512, ops / 4, 3);   /* 64 KiB */
	run(prov, 9, 64, ops / 4, 4);    /* 2 MiB */
	netmem_provider_destroy(prov);
	return t_done();
}
