/* Each chunk returns to the pool exactly once, including when its fragments
 * are put from several threads at once: the owner carves fragments and deals
 * them round-robin to three putter threads (so the fragments of one chunk are
 * put concurrently, and the last put races the owner retiring the chunk).
 * Checked three ways: the test's own count of live fragments per chunk is 0
 * whenever the pool hands the chunk out again (a new chunk, or the same one
 * carved again from 0), and its generation moved on;
 * the counters add up; and at the end every chunk can be allocated exactly
 * once (a chunk recycled twice would come out twice, a lost one not at all).
 * Run with SAN=thread. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR_PUTTERS 3
#define QSIZE 256
#define NR_CHUNKS 128
#define FRAGS 300000

struct queue {
	netmem_t q[QSIZE];
	_Atomic uint64_t head, tail;
} __attribute__((aligned(64)));

static struct queue queues[NR_PUTTERS];
static _Atomic int done;
static _Atomic long live[NR_CHUNKS];   /* live fragments per chunk, as seen by the test */
static _Atomic long puts_by_putters;

static void *putter(void *arg)
{
	struct queue *q = arg;
	long n = 0;

	for (;;) {
		uint64_t hd = atomic_load_explicit(&q->head, memory_order_relaxed);
		/* acquire: pairs with the owner's release of tail */
		uint64_t t = atomic_load_explicit(&q->tail, memory_order_acquire);

		if (hd == t) {
			if (atomic_load_explicit(&done, memory_order_acquire) &&
			    atomic_load_explicit(&q->tail, memory_order_acquire) == hd)
				break;
			sched_yield();
			continue;
		}
		{
			netmem_t h = q->q[hd % QSIZE];

			/* release: slot read before the owner reuses it */
			atomic_store_explicit(&q->head, hd + 1, memory_order_release);
			/* before the put: once the chunk can be recycled our
			 * count no longer includes this fragment */
			atomic_fetch_sub_explicit(&live[netmem_area_offset(h) / netmem_size(h)], 1,
						  memory_order_relaxed);
			netmem_put(h);
			n++;
		}
	}
	atomic_fetch_add_explicit(&puts_by_putters, n, memory_order_relaxed);
	return NULL;
}

static void push(struct queue *q, netmem_t h)
{
	for (;;) {
		uint64_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
		/* acquire: the putter read the slot before moving head */
		uint64_t hd = atomic_load_explicit(&q->head, memory_order_acquire);

		if (t - hd < QSIZE) {
			q->q[t % QSIZE] = h;
			/* release: slot written before the putter sees it */
			atomic_store_explicit(&q->tail, t + 1, memory_order_release);
			return;
		}
		sched_yield();
	}
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	pthread_t th[NR_PUTTERS];
	static netmem_t last_handle[NR_CHUNKS];
	netmem_t cur = 0, all[NR_CHUNKS + 1];
	uint64_t s = 7;
	long chunks_seen = 0, owner_puts = 0, frags = 0, reused_live = 0, same_gen = 0;
	unsigned got, seen[NR_CHUNKS] = { 0 };

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.order = 2; /* 16 KiB: a few fragments per chunk, many chunk changes */
	pp.nr_chunks = NR_CHUNKS;
	pp.ring_size = 64;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (int i = 0; i < NR_PUTTERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, putter, &queues[i]) == 0);

	for (long i = 0; i < FRAGS; i++) {
		uint64_t x = t_rand(&s);
		uint32_t off, size = 64 + (uint32_t)(x % 6000);
		netmem_t h = netmem_pool_alloc_frag_direct(pool, size, &off);
		unsigned idx;

		if (!h) {
			REQUIRE(errno == ENOMEM); /* all pinned: let the putters catch up */
			sched_yield();
			i--;
			continue;
		}
		frags++;
		idx = (unsigned)(netmem_area_offset(h) / netmem_size(h));
		if (h != cur) {
			/* a chunk handed out again: all its fragments were put */
			REQUIRE(off == 0);
			reused_live += atomic_load_explicit(&live[idx], memory_order_relaxed) != 0;
			same_gen += last_handle[idx] == h;
			last_handle[idx] = h;
			cur = h;
			chunks_seen++;
		}
		atomic_fetch_add_explicit(&live[idx], 1, memory_order_relaxed);
		if ((x >> 32) % 8 == 0) {
			/* the owner puts some itself: a shared chunk costs it the
			 * atomic path, its own carving chunk not */
			atomic_fetch_sub_explicit(&live[idx], 1, memory_order_relaxed);
			netmem_put(h);
			owner_puts++;
			continue;
		}
		push(&queues[i % NR_PUTTERS], h);
	}
	atomic_store_explicit(&done, 1, memory_order_release);
	for (int i = 0; i < NR_PUTTERS; i++)
		pthread_join(th[i], NULL);

	CHECK_EQ(reused_live, 0);
	CHECK_EQ(same_gen, 0);
	CHECK_EQ(owner_puts + atomic_load(&puts_by_putters), frags);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	printf("%ld fragments over %ld chunks (%" PRIu64 " carved), %" PRIu64
	       " refills from the ring\n",
	       frags, chunks_seen, st.frag_chunks, st.alloc_refill);
	CHECK_EQ(st.frag_alloc, frags);
	/* a new handle is a new chunk or one carved again from offset 0 once
	 * every fragment came back to the owner */
	CHECK(st.frag_chunks <= (uint64_t)chunks_seen && st.frag_chunks > 0);
	CHECK_EQ(st.frag_retired, st.frag_chunks - 1);
	CHECK_EQ(st.bad_put, 0);
	CHECK_EQ(st.in_flight, 1); /* the chunk being carved */
	{
		/* ... and the report says so, with no reference outside */
		char *txt = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&txt, &len);

		REQUIRE(m);
		CHECK_EQ(netmem_pool_report_inflight(pool, m, 1), 1);
		fclose(m);
		CHECK(txt && strstr(txt, " refs 0 ") && strstr(txt, "(being carved)"));
		printf("%s", txt ? txt : "");
		free(txt);
	}

	/* Take every whole chunk there is: each exactly once, all but the one
	 * being carved (destroy retires that one and must find it all back). */
	got = netmem_pool_alloc_bulk_direct(pool, all, NR_CHUNKS + 1);
	CHECK_EQ(got, NR_CHUNKS - 1);
	CHECK_EQ(errno, ENOMEM);
	for (unsigned i = 0; i < got; i++)
		seen[netmem_area_offset(all[i]) / 16384]++;
	for (unsigned i = 0; i < NR_CHUNKS; i++)
		CHECK_EQ(seen[i], i == netmem_area_offset(cur) / 16384 ? 0 : 1);
	netmem_pool_put_bulk_direct(pool, all, got);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
