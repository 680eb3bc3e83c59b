/* SPDX-License-Identifier: MIT */
/* Internal definitions shared across netmem's source files. Never exported. */
#ifndef NETMEM_INTERNAL_H
#define NETMEM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netmem/netmem.h"

#define NETMEM_CACHELINE 64
#define __cold __attribute__((cold, noinline))
#define __cacheline_aligned __attribute__((aligned(NETMEM_CACHELINE)))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#ifdef NETMEM_DEBUG
#define NETMEM_DEBUG_ENABLED 1
#else
#define NETMEM_DEBUG_ENABLED 0
#endif

enum {
	_NETMEM_DESC_FREE = 0, /* in the provider's free space */
	_NETMEM_DESC_POOL = 1, /* with the pool: cache, ring or out */
};

struct netmem_provider {
	const struct netmem_provider_ops *ops;
	void *priv;
	_Atomic int refs;        /* 1 for the creator + one per live area */
	_Atomic int revoked;
	_Atomic unsigned order;  /* default chunk order */
	pthread_mutex_t lock;    /* guards areas and the revoke hook's state */
	pthread_cond_t hook_cv;  /* broadcast when the revoke hook returns */
	bool hook_done;          /* the revoke hook ran (or there is none) */
	uintptr_t hook_thread;   /* _netmem_self() of the thread running it */
	struct netmem_area *areas;
	_Atomic unsigned nr_mapped; /* areas whose memory is mapped */
	char name[32];
};

/*
 * An area: one mapping of provider memory and its descriptors. Each pool
 * owns exactly one area, so the area lives as long as its pool (or less: a
 * revoked area is unmapped as soon as all its chunks are back).
 */
struct netmem_area {
	struct netmem_area_hdr hdr; /* first: handles reach it from descriptors */
	struct netmem_provider *prov;
	struct netmem_area_spec spec;
	struct netmem_desc *desc;   /* spec.nr_chunks descriptors */
	pthread_mutex_t lock;       /* guards the free space and mapping */
	uint32_t *free_idx;         /* free chunk indices (a stack) */
	uint32_t nr_free;
	uint32_t outstanding;       /* chunks not in the free space */
	bool mapped;
	struct netmem_area *next;   /* provider's list */
};

/* True when a provider table is long enough to have `op` and sets it (ops
 * appended after the first version are optional and may be past .size). */
#define _NETMEM_OPS_HAS(ops, op) \
	((ops)->size >= offsetof(struct netmem_provider_ops, op) + sizeof((ops)->op) && \
	 (ops)->op != NULL)

static inline struct netmem_area *_netmem_area_of(const struct netmem_desc *d)
{
	return container_of(d->area, struct netmem_area, hdr);
}

/* Bounded multi-producer single-consumer ring of handles; 0 is an empty
 * slot. Producers reserve with a CAS on prod; the consumer (the pool owner)
 * advances cons. Bit 63 of prod closes the ring for good. */
#define _NETMEM_RING_CLOSED (UINT64_C(1) << 63)

struct _netmem_ring {
	_Atomic uint64_t prod __cacheline_aligned; /* written by producers */
	_Atomic uint64_t cons __cacheline_aligned; /* written by the consumer */
	uint64_t drained;                          /* consumer-only count */
	_Atomic netmem_t *slots __cacheline_aligned;
	uint32_t mask;
};

struct netmem_pool {
	struct _netmem_pool_fast fast; /* first: the inline fast path's view */

	/* Owner-only slow-path state. */
	struct netmem_area *area __cacheline_aligned;
	struct netmem_provider *prov;
	uint64_t alloc_slow;
	uint64_t alloc_empty;
	uint64_t alloc_refill;
	uint64_t alloc_failed;
	uint64_t recycle_cache_full;
	uint64_t frag_chunks;
	uint64_t frag_retired;
	uint64_t frag_waste_bytes;
	/* Fragmented chunks on which the owner holds references it has not
	 * subtracted (desc->held: a retired chunk's unused bias plus the
	 * owner's own puts of its fragments). When held equals the refcount,
	 * every other holder has put and the chunk is the owner's again with
	 * no atomic; see the fragment section of pool.c. */
	struct netmem_desc **held; /* room for every chunk of the area */
	unsigned nr_held;
	unsigned held_cursor; /* next entry netmem_pool_poll() looks at */
	unsigned sweep_backoff; /* see held_sweep_alloc() */
	unsigned sweep_skip;
	bool revoked_seen;
	bool in_on_revoke; /* on_revoke is running: destroy refuses */
	void (*on_revoke)(struct netmem_pool *pool, void *arg);
	void *on_revoke_arg;

	/* Written by any thread. */
	_Atomic long refs __cacheline_aligned; /* 1 for the creator + outstanding chunks */
	_Atomic int dying;
	_Atomic uint64_t bad_put;
	_Atomic uint64_t ring_full;
	_Atomic uint64_t released;

	struct _netmem_ring ring;
};

_Static_assert(sizeof(struct netmem_desc) == 64, "descriptor must be 64 bytes");
_Static_assert(offsetof(struct netmem_pool, area) % NETMEM_CACHELINE == 0,
	       "owner slow state on its own line");
_Static_assert(offsetof(struct netmem_pool, refs) % NETMEM_CACHELINE == 0,
	       "shared counters on their own line");
_Static_assert(offsetof(struct _netmem_ring, cons) -
			       offsetof(struct _netmem_ring, prod) >=
		       NETMEM_CACHELINE,
	       "producer and consumer indices on different lines");

/* error.c */
int _netmem_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned _netmem_err_mark(void);
int _netmem_err_fallback(unsigned mark, int err, const char *provider, const char *op);

/* area.c */
struct netmem_area *_netmem_area_create(struct netmem_provider *p, unsigned order,
					size_t nr_chunks, struct netmem_pool *pool);
/* Take up to n free chunks; fills descs; returns count. */
unsigned _netmem_area_take(struct netmem_area *a, struct netmem_desc **descs,
			   unsigned n);
/* Give chunks back to the free space. Unmaps a revoked area whose last
 * chunk came back. */
void _netmem_area_give(struct netmem_area *a, struct netmem_desc *const *descs,
		       unsigned n);
/* Called after the area's revoked flag is set: unmaps it now when no chunk
 * is outside the free space (no give would ever come to do it). */
void _netmem_area_revoked(struct netmem_area *a);
void _netmem_area_destroy(struct netmem_area *a);
uint32_t _netmem_area_nr_free(struct netmem_area *a);

/* provider.c */
void _netmem_provider_get(struct netmem_provider *p);
void _netmem_provider_put(struct netmem_provider *p);
void _netmem_provider_link(struct netmem_provider *p, struct netmem_area *a);
void _netmem_provider_unlink(struct netmem_provider *p, struct netmem_area *a);

/* ring (pool.c) */
int _netmem_ring_init(struct _netmem_ring *r, uint32_t size);
void _netmem_ring_fini(struct _netmem_ring *r);

#endif
