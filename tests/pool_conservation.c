/* A million random alloc/put operations (single and bulk, whole chunks and
 * fragments); at the end every chunk is accounted for. The owner's bulk put
 * gets batches of 1..40 that cross the cache limit, some with a stale handle
 * (one already put) in the middle: each stale one is counted, nothing else. */
#include "harness.h"
#include "netmem/netmem.h"

#define N 300

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	netmem_t held[N];
	unsigned nheld = 0;
	uint64_t seed = 42, allocs = 0, puts = 0, stale_puts = 0;
	netmem_t stale = 0; /* a handle put earlier, never valid again */

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 256; /* fewer than N: the pool runs dry sometimes */
	pp.ring_size = 64;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (int op = 0; op < 1000000; op++) {
		uint64_t r = t_rand(&seed);

		if ((r & 1) && nheld < N) {
			netmem_t h = netmem_pool_alloc_direct(pool);

			if (h) {
				held[nheld++] = h;
				allocs++;
			} else {
				CHECK_EQ(errno, ENOMEM);
			}
		} else if ((r & 6) == 2 && nheld >= 16) {
			/* bulk put of the 16 most recent, through the any-thread API */
			netmem_put_bulk(&held[nheld - 16], 16);
			nheld -= 16;
			puts += 16;
		} else if ((r & 6) == 4 && nheld + 16 <= N) {
			unsigned got = netmem_pool_alloc_bulk_direct(pool, &held[nheld], 16);

			nheld += got;
			allocs += got;
		} else if ((r & 6) == 6 && (r & 0x100000) && nheld >= 40) {
			netmem_t b[41];
			unsigned k = 1 + (unsigned)((r >> 8) % 40), m = k;

			memcpy(b, &held[nheld - k], k * sizeof(*b));
			if (stale && (r & 0x200000)) {
				unsigned at = (unsigned)((r >> 24) % (k + 1));

				memmove(b + at + 1, b + at, (k - at) * sizeof(*b));
				b[at] = stale;
				m++;
				stale_puts++;
			}
			stale = held[nheld - 1];
			netmem_pool_put_bulk_direct(pool, b, m);
			nheld -= k;
			puts += k;
		} else if (nheld) {
			unsigned i = (unsigned)((r >> 8) % nheld);

			netmem_pool_put_direct(pool, held[i]);
			held[i] = held[--nheld];
			puts++;
		}
		if ((op & 0xffff) == 0) {
			REQUIRE(netmem_pool_stats(pool, &st) == 0);
			CHECK_EQ(st.in_flight, nheld);
			CHECK_EQ(st.provider_free + st.cached + st.in_ring + st.in_flight, 256);
		}
	}
	while (nheld) {
		netmem_pool_put_direct(pool, held[--nheld]);
		puts++;
	}
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(allocs, puts);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(st.bad_put, stale_puts);
	CHECK(stale_puts > 0);
	CHECK_EQ(st.provider_free + st.cached + st.in_ring, 256);
	CHECK(st.alloc_fast > 0 && st.recycle_cached > 0 && st.alloc_slow > 0);
	printf("allocs %" PRIu64 " puts %" PRIu64 " ", allocs, puts);
	netmem_pool_stats_json(pool, stdout);
	printf("\n");
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
