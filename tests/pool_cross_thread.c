/* Several threads return buffers to the owner through the recycle ring while
 * the owner keeps allocating; conservation at the end. Run it under
 * SAN=thread too. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "netmem/netmem.h"

#define PUTTERS 3
#define QSZ 1024
#define TOTAL 400000

/* One single-producer single-consumer handoff queue per putter. */
struct handoff {
	_Atomic unsigned long head, tail;
	netmem_t q[QSZ];
	_Atomic int done;
	unsigned long received;
};

static struct handoff hq[PUTTERS];

static void *putter(void *arg)
{
	struct handoff *q = arg;
	netmem_t batch[32];

	for (;;) {
		unsigned long t = atomic_load_explicit(&q->tail, memory_order_relaxed);
		unsigned long h = atomic_load_explicit(&q->head, memory_order_acquire);
		unsigned n = 0;

		while (t != h && n < 32)
			batch[n++] = q->q[t++ % QSZ];
		if (n) {
			atomic_store_explicit(&q->tail, t, memory_order_release);
			q->received += n;
			/* alternate single and bulk puts */
			if (q->received & 32)
				netmem_put_bulk(batch, n);
			else
				for (unsigned i = 0; i < n; i++)
					netmem_put(batch[i]);
			continue;
		}
		if (atomic_load_explicit(&q->done, memory_order_acquire) &&
		    atomic_load_explicit(&q->head, memory_order_acquire) == t)
			break;
	}
	return NULL;
}

/* A full ring: each chunk that finds no room is counted once in
 * recycle_ring_full and goes to the provider. */
static netmem_t spill[64];

static void *put_spill(void *arg)
{
	(void)arg;
	netmem_put_bulk(spill, 64);
	return NULL;
}

static void ring_full_counts_chunks(struct netmem_provider *prov)
{
	struct netmem_pool_params pp;
	struct netmem_pool_stats st;
	struct netmem_pool *pool;
	pthread_t th;

	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 128;
	pp.ring_size = 4;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	REQUIRE(netmem_pool_alloc_bulk_direct(pool, spill, 64) == 64);
	REQUIRE(pthread_create(&th, NULL, put_spill, NULL) == 0);
	pthread_join(th, NULL);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.recycle_ring, 4);
	CHECK_EQ(st.recycle_ring_full, 60);
	CHECK_EQ(st.in_ring, 4);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	pthread_t th[PUTTERS];
	unsigned long sent = 0, failed = 0, owner_puts = 0;

	REQUIRE(prov);
	ring_full_counts_chunks(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 512;
	pp.ring_size = 256;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (int i = 0; i < PUTTERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, putter, &hq[i]) == 0);
	while (sent < TOTAL) {
		netmem_t h = netmem_pool_alloc_direct(pool);
		struct handoff *q = &hq[sent % PUTTERS];
		unsigned long head;

		if (!h) { /* all in flight: let the putters run */
			failed++;
			CHECK_EQ(errno, ENOMEM);
			sched_yield();
			continue;
		}
		if (sent % 7 == 0) { /* some go straight back from the owner */
			netmem_put(h);
			owner_puts++;
			sent++;
			continue;
		}
		head = atomic_load_explicit(&q->head, memory_order_relaxed);
		while (head - atomic_load_explicit(&q->tail, memory_order_acquire) >= QSZ)
			;
		q->q[head % QSZ] = h;
		atomic_store_explicit(&q->head, head + 1, memory_order_release);
		sent++;
	}
	for (int i = 0; i < PUTTERS; i++) {
		atomic_store_explicit(&hq[i].done, 1, memory_order_release);
		pthread_join(th[i], NULL);
	}
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	{
		unsigned long recv = owner_puts;

		for (int i = 0; i < PUTTERS; i++)
			recv += hq[i].received;
		CHECK_EQ(recv, sent);
	}
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(st.bad_put, 0);
	CHECK_EQ(st.provider_free + st.cached + st.in_ring, 512);
	CHECK(st.alloc_refill > 0); /* the ring was really used */
	printf("sent %lu, alloc failures %lu, ", sent, failed);
	netmem_pool_stats_json(pool, stdout);
	printf("\n");
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
