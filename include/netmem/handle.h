/* SPDX-License-Identifier: MIT */
/*
 * netmem handles: a 64-bit value naming one chunk of provider memory.
 *
 * A handle is the address of the chunk's descriptor (host memory, never
 * inside the chunk) in the low 48 bits and the descriptor's generation in
 * the high 16 bits. The generation changes every time the chunk goes back to
 * its pool, so a handle used after it was put is recognised as stale while
 * its area exists (a debug build aborts with a message; a release build
 * counts it and ignores the call). 0 is "no handle".
 *
 * The accessors below are inline and may be called from any thread that
 * holds a reference on the chunk (it was allocated to it, or it holds a
 * fragment of it). On a chunk whose provider was revoked they return NULL or
 * -ENODEV, never a dangling pointer.
 */
#ifndef NETMEM_HANDLE_H
#define NETMEM_HANDLE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t netmem_t;

#define NETMEM_NONE ((netmem_t)0)
#define NETMEM_MIN_ORDER 0
#define NETMEM_MAX_ORDER 9
#define NETMEM_PAGE_SHIFT 12

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

struct netmem_pool;

/*
 * The part of an area the inline accessors read. Do not touch the fields:
 * they are the library's, and may change between versions.
 */
struct netmem_area_hdr {
	_Atomic uint32_t revoked; /* set once, by netmem_provider_revoke() */
	uint32_t id;              /* process-unique area id, never reused */
	uint8_t order;            /* chunk size is 4 KiB << order */
	uint8_t readable;         /* the CPU may access chunk bytes */
	uint8_t pad[6];
};

/*
 * Per-chunk metadata, 64 bytes, one cache line. Do not touch the fields.
 * ref is the chunk's only reference count (as the kernel's pp_ref_count):
 * 1 for a whole chunk held by one user, more while fragments are live.
 */
struct netmem_desc {
	struct netmem_pool *pool;      /* owning pool, set when the area is made */
	_Atomic long ref;              /* references held on this chunk */
	uint64_t dma;                  /* device address, set by the provider */
	void *cpu;                     /* CPU address, NULL when unreadable */
	struct netmem_area_hdr *area;  /* area this chunk belongs to */
	uint32_t index;                /* chunk index in its area */
	uint8_t state;                 /* _NETMEM_DESC_* (slow path only) */
	uint8_t pad[3];
	uint32_t held;                 /* owner only: references its pool's owner
					  holds and has not subtracted from ref */
	uint32_t held_slot;            /* owner only: index in the pool's held list */
	netmem_t handle;               /* the valid handle: address | generation */
} __attribute__((aligned(64)));

#define _NETMEM_GEN_ONE ((netmem_t)1 << 48)

#define _NETMEM_PTR_MASK ((UINT64_C(1) << 48) - 1)

static inline struct netmem_desc *_netmem_desc(netmem_t h)
{
	return (struct netmem_desc *)(uintptr_t)(h & _NETMEM_PTR_MASK);
}

static inline netmem_t _netmem_handle(const struct netmem_desc *d)
{
	return d->handle;
}

/* True when the chunk's provider has been revoked (device gone). */
static inline bool netmem_is_revoked(netmem_t h)
{
	return atomic_load_explicit(&_netmem_desc(h)->area->revoked,
				    memory_order_acquire) != 0;
}

/* True when the CPU may read and write the chunk's bytes. */
static inline bool netmem_is_readable(netmem_t h)
{
	return _netmem_desc(h)->area->readable != 0;
}

/*
 * CPU address of the chunk's first byte. NULL when the memory is not
 * readable by the CPU (device memory) or the provider was revoked.
 */
static inline void *netmem_address(netmem_t h)
{
	const struct netmem_desc *d = _netmem_desc(h);

	if (unlikely(netmem_is_revoked(h)))
		return NULL;
	return d->cpu;
}

/*
 * Device address of the chunk's first byte, as the provider that exports the
 * memory defines it (an IOVA, a GPU pointer, an offset in a dma-buf or UMEM).
 * Returns 0, or -ENODEV when the provider was revoked.
 */
static inline int netmem_dma_addr(netmem_t h, uint64_t *addr)
{
	if (unlikely(netmem_is_revoked(h)))
		return -ENODEV;
	*addr = _netmem_desc(h)->dma;
	return 0;
}

/* Chunk size in bytes: 4 KiB << order. */
static inline size_t netmem_size(netmem_t h)
{
	return (size_t)1 << (NETMEM_PAGE_SHIFT + _netmem_desc(h)->area->order);
}

/* Id of the area holding the chunk (as in a receive token). */
static inline uint32_t netmem_area_id(netmem_t h)
{
	return _netmem_desc(h)->area->id;
}

/* Offset of the chunk's first byte inside its area. */
static inline size_t netmem_area_offset(netmem_t h)
{
	const struct netmem_desc *d = _netmem_desc(h);

	return (size_t)d->index << (NETMEM_PAGE_SHIFT + d->area->order);
}

/* The pool the chunk belongs to. */
static inline struct netmem_pool *netmem_pool_of(netmem_t h)
{
	return _netmem_desc(h)->pool;
}

#ifdef __cplusplus
}
#endif
#endif
