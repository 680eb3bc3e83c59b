/* SPDX-License-Identifier: MIT */
/*
 * The pool: hands chunks (or fragments of chunks) of one provider area to a
 * device and takes them back.
 *
 * Threads. Each pool has one *owner* thread (the one that created it, or the
 * one that called netmem_pool_set_owner), the userspace twin of the kernel's
 * NAPI context. Functions ending in _direct are for the owner only: they work
 * on a per-pool array cache with no lock and no atomic read-modify-write.
 * netmem_put() and netmem_put_bulk() may be called from any thread: from the
 * owner they recycle into the cache, from elsewhere into the pool's bounded
 * lock-free recycle ring, which the owner drains in bulk when its cache runs
 * dry.
 *
 * Conservation. Every chunk of the pool's area is in exactly one place: the
 * provider's free space, the cache, the ring, or out (in flight: with a
 * device or an application). netmem_pool_stats() reports each count.
 *
 * Debug builds (the library built with -DNETMEM_DEBUG: make DEBUG=1) check
 * every put in full and abort with a message on a stale, double or foreign
 * one; release builds count it (bad_put) and ignore it.
 */
#ifndef NETMEM_POOL_H
#define NETMEM_POOL_H

#include <stdio.h>

#include "handle.h"
#include "provider.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NETMEM_CACHE_SIZE 128
#define NETMEM_CACHE_REFILL 64

#define NETMEM_ORDER_DEFAULT (-1)

/* Pool parameters. Start from netmem_pool_params_init(), then set what you
 * need; .size lets the struct grow without breaking callers. */
struct netmem_pool_params {
	size_t size;
	struct netmem_provider *provider; /* required */
	int order;              /* chunk order 0..9, or NETMEM_ORDER_DEFAULT:
				 * the provider's (its spec's order=) */
	uint32_t nr_chunks;     /* chunks in the pool's area, at most 2^24;
				 * 0 = 1024 */
	uint32_t ring_size;     /* recycle ring entries (power of 2, at most
				 * 2^24); 0 = 1024 */
	uint32_t frag_align;    /* fragment alignment (power of 2, at most the
				 * chunk size); 0 = 64 */
	/* Called by the owner, from netmem_pool_poll() or a slow path, once,
	 * when it notices its provider was revoked. It must not destroy the
	 * pool (netmem_pool_destroy() returns -EBUSY while it runs): destroy
	 * after the call that ran it returns. */
	void (*on_revoke)(struct netmem_pool *pool, void *arg);
	void *on_revoke_arg;
};

/* Defaults: the provider's order, 1024 chunks, a 1024-entry ring, 64-byte
 * fragment alignment. */
static inline void netmem_pool_params_init(struct netmem_pool_params *p,
					   struct netmem_provider *provider)
{
	*p = (struct netmem_pool_params){ .size = sizeof(*p), .provider = provider,
					  .order = NETMEM_ORDER_DEFAULT };
}

/* Counters named after events, as the kernel's page_pool stats. */
struct netmem_pool_stats {
	uint64_t alloc_fast;         /* taken from the owner cache */
	uint64_t alloc_slow;         /* chunks taken from the provider */
	uint64_t alloc_empty;        /* refills that found the ring empty */
	uint64_t alloc_refill;       /* chunks refilled from the ring */
	uint64_t alloc_failed;       /* allocations that returned no chunk */
	uint64_t recycle_cached;     /* puts into the owner cache */
	uint64_t recycle_cache_full; /* owner puts that found the cache full */
	uint64_t recycle_ring;       /* puts into the recycle ring */
	uint64_t recycle_ring_full;  /* chunks that found the ring full */
	uint64_t recycle_released;   /* chunks given back to the provider */
	uint64_t frag_alloc;         /* fragments handed out */
	uint64_t frag_chunks;        /* chunks carved into fragments */
	uint64_t frag_retired;       /* carved chunks retired from carving */
	uint64_t frag_waste_bytes;   /* bytes left unused at retired chunk tails */
	uint64_t bad_put;            /* stale, double or foreign puts ignored */
	/* Where the chunks are now. */
	uint64_t nr_chunks;          /* chunks in the area */
	uint64_t provider_free;      /* in the provider's free space */
	uint64_t cached;             /* in the owner cache */
	uint64_t in_ring;            /* in the recycle ring */
	uint64_t in_flight;          /* out: with a device or an application,
				      * and the chunk the owner carves
				      * fragments from (until a revoke or
				      * destroy retires it), even with all its
				      * fragments back */
	uint32_t chunk_size;
	uint32_t area_id;
	int revoked;
	int destroying;
};

/* Do not touch: the owner's fast-path state, first member of every pool. */
struct _netmem_pool_fast {
	uint32_t count;               /* handles in cache[] */
	uint32_t limit;               /* cache capacity now: 0 once revoked/dying */
	uint64_t alloc_fast;
	uint64_t recycle_cached;
	/* fragment carving (owner only) */
	struct netmem_desc *frag_cur;
	uint32_t frag_off;            /* next free offset; chunk size when none */
	uint32_t frag_mask;           /* alignment - 1 */
	long frag_users;              /* fragments carved from frag_cur */
	uint64_t frag_alloc;
	uint32_t chunk_size;
	uint32_t pad;
	netmem_t cache[NETMEM_CACHE_SIZE];
	/* Read by every netmem_put(), written only at create, set_owner and
	 * destroy: kept off the owner's hot lines. */
	const void *_Atomic owner __attribute__((aligned(64)));
};

/*
 * The calling thread's identity as pools and receive queues compare it: a
 * number given to the thread on its first use of the library, unique in the
 * process and never reused. (The thread pointer would be cheaper, but the C
 * library hands an exited thread's control block to the next thread it
 * starts, which would then pass for the exited owner.) Initial-exec TLS: one
 * load from the thread's block, no call.
 */
extern _Thread_local uintptr_t _netmem_tid __attribute__((tls_model("initial-exec")));
uintptr_t _netmem_tid_assign(void);

static inline const void *_netmem_self(void)
{
	uintptr_t t = _netmem_tid;

	if (unlikely(t == 0))
		t = _netmem_tid_assign();
	return (const void *)t;
}

/*
 * Create a pool over a new area of params->provider. The calling thread
 * becomes the owner. Returns NULL and sets errno: EINVAL (NULL params, bad
 * size field, no provider, order outside 0..9, nr_chunks above 2^24,
 * ring_size or frag_align not a power of 2 or above its limit), ENODEV
 * (provider revoked), ENOMEM, or what the provider's area_create returns;
 * netmem_last_error() says why.
 */
struct netmem_pool *netmem_pool_create(const struct netmem_pool_params *params);

/*
 * Destroy a pool. Owner thread. The pool stops handing out, gives its cached
 * and ringed chunks back to the provider, and is freed when the last chunk in
 * flight comes back (from any thread). Returns the number of chunks still in
 * flight (0: freed now), -EINVAL on NULL, or -EBUSY from inside the pool's
 * on_revoke callback (nothing done). The caller must not use `pool`
 * afterwards except through handles it still holds.
 */
int netmem_pool_destroy(struct netmem_pool *pool);

/* Make the calling thread the owner. Only while no thread uses the fast
 * path, e.g. when handing a pool to a worker. 0 or -EINVAL. */
int netmem_pool_set_owner(struct netmem_pool *pool);

/*
 * Owner's regular check (once per batch, like a NAPI poll): looks at two of
 * the fragmented chunks the owner holds references on and recycles those
 * whose other holders have all put, notices a revoked provider, empties the
 * cache to the provider, and makes every later allocation fail with ENODEV.
 * Returns 0, -ENODEV once revoked, -EINVAL.
 */
int netmem_pool_poll(struct netmem_pool *pool);

netmem_t _netmem_pool_alloc_slow(struct netmem_pool *pool);
void _netmem_pool_put_slow(struct netmem_pool *pool, netmem_t h);
void _netmem_put_remote(netmem_t h);
netmem_t _netmem_pool_alloc_frag_slow(struct netmem_pool *pool, uint32_t size,
				      uint32_t *offset);

/*
 * Allocate one whole chunk. Owner thread only. Returns the handle with one
 * reference, or 0 with errno ENOMEM (no free chunk: everything in flight, or
 * fragmented chunks whose last fragment another thread put, which the owner
 * has not found yet: its slow paths look at a few at a time, backing off
 * while none comes back; netmem_pool_stats() collects them all) or ENODEV
 * (provider revoked: noticed at the next poll or slow path; until then the
 * fast path may still hand out a cached chunk, whose netmem_address() is
 * NULL).
 * Cost: one load and one store of the cache, no descriptor access.
 */
static inline netmem_t netmem_pool_alloc_direct(struct netmem_pool *pool)
{
	struct _netmem_pool_fast *f = (struct _netmem_pool_fast *)pool;
	uint32_t n = f->count;

	if (unlikely(n == 0))
		return _netmem_pool_alloc_slow(pool);
	f->count = n - 1;
	f->alloc_fast++;
	return f->cache[n - 1];
}

/*
 * Give back one reference on a chunk of `pool`. Owner thread only; h must
 * not be 0 (netmem_put() accepts 0). The last reference recycles the chunk
 * into the cache. A stale, double or foreign put
 * aborts in a debug build and is counted (bad_put) and ignored otherwise;
 * for a fragment, only once its chunk was recycled or when the count would
 * drop below zero: while another fragment of the chunk is out, an extra put
 * cannot be told from that fragment's (docs/fragments.md).
 * Cost: one descriptor cache line read and written; one unlikely branch that
 * takes fragments, full caches and bad puts out of line. Inside it, a
 * fragment of the chunk being carved costs no atomic, nor does one of a chunk
 * the owner retired from carving (it joins the references the owner holds;
 * see docs/fragments.md).
 */
static inline void netmem_pool_put_direct(struct netmem_pool *pool, netmem_t h)
{
	struct _netmem_pool_fast *f = (struct _netmem_pool_fast *)pool;
	struct netmem_desc *d = _netmem_desc(h);
	uint32_t n = f->count;

	if (unlikely((d->handle != h) | (d->pool != pool) |
		     (atomic_load_explicit(&d->ref, memory_order_acquire) != 1) |
		     (n >= f->limit))) {
		/* A fragment of the chunk the owner is carving: the reference
		 * goes back to the bias, no atomic. With none left out (remote
		 * puts never outnumber frag_users), carving restarts at 0
		 * under a new generation. */
		if ((d == f->frag_cur) & (d->handle == h) & (f->frag_users > 0)) {
			if (--f->frag_users == 0) {
				d->handle = h + _NETMEM_GEN_ONE;
				f->frag_off = 0;
			}
			return;
		}
		_netmem_pool_put_slow(pool, h);
		return;
	}
	/* Sole reference: no other thread can see d, plain stores suffice.
	 * The new generation makes h stale. */
	h += _NETMEM_GEN_ONE;
	d->handle = h;
	f->cache[n] = h;
	f->count = n + 1;
	f->recycle_cached++;
}

/*
 * Carve a fragment of `size` bytes from the pool's current chunk. Owner only.
 * The fragment holds one reference on its chunk, given back with any put
 * function; the last put, from any thread, recycles the chunk once.
 * Fragments start at multiples of the pool's frag_align. On success returns
 * the chunk's handle and stores the fragment's offset in it at *offset;
 * returns 0 with errno EINVAL (size 0 or larger than a chunk, NULL offset),
 * ENOMEM or ENODEV. Cost: no atomic; a new chunk every chunk_size/size calls.
 */
static inline netmem_t netmem_pool_alloc_frag_direct(struct netmem_pool *pool,
						     uint32_t size, uint32_t *offset)
{
	struct _netmem_pool_fast *f = (struct _netmem_pool_fast *)pool;
	uint32_t off = f->frag_off;
	struct netmem_desc *d = f->frag_cur;

	/* size - 1 wraps for 0; frag_off is the chunk size when no chunk. */
	if (unlikely(size - 1u >= f->chunk_size - off ||
		     !offset))
		return _netmem_pool_alloc_frag_slow(pool, size, offset);
	f->frag_off = (off + size + f->frag_mask) & ~f->frag_mask;
	f->frag_users++;
	f->frag_alloc++;
	*offset = off;
	return _netmem_handle(d);
}

/*
 * Put one reference from any thread: into the owner cache when called by the
 * owner, into the recycle ring otherwise (or back to the provider when the
 * ring is full or the pool is being destroyed). Same error handling as
 * netmem_pool_put_direct; two puts of one handle racing from two threads
 * are not caught (docs/revocation.md). h == 0 is ignored.
 */
static inline void netmem_put(netmem_t h)
{
	struct netmem_pool *pool;

	if (unlikely(h == 0))
		return;
	pool = _netmem_desc(h)->pool;
	if (likely(pool &&
		   atomic_load_explicit(&((struct _netmem_pool_fast *)pool)->owner,
					memory_order_relaxed) == _netmem_self()))
		netmem_pool_put_direct(pool, h);
	else
		_netmem_put_remote(h);
}

/*
 * Allocate up to n whole chunks into out[]. Owner only. Returns how many
 * (0..n); when fewer than n, errno says why (ENOMEM, ENODEV).
 */
unsigned netmem_pool_alloc_bulk_direct(struct netmem_pool *pool, netmem_t *out,
				       unsigned n);

/* Put n handles of `pool`. Owner only. Handles that are 0 are ignored. */
void netmem_pool_put_bulk_direct(struct netmem_pool *pool, const netmem_t *h,
				 unsigned n);

/*
 * Put n handles, of any pools, from any thread. Handles of the same pool
 * that follow each other go to its ring with one reservation.
 */
void netmem_put_bulk(const netmem_t *h, unsigned n);

/* Chunk size of the pool, in bytes. */
uint32_t netmem_pool_chunk_size(const struct netmem_pool *pool);

/*
 * Snapshot the counters. Owner thread (or any thread while the owner is
 * quiescent: it first recycles the fragmented chunks the owner holds whose
 * other holders have all put, so that the counts are exact). 0 or -EINVAL.
 */
int netmem_pool_stats(struct netmem_pool *pool, struct netmem_pool_stats *st);

/* Write the counters as one JSON object. Returns characters written, or
 * -EINVAL (NULL), -EIO (the stream reported an error: ferror(), so a write
 * still in the stream's buffer fails only at the caller's fflush). */
int netmem_pool_stats_json(struct netmem_pool *pool, FILE *out);

/*
 * Report chunks still in flight (as stats.in_flight counts them): count,
 * and with `verbose` one line per handle (area, index, references held
 * outside the pool, "(being carved)" for the carving chunk). Any thread
 * while the owner is quiescent,
 * and for a pool whose destroy is waiting as long as the caller holds one of
 * its chunks or no other thread can put one (the last put frees the pool).
 * Returns the count, -EINVAL or -ENOMEM.
 */
long netmem_pool_report_inflight(struct netmem_pool *pool, FILE *out, int verbose);

/* Provider of the pool. */
struct netmem_provider *netmem_pool_provider(const struct netmem_pool *pool);

/*
 * Device-side access, for drivers that emulate a device's DMA: write or read
 * `len` bytes at `off` inside the chunk `h` through its provider. Any thread
 * holding a reference. 0, -EINVAL (range outside the chunk, NULL), -ENODEV
 * (revoked), -EOPNOTSUPP (provider has no read), or the provider's own
 * error (e.g. -EIO from the fault provider's wfail=).
 */
int netmem_dev_write(netmem_t h, size_t off, const void *src, size_t len);
int netmem_dev_read(netmem_t h, size_t off, void *dst, size_t len);

#ifdef __cplusplus
}
#endif
#endif
