/* The fault provider makes allocations, area creations and device writes
 * fail and revokes at a random allocation; pools count the failures, recover
 * from them, and never lose or leak a chunk. Run it under SAN=thread too. */
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdatomic.h>

#include "harness.h"
#include "netmem/netmem.h"

static struct netmem_pool *mkpool(struct netmem_provider *prov, uint32_t nr)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = nr;
	return netmem_pool_create(&pp);
}

static void check_conserved(struct netmem_pool *pool, uint64_t held)
{
	struct netmem_pool_stats st;

	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, held);
	CHECK(st.provider_free <= st.nr_chunks && st.cached <= st.nr_chunks &&
	      st.in_ring <= st.nr_chunks);
	CHECK_EQ(st.provider_free + st.cached + st.in_ring + st.in_flight, st.nr_chunks);
	CHECK_EQ(st.bad_put, 0);
}

/* every=N: every Nth provider allocation fails; the next one succeeds, and
 * the pool's failure count is exactly the injected one. */
static void test_every(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:every=4,inner=host");
	struct netmem_fault_stats fs;
	struct netmem_pool_stats st;
	struct netmem_pool *pool;
	static netmem_t held[200];
	unsigned fails = 0;

	REQUIRE(prov);
	pool = mkpool(prov, 1024);
	REQUIRE(pool);
	for (int round = 0; round < 20; round++) {
		for (unsigned i = 0; i < 200; i++) {
			held[i] = netmem_pool_alloc_direct(pool);
			if (!held[i]) {
				CHECK_EQ(errno, ENOMEM);
				fails++;
				/* recovers at once: the next call is not an Nth */
				held[i] = netmem_pool_alloc_direct(pool);
				CHECK(held[i] != 0);
			}
		}
		check_conserved(pool, 200);
		for (unsigned i = 0; i < 200; i++)
			netmem_put(held[i]);
		check_conserved(pool, 0);
	}
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	printf("every=4: %" PRIu64 " provider calls, %" PRIu64 " failed, pool alloc_failed %" PRIu64
	       ", alloc_empty %" PRIu64 "\n",
	       fs.alloc_calls, fs.alloc_failed, st.alloc_failed, st.alloc_empty);
	CHECK(fs.alloc_failed > 0);
	CHECK_EQ(fs.alloc_failed, fs.alloc_calls / 4);
	CHECK_EQ(st.alloc_failed, fs.alloc_failed);
	CHECK_EQ(st.alloc_failed, fails);
	CHECK_EQ(st.alloc_empty, fs.alloc_calls);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

/* short=1: every batch is partial, yet every chunk can be had, and the last
 * allocation fails only when the area is really empty. */
static void test_short(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:short=1,seed=5");
	struct netmem_fault_stats fs;
	struct netmem_pool_stats st;
	struct netmem_pool *pool;
	static netmem_t held[300];
	unsigned got = 0;

	REQUIRE(prov);
	pool = mkpool(prov, 300);
	REQUIRE(pool);
	while (got < 300) {
		netmem_t h = netmem_pool_alloc_direct(pool);

		if (!h)
			break;
		held[got++] = h;
	}
	CHECK_EQ(got, 300);
	CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM);
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	printf("short=1: %" PRIu64 " provider calls, %" PRIu64 " short, %" PRIu64 " chunks\n",
	       fs.alloc_calls, fs.alloc_short, st.alloc_slow);
	CHECK(fs.alloc_short > 5);
	CHECK(fs.alloc_calls > 300 / 64 + 1);
	CHECK_EQ(st.alloc_slow, 300);
	check_conserved(pool, 300);
	netmem_pool_put_bulk_direct(pool, held, got);
	check_conserved(pool, 0);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

/* area=2: every second area creation fails with ENOMEM and a reason. */
static void test_area(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:area=2,inner=host:order=1");
	struct netmem_pool *pools[6];
	unsigned ok = 0;

	REQUIRE(prov);
	CHECK_EQ(netmem_provider_default_order(prov), 1);
	for (int i = 0; i < 6; i++) {
		errno = 0;
		pools[i] = mkpool(prov, 16);
		if (i % 2) {
			CHECK(pools[i] == NULL);
			CHECK_EQ(errno, ENOMEM);
			CHECK(strstr(netmem_last_error(), "on purpose") != NULL);
		} else {
			CHECK(pools[i] != NULL);
			ok += pools[i] != NULL;
		}
	}
	CHECK_EQ(netmem_provider_nr_areas(prov), ok);
	for (int i = 0; i < 6; i++)
		if (pools[i]) {
			CHECK_EQ(netmem_pool_chunk_size(pools[i]), 8192);
			CHECK_EQ(netmem_pool_destroy(pools[i]), 0);
		}
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

static int revoked_calls;

static void on_revoke(struct netmem_pool *pool, void *arg)
{
	(void)pool;
	(void)arg;
	revoked_calls++;
}

static void *put_all(void *arg)
{
	netmem_t *h = arg;

	netmem_put_bulk(h, 100);
	return NULL;
}

/* revoke=N: the provider is revoked at a random allocation; the pool stops,
 * handles read as revoked, every chunk comes back and the memory goes; a new
 * provider and pool work again. */
static void test_revoke(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:revoke=16,seed=2");
	struct netmem_pool_params pp;
	struct netmem_fault_stats fs;
	struct netmem_pool_stats st;
	struct netmem_pool *pool;
	static netmem_t held[4096];
	unsigned n = 0, enomem = 0;
	uint64_t dma;
	pthread_t th;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 4096;
	pp.on_revoke = on_revoke;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (;;) {
		netmem_t h = netmem_pool_alloc_direct(pool);

		if (h) {
			REQUIRE(n < 4096);
			REQUIRE(enomem == 0); /* a dead device gives nothing */
			held[n++] = h;
			continue;
		}
		if (errno == ENODEV)
			break;
		/* The device died in this allocation; its revocation comes
		 * from the wrapper's thread in a moment. */
		CHECK_EQ(errno, ENOMEM);
		REQUIRE(++enomem < 20000);
		usleep(500);
	}
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	printf("revoke=16: revoked after %u chunks, %" PRIu64 " provider calls\n", n,
	       fs.alloc_calls);
	CHECK_EQ(fs.revokes, 1);
	CHECK(enomem >= 1);
	/* The pool sees the areas revoked first; the wrapper's flag and its
	 * inner provider's follow on the revoker thread. Wait, bounded. */
	for (int i = 0; i < 20000 && !netmem_provider_is_revoked(netmem_fault_inner(prov));
	     i++)
		usleep(100);
	CHECK_EQ(netmem_provider_is_revoked(prov), 1);
	CHECK_EQ(netmem_provider_is_revoked(netmem_fault_inner(prov)), 1);
	CHECK_EQ(revoked_calls, 1);
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	CHECK_EQ(revoked_calls, 1);
	check_conserved(pool, n);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.cached, 0);
	CHECK_EQ(st.revoked, 1);
	REQUIRE(n >= 200);
	CHECK(netmem_address(held[0]) == NULL);
	CHECK_EQ(netmem_dma_addr(held[0], &dma), -ENODEV);
	CHECK_EQ(netmem_dev_write(held[0], 0, "x", 1), -ENODEV);
	CHECK_EQ(netmem_provider_nr_areas(prov), 1);
	/* give back from another thread and from the owner */
	REQUIRE(pthread_create(&th, NULL, put_all, held) == 0);
	pthread_join(th, NULL);
	netmem_pool_put_bulk_direct(pool, held + 100, n - 100);
	check_conserved(pool, 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0); /* unmapped before destroy */
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);

	/* recovery: a new instance works */
	prov = netmem_provider_create("fault:revoke=1000000,seed=4");
	REQUIRE(prov);
	pool = mkpool(prov, 64);
	REQUIRE(pool);
	held[0] = netmem_pool_alloc_direct(pool);
	CHECK(held[0] != 0);
	netmem_put(held[0]);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
}

/* wfail=N: device writes fail with EIO at random and are counted; the
 * others land. */
static void test_wfail(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:wfail=2,seed=8");
	struct netmem_fault_stats fs;
	struct netmem_pool *pool;
	netmem_t h;
	unsigned eio = 0;

	REQUIRE(prov);
	pool = mkpool(prov, 8);
	REQUIRE(pool);
	h = netmem_pool_alloc_direct(pool);
	REQUIRE(h);
	for (unsigned i = 0; i < 200; i++) {
		unsigned char v = (unsigned char)i, back = 0;
		int ret = netmem_dev_write(h, i, &v, 1);

		if (ret == -EIO) {
			eio++;
			continue;
		}
		CHECK_EQ(ret, 0);
		CHECK_EQ(netmem_dev_read(h, i, &back, 1), 0);
		CHECK_EQ(back, v);
	}
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	CHECK_EQ(fs.write_calls, 200);
	CHECK_EQ(fs.write_failed, eio);
	CHECK(eio > 50 && eio < 150);
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
}

/* The same seed and the same calls give the same faults. */
static uint64_t run_seeded(const char *spec)
{
	struct netmem_provider *prov = netmem_provider_create(spec);
	struct netmem_fault_stats fs;
	struct netmem_pool *pool;
	static netmem_t held[512];
	uint64_t sig = 0;

	REQUIRE(prov);
	pool = mkpool(prov, 512);
	REQUIRE(pool);
	for (int r = 0; r < 10; r++) {
		unsigned n = netmem_pool_alloc_bulk_direct(pool, held, 300);

		sig = sig * 31 + n;
		netmem_pool_put_bulk_direct(pool, held, n);
		/* send the cache back to the provider: destroy and re-create
		 * is not needed, the ring and cache keep chunks in the pool */
	}
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	sig = sig * 31 + fs.alloc_failed;
	sig = sig * 31 + fs.alloc_short;
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	return sig;
}

static void test_seeded(void)
{
	uint64_t a = run_seeded("fault:fail=3,short=2,seed=42");
	uint64_t b = run_seeded("fault:fail=3,short=2,seed=42");

	CHECK_EQ(a, b);
}

/* Bad specs are refused with EINVAL (or the inner's error) and a reason. */
static void test_specs(void)
{
	const char *bad[] = {"fault:every=x",
			     "fault:bogus=1",
			     "fault:inner=",
			     "fault:every=-1",
			     "fault:inner=host:order=99",
			     "fault:seed=1,",
			     "fault:every=1=2x",
			     "fault:every=99999999999999999999",
			     "fault:inner=fault:inner=fault:inner=fault:inner=fault:inner="
			     "fault:inner=fault:inner=fault:inner=fault:inner=host"};
	struct netmem_provider *prov;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		prov = netmem_provider_create(bad[i]);
		CHECK(prov == NULL);
		CHECK_EQ(errno, EINVAL);
		CHECK(netmem_last_error()[0] != 0);
		printf("'%s': %s\n", bad[i], netmem_last_error());
	}
	errno = 0;
	CHECK(netmem_provider_create("fault:inner=nosuch") == NULL && errno == ENOENT);
	CHECK_EQ(netmem_fault_stats(NULL, NULL), -EINVAL);
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	{
		struct netmem_fault_stats fs;

		CHECK_EQ(netmem_fault_stats(prov, &fs), -EINVAL);
		CHECK(netmem_fault_inner(prov) == NULL);
	}
	netmem_provider_destroy(prov);
	/* nested wrappers work */
	prov = netmem_provider_create("fault:every=2,inner=fault:short=1,inner=host:order=1");
	REQUIRE(prov);
	{
		struct netmem_pool *pool = mkpool(prov, 100);
		netmem_t h[100];
		unsigned n = 0;

		REQUIRE(pool);
		CHECK_EQ(netmem_pool_chunk_size(pool), 8192);
		for (int tries = 0; n < 100 && tries < 1000; tries++) {
			h[n] = netmem_pool_alloc_direct(pool);
			n += h[n] != 0;
		}
		CHECK_EQ(n, 100);
		check_conserved(pool, 100);
		netmem_pool_put_bulk_direct(pool, h, n);
		CHECK_EQ(netmem_pool_destroy(pool), 0);
	}
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

/* Threads return chunks through the ring while the owner's allocations
 * fail at random and the provider is revoked mid-run: everything comes back
 * and the area goes. */
#define PUTTERS 2
#define QSZ	256

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
	netmem_t batch[16];

	for (;;) {
		/* acquire on head: the owner's q[] stores before its head
		 * store are visible. */
		unsigned long t = atomic_load_explicit(&q->tail, memory_order_relaxed);
		unsigned long h = atomic_load_explicit(&q->head, memory_order_acquire);
		unsigned n = 0;

		while (t != h && n < 16)
			batch[n++] = q->q[t++ % QSZ];
		if (n) {
			/* release: our reads of q[] happen before the owner
			 * reuses the slots. */
			atomic_store_explicit(&q->tail, t, memory_order_release);
			q->received += n;
			if (n & 1)
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

static void test_threads(void)
{
	struct netmem_provider *prov = netmem_provider_create("fault:fail=5,short=3,seed=11");
	struct netmem_fault_stats fs;
	struct netmem_pool_stats st;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	pthread_t th[PUTTERS];
	unsigned long sent = 0, failed = 0, enodev = 0;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 256;
	pp.ring_size = 128;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (int i = 0; i < PUTTERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, putter, &hq[i]) == 0);
	/* Phase 1 until 60000 chunks went out through the putters, then the
	 * device goes away while chunks are still in flight. */
	while (sent < 60000) {
		struct handoff *q = &hq[sent % PUTTERS];
		unsigned long head;
		netmem_t h = netmem_pool_alloc_direct(pool);

		if (!h) {
			CHECK_EQ(errno, ENOMEM);
			failed++;
			sched_yield(); /* let the putters bring chunks back */
			continue;
		}
		head = atomic_load_explicit(&q->head, memory_order_relaxed);
		while (head - atomic_load_explicit(&q->tail, memory_order_acquire) >= QSZ)
			sched_yield();
		q->q[head % QSZ] = h;
		/* release: the slot's store before the new head. */
		atomic_store_explicit(&q->head, head + 1, memory_order_release);
		sent++;
	}
	netmem_provider_revoke(prov);
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	for (int i = 0; i < 1000; i++) {
		if (netmem_pool_alloc_direct(pool) == 0) {
			failed++;
			enodev += errno == ENODEV;
		}
	}
	for (int i = 0; i < PUTTERS; i++) {
		atomic_store_explicit(&hq[i].done, 1, memory_order_release);
		pthread_join(th[i], NULL);
	}
	REQUIRE(netmem_fault_stats(prov, &fs) == 0);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	printf("threads: sent %lu, failed %lu (ENODEV %lu), injected %" PRIu64 " failed + %" PRIu64
	       " short of %" PRIu64 " calls\n",
	       sent, failed, enodev, fs.alloc_failed, fs.alloc_short, fs.alloc_calls);
	CHECK_EQ(hq[0].received + hq[1].received, sent);
	CHECK(fs.alloc_failed > 0 && fs.alloc_short > 0);
	CHECK_EQ(enodev, 1000);
	CHECK_EQ(st.alloc_failed, failed);
	check_conserved(pool, 0);
	CHECK_EQ(st.cached + st.in_ring, 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
}

int main(void)
{
	test_specs();
	test_every();
	test_short();
	test_area();
	test_revoke();
	test_wfail();
	test_seeded();
	test_threads();
	return t_done();
}
