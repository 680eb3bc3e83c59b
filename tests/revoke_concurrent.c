/* Revoke under load, a hundred times: an owner thread allocates whole chunks
 * and fragments at full speed and hands them to a putter thread (and puts
 * some itself), while the main thread revokes the provider at a random
 * moment. No crash, no bad put, every chunk comes back, and the area is
 * unmapped; in odd rounds the owner destroys its pool as soon as it notices,
 * while the putter is still returning chunks. Run with SAN=thread and
 * SAN=address too. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "netmem/netmem.h"

#define ROUNDS 100
#define QSIZE 1024

struct round {
	struct netmem_provider *prov;
	struct netmem_pool *_Atomic pool;
	int destroy_early;
	uint64_t seed;
	/* owner → putter queue (single producer, single consumer) */
	netmem_t q[QSIZE];
	_Atomic uint64_t head, tail;
	_Atomic int owner_done;
	_Atomic long allocs;        /* references handed out by the owner */
	_Atomic long owner_puts, putter_puts;
	int destroy_left;
};

static void *owner(void *arg)
{
	struct round *r = arg;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	uint64_t s = r->seed;
	long allocs = 0, puts = 0;
	netmem_t mine[16];
	int nmine = 0;

	netmem_pool_params_init(&pp, r->prov);
	pp.nr_chunks = 256;
	pp.ring_size = 256;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	/* release: the main thread reads the pool's fields after this */
	atomic_store_explicit(&r->pool, pool, memory_order_release);
	for (;;) {
		uint64_t x = t_rand(&s);
		netmem_t h;
		uint32_t off;

		if ((allocs & 31) == 0 && netmem_pool_poll(pool) == -ENODEV)
			break;
		if (x & 1)
			h = netmem_pool_alloc_frag_direct(pool, 1 + (uint32_t)(x >> 40) % 3000, &off);
		else
			h = netmem_pool_alloc_direct(pool);
		if (!h) {
			if (errno == ENODEV)
				break;
			REQUIRE(errno == ENOMEM); /* all out: the putter is behind */
			if (nmine) {
				netmem_put_bulk(mine, (unsigned)nmine);
				puts += nmine;
				nmine = 0;
			}
			sched_yield();
			continue;
		}
		allocs++;
		atomic_store_explicit(&r->allocs, allocs, memory_order_relaxed);
		if ((x >> 8) % 4 == 0) {
			/* keep a few, put them back later ourselves */
			mine[nmine++] = h;
			if (nmine == 16) {
				for (int i = 0; i < 16; i++)
					netmem_put(mine[i]);
				puts += 16;
				nmine = 0;
			}
			continue;
		}
		{
			uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
			/* acquire: the putter has read the slot before moving head */
			uint64_t hd = atomic_load_explicit(&r->head, memory_order_acquire);

			if (t - hd == QSIZE) {
				netmem_put(h);
				puts++;
				continue;
			}
			r->q[t % QSIZE] = h;
			/* release: the slot is written before the putter sees it */
			atomic_store_explicit(&r->tail, t + 1, memory_order_release);
		}
	}
	/* noticed the revoke: the cache is empty, later puts free chunks */
	{
		struct netmem_pool_stats st;

		REQUIRE(netmem_pool_stats(pool, &st) == 0);
		CHECK_EQ(st.cached, 0);
		CHECK_EQ(st.revoked, 1);
	}
	if (r->destroy_early)
		r->destroy_left = netmem_pool_destroy(pool);
	netmem_put_bulk(mine, (unsigned)nmine);
	puts += nmine;
	atomic_store_explicit(&r->owner_puts, puts, memory_order_relaxed);
	atomic_store_explicit(&r->owner_done, 1, memory_order_release);
	return NULL;
}

static void *putter(void *arg)
{
	struct round *r = arg;
	long puts = 0;
	netmem_t batch[8];

	for (;;) {
		uint64_t hd = atomic_load_explicit(&r->head, memory_order_relaxed);
		/* acquire: pairs with the owner's release of tail */
		uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
		unsigned n = 0;

		if (hd == t) {
			/* acquire: after owner_done, tail is final */
			if (atomic_load_explicit(&r->owner_done, memory_order_acquire) &&
			    atomic_load_explicit(&r->tail, memory_order_acquire) == hd)
				break;
			sched_yield();
			continue;
		}
		while (hd + n != t && n < 8) {
			batch[n] = r->q[(hd + n) % QSIZE];
			n++;
		}
		/* release: slots read before the owner may reuse them */
		atomic_store_explicit(&r->head, hd + n, memory_order_release);
		if (n & 1) {
			netmem_put_bulk(batch, n);
		} else {
			for (unsigned i = 0; i < n; i++)
				netmem_put(batch[i]);
		}
		puts += n;
	}
	atomic_store_explicit(&r->putter_puts, puts, memory_order_relaxed);
	return NULL;
}

int main(void)
{
	uint64_t s = 42;
	static struct round r;

	for (int round = 0; round < ROUNDS; round++) {
		pthread_t to, tp;
		struct netmem_pool *pool;
		long revoke_at;

		memset(&r, 0, sizeof(r));
		r.prov = netmem_provider_create("host");
		REQUIRE(r.prov);
		r.seed = t_rand(&s) | 1;
		r.destroy_early = round & 1;
		revoke_at = 100 + (long)(t_rand(&s) % 20000);
		REQUIRE(pthread_create(&to, NULL, owner, &r) == 0);
		REQUIRE(pthread_create(&tp, NULL, putter, &r) == 0);
		while (atomic_load_explicit(&r.allocs, memory_order_relaxed) < revoke_at &&
		       !atomic_load_explicit(&r.owner_done, memory_order_acquire))
			sched_yield();
		CHECK_EQ(netmem_provider_revoke(r.prov), 0);
		pthread_join(to, NULL);
		pthread_join(tp, NULL);
		/* conservation: every reference handed out came back once */
		CHECK_EQ(r.allocs, r.owner_puts + r.putter_puts);
		/* everything is back and the provider was revoked: unmapped */
		CHECK_EQ(netmem_provider_nr_areas(r.prov), 0);
		pool = atomic_load_explicit(&r.pool, memory_order_acquire);
		if (!r.destroy_early) {
			struct netmem_pool_stats st;

			REQUIRE(netmem_pool_stats(pool, &st) == 0);
			CHECK_EQ(st.in_flight, 0);
			CHECK_EQ(st.cached, 0);
			CHECK_EQ(st.in_ring, 0);
			CHECK_EQ(st.provider_free, st.nr_chunks);
			CHECK_EQ(st.bad_put, 0);
			CHECK_EQ(st.frag_chunks, st.frag_retired);
			CHECK_EQ(netmem_pool_destroy(pool), 0);
		} else {
			CHECK(r.destroy_left >= 0);
		}
		netmem_provider_destroy(r.prov);
		if (t_failures) {
			fprintf(stderr, "round %d failed\n", round);
			break;
		}
	}
	return t_done();
}
