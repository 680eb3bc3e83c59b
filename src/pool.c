/* SPDX-License-Identifier: MIT */
/*
 * The pool's slow paths: refill from the recycle ring or the provider,
 * recycling when the cache is full, puts from other threads, fragments'
 * chunk changes, revocation, and destroy with chunks still in flight.
 *
 * Lifetime. pool->refs counts 1 for the creator plus every chunk outside the
 * provider's free space (cache, ring, in flight). Chunks leave and return to
 * the provider in batches, so refs moves in batches too. Whoever drops it to
 * zero frees the pool and its area; a thread returning a chunk holds a
 * reference until its last access to the pool, so there is no use after free.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FRAG_BIAS (1L << 30)

/* ---- thread identity -------------------------------------------------- */

_Thread_local uintptr_t _netmem_tid __attribute__((tls_model("initial-exec")));

uintptr_t _netmem_tid_assign(void)
{
	static _Atomic uintptr_t next = 1; /* 0 is "none yet"; never wraps */

	_netmem_tid = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed);
	return _netmem_tid;
}

/* ---- recycle ring --------------------------------------------------- */

int _netmem_ring_init(struct _netmem_ring *r, uint32_t size)
{
	r->slots = calloc(size, sizeof(*r->slots));
	if (!r->slots)
		return -ENOMEM;
	r->mask = size - 1;
	atomic_init(&r->prod, 0);
	atomic_init(&r->cons, 0);
	r->drained = 0;
	return 0;
}

void _netmem_ring_fini(struct _netmem_ring *r)
{
	free((void *)r->slots);
}

/*
 * Reserve up to n slots and fill them. Returns how many were pushed (the
 * rest did not fit), or -EPIPE once the ring is closed.
 */
static int ring_push(struct _netmem_ring *r, const netmem_t *h, unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->prod, memory_order_relaxed);
	uint64_t cons, room;
	unsigned k;

	do {
		if (head & _NETMEM_RING_CLOSED)
			return -EPIPE;
		/* acquire: pairs with the consumer's release of cons, so the
		 * slots it emptied read as empty before we refill them. */
		cons = atomic_load_explicit(&r->cons, memory_order_acquire);
		room = (uint64_t)r->mask + 1 - (head - cons);
		k = room < n ? (unsigned)room : n;
		if (k == 0)
			return 0;
	} while (!atomic_compare_exchange_weak_explicit(&r->prod, &head, head + k,
							memory_order_relaxed,
							memory_order_relaxed));
	for (unsigned i = 0; i < k; i++)
		/* release: the consumer that reads the handle also sees the
		 * descriptor updates made before the put. */
		atomic_store_explicit(&r->slots[(head + i) & r->mask], h[i],
				      memory_order_release);
	return (int)k;
}

/* Consumer only: take up to n filled slots, stopping at the first one a
 * producer has reserved but not yet filled. */
static unsigned ring_pop(struct _netmem_ring *r, netmem_t *out, unsigned n)
{
	uint64_t c = atomic_load_explicit(&r->cons, memory_order_relaxed);
	unsigned k = 0;

	while (k < n) {
		_Atomic netmem_t *slot = &r->slots[c & r->mask];
		/* acquire: pairs with the producer's release store. */
		netmem_t h = atomic_load_explicit(slot, memory_order_acquire);

		if (!h)
			break;
		atomic_store_explicit(slot, 0, memory_order_relaxed);
		out[k++] = h;
		c++;
	}
	if (k) {
		/* release: our emptying of the slots happens before a
		 * producer's reuse of them. */
		atomic_store_explicit(&r->cons, c, memory_order_release);
		r->drained += k;
	}
	return k;
}

static uint64_t ring_count(struct _netmem_ring *r)
{
	uint64_t p = atomic_load_explicit(&r->prod, memory_order_acquire) & ~_NETMEM_RING_CLOSED;

	return p - atomic_load_explicit(&r->cons, memory_order_acquire);
}

/* ---- provider side ---------------------------------------------------- */

static void pool_free(struct netmem_pool *pool)
{
	_netmem_area_destroy(pool->area);
	_netmem_ring_fini(&pool->ring);
	free(pool->held);
	free(pool);
}

/* Drop n references; the last one frees the pool. Must be the caller's last
 * access to the pool. */
static void pool_unref(struct netmem_pool *pool, long n)
{
	/* acq_rel: the thread that frees sees every other thread's accesses. */
	if (atomic_fetch_sub_explicit(&pool->refs, n, memory_order_acq_rel) == n)
		pool_free(pool);
}

/* Give chunks (by handle) back to the provider's free space. */
static void pool_release(struct netmem_pool *pool, const netmem_t *h, unsigned n)
{
	struct netmem_desc *d[64];

	while (n) {
		unsigned k = n < 64 ? n : 64;

		for (unsigned i = 0; i < k; i++)
			d[i] = _netmem_desc(h[i]);
		_netmem_area_give(pool->area, d, k);
		atomic_fetch_add_explicit(&pool->released, k, memory_order_relaxed);
		pool_unref(pool, k); /* pool stays alive: caller holds a ref too */
		h += k;
		n -= k;
	}
}

/* Take up to n chunks from the provider into the cache. */
static unsigned pool_take(struct netmem_pool *pool, unsigned n)
{
	struct _netmem_pool_fast *f = &pool->fast;
	struct netmem_desc *d[NETMEM_CACHE_SIZE];
	unsigned k = _netmem_area_take(pool->area, d, n);

	atomic_fetch_add_explicit(&pool->refs, k, memory_order_relaxed);
	/* Reversed, so the cache pops chunks in ascending address order. */
	for (unsigned i = 0; i < k; i++)
		f->cache[f->count + k - 1 - i] = _netmem_handle(d[i]);
	f->count += k;
	pool->alloc_slow += k;
	return k;
}

/* ---- bad puts --------------------------------------------------------- */

static __cold void bad_put(struct netmem_pool *pool, netmem_t h, const char *why)
{
	struct netmem_desc *d = _netmem_desc(h);

	if (NETMEM_DEBUG_ENABLED) {
		fprintf(stderr,
			"netmem: bad put of handle 0x%016" PRIx64 " (%s): area %u chunk %u, "
			"handle generation %u, chunk generation %u, pool %p, chunk's pool %p\n",
			h, why, h ? d->area->id : 0, h ? d->index : 0, (unsigned)(h >> 48),
			h ? (unsigned)(d->handle >> 48) : 0, (void *)pool, h ? (void *)d->pool : NULL);
		abort();
	}
	if (pool)
		atomic_fetch_add_explicit(&pool->bad_put, 1, memory_order_relaxed);
}

/*
 * Drop one reference of h. Returns true when it was the last one and the
 * caller now owns the chunk (its generation already moved on), false when
 * others still hold it or the put was bad.
 */
static bool put_ref(struct netmem_pool *pool, netmem_t h)
{
	struct netmem_desc *d = _netmem_desc(h);
	long r;

	if (!h) {
		bad_put(pool, h, "null handle");
		return false;
	}
	if (d->pool != pool) {
		bad_put(pool, h, "chunk belongs to another pool");
		return false;
	}
	if (d->handle != h || d->state != _NETMEM_DESC_POOL) {
		bad_put(pool, h, "stale handle: put twice or after its chunk was recycled");
		return false;
	}
	/* acquire: a reference count of 1 means every other holder has already
	 * put (release below), so their accesses to the chunk are done. */
	r = atomic_load_explicit(&d->ref, memory_order_acquire);
	if (r != 1) {
		r = atomic_fetch_sub_explicit(&d->ref, 1, memory_order_acq_rel) - 1;
		if (r > 0)
			return false;
		if (r < 0) {
			atomic_fetch_add_explicit(&d->ref, 1, memory_order_relaxed);
			bad_put(pool, h, "reference count underflow");
			return false;
		}
	}
	d->handle = h + _NETMEM_GEN_ONE;
	atomic_store_explicit(&d->ref, 1, memory_order_relaxed);
	return true;
}

/* The handle after put_ref moved the generation on (wraps in 16 bits). */
static inline netmem_t next_gen(netmem_t h)
{
	return h + _NETMEM_GEN_ONE;
}

/* ---- revocation ------------------------------------------------------- */

static void frag_retire(struct netmem_pool *pool);
static void held_release_all(struct netmem_pool *pool);
static unsigned held_sweep(struct netmem_pool *pool);
static void held_sweep_alloc(struct netmem_pool *pool);
static unsigned held_poll(struct netmem_pool *pool);

/* Close the ring for good and give everything in it to the provider. Spins
 * only on slots a producer reserved and is about to fill. */
static void ring_close_drain(struct netmem_pool *pool)
{
	struct _netmem_ring *r = &pool->ring;
	uint64_t end = atomic_fetch_or_explicit(&r->prod, _NETMEM_RING_CLOSED,
						memory_order_acq_rel) & ~_NETMEM_RING_CLOSED;
	netmem_t buf[64];

	while (atomic_load_explicit(&r->cons, memory_order_relaxed) != end) {
		unsigned k = ring_pop(r, buf, 64);

		if (k)
			pool_release(pool, buf, k);
		else
			sched_yield();
	}
}

/* Owner: the provider is gone. Stop handing out, empty cache and ring. */
static __cold void pool_on_revoke(struct netmem_pool *pool)
{
	struct _netmem_pool_fast *f = &pool->fast;

	pool->revoked_seen = true;
	f->limit = 0; /* every later owner put takes the slow path */
	held_release_all(pool);
	frag_retire(pool);
	ring_close_drain(pool);
	pool_release(pool, f->cache, f->count);
	f->count = 0;
	if (pool->on_revoke) {
		/* The callback runs inside a pool call that goes on using the
		 * pool: netmem_pool_destroy() refuses while it runs. */
		pool->in_on_revoke = true;
		pool->on_revoke(pool, pool->on_revoke_arg);
		pool->in_on_revoke = false;
	}
}

static inline bool pool_check_revoked(struct netmem_pool *pool)
{
	if (unlikely(pool->revoked_seen))
		return true;
	if (atomic_load_explicit(&pool->area->hdr.revoked, memory_order_acquire)) {
		pool_on_revoke(pool);
		return true;
	}
	return false;
}

int netmem_pool_poll(struct netmem_pool *pool)
{
	if (!pool)
		return -EINVAL;
	if (held_poll(pool))
		pool->sweep_skip = 0; /* more may be done: the next slow path sweeps */
	return pool_check_revoked(pool) ? -ENODEV : 0;
}

/* ---- owner slow paths --------------------------------------------------- */

netmem_t _netmem_pool_alloc_slow(struct netmem_pool *pool)
{
	struct _netmem_pool_fast *f = &pool->fast;
	unsigned n;

	if (pool_check_revoked(pool)) {
		pool->alloc_failed++;
		errno = ENODEV;
		return 0;
	}
	/* Held fragmented chunks may be whole again: into the (empty) cache. */
	held_sweep_alloc(pool);
	if (f->count)
		return f->cache[--f->count];
	n = ring_pop(&pool->ring, f->cache, NETMEM_CACHE_REFILL);
	if (n) {
		f->count = n;
		pool->alloc_refill += n;
	} else {
		pool->alloc_empty++;
		n = pool_take(pool, NETMEM_CACHE_REFILL);
	}
	if (!n) {
		pool->alloc_failed++;
		/* A revoke that lands between the check above and the take
		 * reads as ENOMEM here and as ENODEV from the next slow path. */
		errno = ENOMEM;
		return 0;
	}
	return f->cache[--f->count];
}

/* Owner owns chunk h outright: put it in the cache, spilling half of a full
 * cache to the ring (or the provider when the ring is full). */
static void recycle_owned(struct netmem_pool *pool, netmem_t h)
{
	struct _netmem_pool_fast *f = &pool->fast;

	if (f->count < f->limit) {
		f->cache[f->count++] = h;
		f->recycle_cached++;
		return;
	}
	if (f->limit == 0) { /* revoked or dying */
		pool_release(pool, &h, 1);
		return;
	}
	pool->recycle_cache_full++;
	{
		unsigned spill = NETMEM_CACHE_SIZE / 2;
		netmem_t *from = &f->cache[f->count - spill];
		int k = ring_push(&pool->ring, from, spill);

		if (k < 0)
			k = 0;
		if ((unsigned)k < spill) {
			atomic_fetch_add_explicit(&pool->ring_full, spill - (unsigned)k,
						  memory_order_relaxed);
			pool_release(pool, from + k, spill - (unsigned)k);
		}
		f->count -= spill;
	}
	f->cache[f->count++] = h;
	f->recycle_cached++;
}

/* The owner dropped a fragmented chunk's last reference: a new generation,
 * the reference of a whole chunk, and into the cache. */
static void chunk_reclaim(struct netmem_pool *pool, struct netmem_desc *d)
{
	d->handle += _NETMEM_GEN_ONE;
	atomic_store_explicit(&d->ref, 1, memory_order_relaxed);
	recycle_owned(pool, d->handle);
}

/*
 * Owner-held references (pool->held, desc->held). A chunk that stops being
 * carved keeps its unused bias as references the owner holds, not
 * subtracted; the owner's puts of its fragments add to them instead of
 * decrementing the shared count. ref = held + the references of everyone
 * else, so when held reaches ref every other holder has put and the chunk
 * is the owner's again, with no atomic at all. Other threads' puts
 * decrement ref as always and can never drop it to 0 while held > 0; when
 * theirs was the last, the owner notices at a slow path, netmem_pool_poll()
 * or netmem_pool_stats(). Only retired chunks are held. Revoke and destroy
 * give the held references back with one atomic subtraction per chunk.
 */
static void held_add(struct netmem_pool *pool, struct netmem_desc *d, uint32_t n)
{
	d->held = n;
	d->held_slot = pool->nr_held;
	pool->held[pool->nr_held++] = d;
}

static void held_remove(struct netmem_pool *pool, struct netmem_desc *d)
{
	struct netmem_desc *last = pool->held[--pool->nr_held];

	pool->held[d->held_slot] = last;
	last->held_slot = d->held_slot;
	d->held = 0;
}

/* acquire: a count equal to held means every other holder has put
 * (release), so no thread but us can touch it and the chunk is ours. */
static inline bool held_all(const struct netmem_desc *d)
{
	return atomic_load_explicit(&d->ref, memory_order_acquire) == (long)d->held;
}

/* An owner put on d reached its refcount: reclaim, or a fragment was put
 * twice (held above ref) and this put is ignored. */
static void held_last(struct netmem_pool *pool, struct netmem_desc *d)
{
	if (held_all(d)) {
		held_remove(pool, d);
		chunk_reclaim(pool, d);
	} else if ((long)d->held > atomic_load_explicit(&d->ref, memory_order_relaxed)) {
		d->held--;
		bad_put(pool, d->handle, "reference count underflow (a fragment put twice)");
	}
}

/* The owner puts one fragment of a chunk it holds references on. */
static inline void held_put(struct netmem_pool *pool, struct netmem_desc *d)
{
	if ((long)++d->held >= atomic_load_explicit(&d->ref, memory_order_acquire))
		held_last(pool, d);
}

/* Reclaim every held chunk whose other holders have all put; returns how
 * many. No atomics. */
static unsigned held_sweep(struct netmem_pool *pool)
{
	unsigned got = 0;

	/* Backwards: a removal moves the last entry, already looked at, here. */
	for (unsigned i = pool->nr_held; i-- > 0;) {
		struct netmem_desc *d = pool->held[i];

		if (held_all(d)) {
			held_remove(pool, d);
			chunk_reclaim(pool, d);
			got++;
		}
	}
	return got;
}

/*
 * The allocation slow path's sweep. One that finds nothing to reclaim backs
 * off: the next 1, 2, 4 ... up to HELD_SWEEP_BACKOFF_MAX slow paths look at
 * two entries each (held_poll()) instead of all, until one of those finds a
 * chunk to reclaim: then the whole list is swept at once (other holders
 * tend to put in batches) and the back-off ends. Without it, a pool whose
 * held chunks are all still out (an application holding its buffers, the
 * device failing to refill at every frame) would read every held
 * descriptor at each failed allocation. A chunk another thread finished is
 * found within nr_held / 2 slow paths (and HELD_SWEEP_BACKOFF_MAX).
 */
#define HELD_SWEEP_BACKOFF_MAX 256u

static void held_sweep_alloc(struct netmem_pool *pool)
{
	if (pool->sweep_skip) {
		pool->sweep_skip--;
		if (!held_poll(pool))
			return;
		pool->sweep_skip = 0;
		held_sweep(pool);
		pool->sweep_backoff = 0;
		return;
	}
	if (!pool->nr_held || held_sweep(pool)) {
		pool->sweep_backoff = 0;
		return;
	}
	pool->sweep_backoff = pool->sweep_backoff ? pool->sweep_backoff * 2 : 1;
	if (pool->sweep_backoff > HELD_SWEEP_BACKOFF_MAX)
		pool->sweep_backoff = HELD_SWEEP_BACKOFF_MAX;
	pool->sweep_skip = pool->sweep_backoff;
}

/* held_sweep() of a few entries, round robin: cheap enough for every poll.
 * Returns how many chunks it reclaimed. */
static unsigned held_poll(struct netmem_pool *pool)
{
	unsigned got = 0;

	for (int k = 0; k < 2 && pool->nr_held; k++) {
		struct netmem_desc *d = pool->held[pool->held_cursor++ % pool->nr_held];

		if (held_all(d)) {
			held_remove(pool, d);
			chunk_reclaim(pool, d);
			got++;
		}
	}
	return got;
}

/* Give the owner's references on d back with one atomic subtraction. If
 * they were the last, the chunk is the owner's again. */
static void held_release(struct netmem_pool *pool, struct netmem_desc *d)
{
	long n = d->held, old;

	held_remove(pool, d);
	old = atomic_load_explicit(&d->ref, memory_order_acquire);
	if (old != n)
		/* acq_rel: as put_ref's decrement: whoever drops the last
		 * reference sees every other holder's accesses to the chunk. */
		old = atomic_fetch_sub_explicit(&d->ref, n, memory_order_acq_rel);
	if (old == n) {
		chunk_reclaim(pool, d);
	} else if (old < n) {
		atomic_fetch_add_explicit(&d->ref, n, memory_order_relaxed);
		bad_put(pool, d->handle, "reference count underflow (a fragment put twice)");
	}
}

static void held_release_all(struct netmem_pool *pool)
{
	while (pool->nr_held)
		held_release(pool, pool->held[pool->nr_held - 1]);
}

/*
 * The owner puts a fragment of the chunk it is carving (the out-of-line twin
 * of the branch in netmem_pool_put_direct): the reference goes back to the
 * bias, no atomic. frag_users counts fragments handed out and not put by the
 * owner; remote puts never outnumber it, so at 0 none is out and carving
 * restarts at offset 0 under a new generation.
 */
static void frag_put_carving(struct netmem_pool *pool, netmem_t h)
{
	struct _netmem_pool_fast *f = &pool->fast;
	struct netmem_desc *d = f->frag_cur;

	if (f->frag_users <= 0) {
		bad_put(pool, h, "reference count underflow (a fragment put twice)");
		return;
	}
	if (--f->frag_users == 0) {
		d->handle = h + _NETMEM_GEN_ONE;
		f->frag_off = 0;
	}
}

void _netmem_pool_put_slow(struct netmem_pool *pool, netmem_t h)
{
	struct _netmem_pool_fast *f = &pool->fast;
	struct netmem_desc *d = _netmem_desc(h);

	/* Owner puts of fragments of a live pool (limit is 0 once revoked or
	 * dying, and then every put decrements the count). The handle is
	 * checked valid and ours first. A debug build never holds, so that a
	 * double put is reported at the put. */
	if (h && d->handle == h && d->pool == pool && f->limit) {
		if (d == f->frag_cur) {
			frag_put_carving(pool, h);
			return;
		}
		if (!NETMEM_DEBUG_ENABLED) {
			/* Only retired chunks are held: their count stays near
			 * the bias, so a whole-chunk put (ref == 1) can never
			 * take one. Other shared chunks decrement below. */
			if (d->held) {
				held_put(pool, d);
				return;
			}
		}
	}
	if (put_ref(pool, h))
		recycle_owned(pool, next_gen(h));
}

/* ---- puts from any thread ---------------------------------------------- */

/* Non-owner owns these chunks outright: into the ring, or the provider. */
static void recycle_remote(struct netmem_pool *pool, const netmem_t *h, unsigned n)
{
	int k = ring_push(&pool->ring, h, n);

	if (k < 0)
		k = 0; /* closed: pool revoked or dying */
	else if ((unsigned)k < n)
		atomic_fetch_add_explicit(&pool->ring_full, n - (unsigned)k, memory_order_relaxed);
	if ((unsigned)k < n)
		pool_release(pool, h + k, n - (unsigned)k);
}

void _netmem_put_remote(netmem_t h)
{
	struct netmem_pool *pool;
	netmem_t nh;

	if (!h)
		return;
	pool = _netmem_desc(h)->pool;
	if (!pool) {
		bad_put(NULL, h, "chunk belongs to no pool");
		return;
	}
	if (!put_ref(pool, h))
		return;
	/* The chunk keeps the pool alive until it is in the ring or the
	 * provider; after that, no access to the pool. */
	nh = next_gen(h);
	recycle_remote(pool, &nh, 1);
}

void netmem_put_bulk(const netmem_t *h, unsigned n)
{
	netmem_t own[64];
	struct netmem_pool *cur = NULL, *owned = NULL;
	unsigned k = 0;

	if (!h)
		return;
	for (unsigned i = 0; i <= n; i++) {
		struct netmem_pool *pool = i < n && h[i] ? _netmem_desc(h[i])->pool : NULL;

		if (k && (pool != cur || k == 64 || i == n)) {
			recycle_remote(cur, own, k);
			k = 0;
		}
		if (i == n)
			break;
		if (!h[i])
			continue;
		if (!pool) {
			bad_put(NULL, h[i], "chunk belongs to no pool");
			continue;
		}
		if (pool != owned) /* one owner check per run of one pool */
			owned = atomic_load_explicit(&pool->fast.owner, memory_order_relaxed) ==
					_netmem_self()
				    ? pool
				    : NULL;
		if (pool == owned) {
			struct netmem_desc *d = _netmem_desc(h[i]);

			/* An owner put on a chunk it holds references on
			 * (see _netmem_pool_put_slow), without the call. */
			if (!NETMEM_DEBUG_ENABLED && d->held && d->handle == h[i] &&
			    pool->fast.limit) {
				held_put(pool, d);
				continue;
			}
			netmem_pool_put_direct(pool, h[i]);
			continue;
		}
		cur = pool;
		if (put_ref(pool, h[i]))
			own[k++] = next_gen(h[i]);
	}
}

unsigned netmem_pool_alloc_bulk_direct(struct netmem_pool *pool, netmem_t *out,
				       unsigned n)
{
	struct _netmem_pool_fast *f;
	unsigned got = 0;

	if (!pool || (!out && n)) {
		errno = EINVAL;
		return 0;
	}
	f = &pool->fast;
	while (got < n) {
		unsigned k = n - got < f->count ? n - got : f->count;

		memcpy(out + got, &f->cache[f->count - k], k * sizeof(*out));
		f->count -= k;
		f->alloc_fast += k;
		got += k;
		if (got == n)
			break;
		out[got] = _netmem_pool_alloc_slow(pool);
		if (!out[got])
			break;
		got++;
	}
	return got;
}

void netmem_pool_put_bulk_direct(struct netmem_pool *pool, const netmem_t *h,
				 unsigned n)
{
	struct _netmem_pool_fast *f;
	uint32_t cnt, lim;
	uint64_t cached = 0;
	unsigned i = 0;

	if (!pool || !h)
		return;
	f = &pool->fast;
	/* netmem_pool_put_direct() with the cache index in a register: runs
	 * that fit the cache test one combined word per handle and no limit;
	 * a bad handle or a full cache goes to the slow path, then the run
	 * resumes. A handle twice in the batch fails its second check (new
	 * generation). */
	cnt = f->count;
	lim = f->limit;
	while (i < n) {
		unsigned room = lim > cnt ? lim - cnt : 0;
		unsigned end = n - i < room ? n : i + room, start = i;

		for (; i < end; i++) {
			netmem_t hi = h[i];
			struct netmem_desc *d = _netmem_desc(hi);
			uint64_t bad;

			if (unlikely(!hi))
				break;
			bad = (d->handle ^ hi) | ((uintptr_t)d->pool ^ (uintptr_t)pool) |
				       ((uint64_t)atomic_load_explicit(&d->ref, memory_order_acquire) ^ 1);

			if (unlikely(bad))
				break;
			hi += _NETMEM_GEN_ONE;
			d->handle = hi;
			f->cache[cnt++] = hi;
		}
		cached += i - start;
		if (i == n)
			break;
		f->count = cnt;
		if (h[i]) /* 0 is ignored, as by netmem_put() */
			_netmem_pool_put_slow(pool, h[i]);
		cnt = f->count;
		lim = f->limit;
		i++;
	}
	f->count = cnt;
	f->recycle_cached += cached;
}

/* ---- fragments --------------------------------------------------------- */

/*
 * Stop carving the current chunk and return it with the number of
 * references taken up front (the bias) and not handed out; NULL when none.
 */
static struct netmem_desc *frag_detach(struct netmem_pool *pool, long *unused)
{
	struct _netmem_pool_fast *f = &pool->fast;
	struct netmem_desc *d = f->frag_cur;

	if (!d)
		return NULL;
	*unused = FRAG_BIAS - f->frag_users;
	pool->frag_retired++;
	pool->frag_waste_bytes += f->chunk_size - (f->frag_off < f->chunk_size ? f->frag_off : f->chunk_size);
	f->frag_cur = NULL;
	f->frag_off = f->chunk_size;
	f->frag_users = 0;
	return d;
}

/*
 * Stop carving the current chunk and give back its unused bias now. If every
 * fragment was already put, the chunk is the owner's again.
 */
static void frag_retire(struct netmem_pool *pool)
{
	long unused, old;
	struct netmem_desc *d = frag_detach(pool, &unused);

	if (!d)
		return;
	/* acq_rel: if we drop the last reference, all fragment users' accesses
	 * happened before; otherwise our carving happens before their last put. */
	old = atomic_fetch_sub_explicit(&d->ref, unused, memory_order_acq_rel);
	if (old == unused) {
		chunk_reclaim(pool, d);
	} else if (old < unused) {
		/* More puts than fragments handed out: one was put twice (the
		 * bias hid it until now). The chunk stays out of use: a
		 * holder may still be writing it. */
		atomic_fetch_add_explicit(&d->ref, unused, memory_order_relaxed);
		bad_put(pool, d->handle, "reference count underflow (a fragment put twice)");
	}
}

/*
 * Stop carving the current chunk, owner's fast variant: the unused bias
 * stays, as references the owner holds (see held_add), instead of an atomic
 * subtraction. A debug build retires at once, so that a fragment put twice
 * underflows at the put.
 */
static void frag_retire_deferred(struct netmem_pool *pool)
{
	long unused;
	struct netmem_desc *d;

	if (NETMEM_DEBUG_ENABLED || !pool->fast.limit) {
		frag_retire(pool);
		return;
	}
	d = frag_detach(pool, &unused);
	if (!d)
		return;
	held_add(pool, d, (uint32_t)unused);
	if (held_all(d)) { /* every fragment is back already */
		held_remove(pool, d);
		chunk_reclaim(pool, d);
	}
}

netmem_t _netmem_pool_alloc_frag_slow(struct netmem_pool *pool, uint32_t size,
				      uint32_t *offset)
{
	struct _netmem_pool_fast *f;
	netmem_t h;
	struct netmem_desc *d;

	if (!pool || !offset || size == 0 || size > pool->fast.chunk_size) {
		errno = EINVAL;
		return 0;
	}
	f = &pool->fast;
	/* A slow path: notice a revoked provider here, as the chunk slow path
	 * does, rather than carve a cached chunk of revoked memory. */
	if (pool_check_revoked(pool)) {
		pool->alloc_failed++;
		errno = ENODEV;
		return 0;
	}
	frag_retire_deferred(pool);
	h = netmem_pool_alloc_direct(pool);
	if (!h)
		return 0;
	d = _netmem_desc(h);
	/* We hold the only reference: take the bias up front with a store. */
	atomic_store_explicit(&d->ref, FRAG_BIAS, memory_order_relaxed);
	f->frag_cur = d;
	f->frag_users = 1;
	f->frag_off = (size + f->frag_mask) & ~f->frag_mask;
	f->frag_alloc++;
	pool->frag_chunks++;
	*offset = 0;
	return h;
}

/* ---- create / destroy --------------------------------------------------- */

static int pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

struct netmem_pool *netmem_pool_create(const struct netmem_pool_params *pp)
{
	struct netmem_pool_params p = {0};
	struct netmem_pool *pool;
	unsigned order;
	int ret;

	/* The first version ended before on_revoke; no size in between (a
	 * torn callback pointer). */
	if (!pp || (pp->size != offsetof(struct netmem_pool_params, on_revoke) &&
		    pp->size != sizeof(p))) {
		errno = -_netmem_err(EINVAL, "pool: NULL params or bad size field");
		return NULL;
	}
	memcpy(&p, pp, pp->size);
	if (!p.provider) {
		errno = -_netmem_err(EINVAL, "pool: no provider");
		return NULL;
	}
	if (p.order < -1 || p.order > NETMEM_MAX_ORDER) {
		errno = -_netmem_err(EINVAL, "pool: order %d outside 0..%d", p.order,
				     NETMEM_MAX_ORDER);
		return NULL;
	}
	order = p.order < 0 ? atomic_load_explicit(&p.provider->order, memory_order_relaxed)
			   : (unsigned)p.order;
	if (!p.nr_chunks)
		p.nr_chunks = 1024;
	if (p.nr_chunks > (1u << 24)) {
		errno = -_netmem_err(EINVAL, "pool: %u chunks, at most %u", p.nr_chunks, 1u << 24);
		return NULL;
	}
	if (!p.ring_size)
		p.ring_size = 1024;
	if (!pow2(p.ring_size) || p.ring_size > (1u << 24)) {
		errno = -_netmem_err(EINVAL, "pool: ring_size %u is not a power of 2 up to 2^24",
				     p.ring_size);
		return NULL;
	}
	if (!p.frag_align)
		p.frag_align = 64;
	if (!pow2(p.frag_align) || p.frag_align > (1u << (NETMEM_PAGE_SHIFT + order))) {
		errno = -_netmem_err(EINVAL, "pool: frag_align %u is not a power of 2 up to the chunk size",
				     p.frag_align);
		return NULL;
	}
	if (netmem_provider_is_revoked(p.provider)) {
		errno = -_netmem_err(ENODEV, "pool: provider %s is revoked", p.provider->name);
		return NULL;
	}
	pool = aligned_alloc(NETMEM_CACHELINE, sizeof(*pool));
	if (!pool) {
		errno = -_netmem_err(ENOMEM, "pool: out of memory");
		return NULL;
	}
	memset(pool, 0, sizeof(*pool));
	ret = _netmem_ring_init(&pool->ring, p.ring_size);
	if (ret < 0) {
		free(pool);
		errno = -_netmem_err(-ret, "pool: no memory for the ring");
		return NULL;
	}
	pool->area = _netmem_area_create(p.provider, order, p.nr_chunks, pool);
	if (!pool->area) {
		ret = errno;
		_netmem_ring_fini(&pool->ring);
		free(pool);
		errno = ret;
		return NULL;
	}
	/* A revoke that raced with the check above marked the new area. */
	if (atomic_load_explicit(&pool->area->hdr.revoked, memory_order_acquire)) {
		pool_free(pool);
		errno = -_netmem_err(ENODEV, "pool: provider %s is revoked", p.provider->name);
		return NULL;
	}
	/* Room to hold every chunk of the area: the held list never fills. */
	pool->held = calloc(pool->area->spec.nr_chunks, sizeof(*pool->held));
	if (!pool->held) {
		pool_free(pool);
		errno = -_netmem_err(ENOMEM, "pool: out of memory");
		return NULL;
	}
	pool->prov = p.provider;
	pool->on_revoke = p.on_revoke;
	pool->on_revoke_arg = p.on_revoke_arg;
	pool->fast.limit = NETMEM_CACHE_SIZE;
	pool->fast.chunk_size = (uint32_t)1 << (NETMEM_PAGE_SHIFT + order);
	pool->fast.frag_off = pool->fast.chunk_size;
	pool->fast.frag_mask = p.frag_align - 1;
	atomic_init(&pool->fast.owner, _netmem_self());
	atomic_init(&pool->refs, 1);
	atomic_init(&pool->dying, 0);
	return pool;
}

int netmem_pool_set_owner(struct netmem_pool *pool)
{
	if (!pool || atomic_load_explicit(&pool->dying, memory_order_relaxed))
		return -EINVAL;
	atomic_store_explicit(&pool->fast.owner, _netmem_self(), memory_order_release);
	return 0;
}

int netmem_pool_destroy(struct netmem_pool *pool)
{
	struct _netmem_pool_fast *f;
	long left;

	if (!pool)
		return -EINVAL;
	if (pool->in_on_revoke)
		return _netmem_err(EBUSY, "pool destroy: called from the pool's on_revoke callback; "
					  "destroy after the pool call that ran it returns");
	f = &pool->fast;
	atomic_store_explicit(&pool->dying, 1, memory_order_relaxed);
	/* From now on no thread is the owner: every put takes the remote path,
	 * finds the ring closed and gives its chunk to the provider. */
	atomic_store_explicit(&f->owner, NULL, memory_order_release);
	f->limit = 0;
	held_release_all(pool);
	frag_retire(pool);
	if (!pool->revoked_seen)
		ring_close_drain(pool);
	pool_release(pool, f->cache, f->count);
	f->count = 0;
	/* The creator's reference; the count still out is what remains. */
	left = atomic_fetch_sub_explicit(&pool->refs, 1, memory_order_acq_rel) - 1;
	if (left == 0)
		pool_free(pool);
	return (int)left;
}

/* ---- stats ---------------------------------------------------------------- */

uint32_t netmem_pool_chunk_size(const struct netmem_pool *pool)
{
	return pool ? pool->fast.chunk_size : 0;
}

struct netmem_provider *netmem_pool_provider(const struct netmem_pool *pool)
{
	return pool ? pool->prov : NULL;
}

int netmem_pool_stats(struct netmem_pool *pool, struct netmem_pool_stats *st)
{
	const struct _netmem_pool_fast *f;
	uint64_t in_ring;

	if (!pool || !st)
		return -EINVAL;
	f = &pool->fast;
	/* The owner (or a thread while it is quiescent): reclaim held chunks
	 * that are whole again, so the counts are exact. */
	held_sweep(pool);
	memset(st, 0, sizeof(*st));
	in_ring = ring_count(&pool->ring);
	st->alloc_fast = f->alloc_fast;
	st->alloc_slow = pool->alloc_slow;
	st->alloc_empty = pool->alloc_empty;
	st->alloc_refill = pool->alloc_refill;
	st->alloc_failed = pool->alloc_failed;
	st->recycle_cached = f->recycle_cached;
	st->recycle_cache_full = pool->recycle_cache_full;
	st->recycle_ring = pool->ring.drained + in_ring;
	st->recycle_ring_full = atomic_load_explicit(&pool->ring_full, memory_order_relaxed);
	st->recycle_released = atomic_load_explicit(&pool->released, memory_order_relaxed);
	st->frag_alloc = f->frag_alloc;
	st->frag_chunks = pool->frag_chunks;
	st->frag_retired = pool->frag_retired;
	st->frag_waste_bytes = pool->frag_waste_bytes;
	st->bad_put = atomic_load_explicit(&pool->bad_put, memory_order_relaxed);
	st->nr_chunks = pool->area->spec.nr_chunks;
	st->provider_free = _netmem_area_nr_free(pool->area);
	st->cached = f->count;
	st->in_ring = in_ring;
	st->in_flight = st->nr_chunks - st->provider_free - st->cached - st->in_ring;
	st->chunk_size = f->chunk_size;
	st->area_id = pool->area->hdr.id;
	st->revoked = atomic_load_explicit(&pool->area->hdr.revoked, memory_order_acquire) != 0;
	st->destroying = atomic_load_explicit(&pool->dying, memory_order_relaxed);
	return 0;
}

int netmem_pool_stats_json(struct netmem_pool *pool, FILE *out)
{
	struct netmem_pool_stats s;
	int ret;

	if (!out)
		return -EINVAL;
	ret = netmem_pool_stats(pool, &s);
	if (ret < 0)
		return ret;
#define F(x) "\"" #x "\":%" PRIu64
	ret = fprintf(out,
		      "{" F(alloc_fast) "," F(alloc_slow) "," F(alloc_empty) "," F(alloc_refill)
		      "," F(alloc_failed) "," F(recycle_cached) "," F(recycle_cache_full)
		      "," F(recycle_ring) "," F(recycle_ring_full) "," F(recycle_released)
		      "," F(frag_alloc) "," F(frag_chunks) "," F(frag_retired) "," F(frag_waste_bytes)
		      "," F(bad_put) "," F(nr_chunks) "," F(provider_free) "," F(cached)
		      "," F(in_ring) "," F(in_flight)
		      ",\"chunk_size\":%u,\"area_id\":%u,\"revoked\":%s,\"destroying\":%s}",
		      s.alloc_fast, s.alloc_slow, s.alloc_empty, s.alloc_refill, s.alloc_failed,
		      s.recycle_cached, s.recycle_cache_full, s.recycle_ring, s.recycle_ring_full,
		      s.recycle_released, s.frag_alloc, s.frag_chunks, s.frag_retired,
		      s.frag_waste_bytes, s.bad_put, s.nr_chunks, s.provider_free, s.cached,
		      s.in_ring, s.in_flight, s.chunk_size, s.area_id,
		      s.revoked ? "true" : "false", s.destroying ? "true" : "false");
#undef F
	/* ferror: an error the stream saw before (or while) we wrote. */
	return ret < 0 || ferror(out) ? -EIO : ret;
}

long netmem_pool_report_inflight(struct netmem_pool *pool, FILE *out, int verbose)
{
	struct netmem_area *a;
	const struct _netmem_pool_fast *f;
	uint8_t *in_pool;
	long n = 0, filling = 0;

	if (!pool)
		return -EINVAL;
	held_sweep(pool);
	a = pool->area;
	f = &pool->fast;
	in_pool = calloc(a->spec.nr_chunks, 1);
	if (!in_pool)
		return -ENOMEM;
	for (uint32_t i = 0; i < f->count; i++)
		in_pool[_netmem_desc(f->cache[i])->index] = 1;
	{
		struct _netmem_ring *r = &pool->ring;
		uint64_t c = atomic_load_explicit(&r->cons, memory_order_acquire);
		uint64_t p = atomic_load_explicit(&r->prod, memory_order_acquire) & ~_NETMEM_RING_CLOSED;

		for (; c != p; c++) {
			netmem_t h = atomic_load_explicit(&r->slots[c & r->mask], memory_order_acquire);

			if (h)
				in_pool[_netmem_desc(h)->index] = 1;
			else
				filling++; /* reserved by a putter, not yet written */
		}
	}
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->spec.nr_chunks; i++) {
		struct netmem_desc *d = &a->desc[i];
		long refs;

		if (d->state != _NETMEM_DESC_POOL || in_pool[i])
			continue;
		n++;
		/* References outside the pool: less the carving bias not
		 * handed out, or the references the owner holds. */
		refs = atomic_load_explicit(&d->ref, memory_order_relaxed);
		refs -= d == f->frag_cur ? FRAG_BIAS - f->frag_users : (long)d->held;
		if (verbose && out)
			fprintf(out,
				"netmem: in flight: handle 0x%016" PRIx64 " area %u chunk %zu refs %ld provider %s%s\n",
				_netmem_handle(d), a->hdr.id, i, refs, a->prov->name,
				d == f->frag_cur ? " (being carved)" : "");
	}
	pthread_mutex_unlock(&a->lock);
	/* stats.in_flight counts a chunk whose ring slot a putter reserved
	 * and has not written yet as in the ring: so does the count (the
	 * lines above name it, not knowing which it is). */
	n = n > filling ? n - filling : 0;
	if (out)
		fprintf(out, "netmem: pool %p (area %u, provider %s): %ld chunk%s in flight\n",
			(void *)pool, a->hdr.id, a->prov->name, n, n == 1 ? "" : "s");
	free(in_pool);
	return n;
}

/* ---- device-side access ------------------------------------------------ */

static int dev_access(netmem_t h, size_t off, size_t len, struct netmem_area **ap)
{
	struct netmem_desc *d;

	if (!h)
		return -EINVAL;
	d = _netmem_desc(h);
	if (off > netmem_size(h) || len > netmem_size(h) - off)
		return -EINVAL;
	if (netmem_is_revoked(h))
		return -ENODEV;
	*ap = _netmem_area_of(d);
	return 0;
}

int netmem_dev_write(netmem_t h, size_t off, const void *src, size_t len)
{
	struct netmem_area *a;
	int ret = dev_access(h, off, len, &a);

	if (ret < 0)
		return ret;
	if (!src && len)
		return -EINVAL;
	return a->prov->ops->write(a->prov, &a->spec, netmem_area_offset(h) + off, src, len);
}

int netmem_dev_read(netmem_t h, size_t off, void *dst, size_t len)
{
	struct netmem_area *a;
	int ret = dev_access(h, off, len, &a);

	if (ret < 0)
		return ret;
	if (!dst && len)
		return -EINVAL;
	if (!a->prov->ops->read)
		return -EOPNOTSUPP;
	return a->prov->ops->read(a->prov, &a->spec, netmem_area_offset(h) + off, dst, len);
}
