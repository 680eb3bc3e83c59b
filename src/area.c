/* SPDX-License-Identifier: MIT */
/*
 * Areas: a provider mapping cut into chunks, with one descriptor per chunk in
 * host memory and the free space as a stack of chunk indices. Everything here
 * is the slow path and works in batches under the area's lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Atomic uint32_t next_area_id = 1;

struct netmem_area *_netmem_area_create(struct netmem_provider *p, unsigned order,
					size_t nr_chunks, struct netmem_pool *pool)
{
	struct netmem_area *a;
	size_t chunk = (size_t)1 << (NETMEM_PAGE_SHIFT + order);
	unsigned mark;
	int ret;

	a = calloc(1, sizeof(*a));
	if (!a) {
		errno = -_netmem_err(ENOMEM, "area: out of memory");
		return NULL;
	}
	a->desc = aligned_alloc(NETMEM_CACHELINE, nr_chunks * sizeof(*a->desc));
	a->free_idx = malloc(nr_chunks * sizeof(*a->free_idx));
	/* Handles keep descriptor addresses in 48 bits. */
	if (!a->desc || !a->free_idx || (uintptr_t)a->desc + nr_chunks * sizeof(*a->desc) > _NETMEM_PTR_MASK) {
		ret = _netmem_err(ENOMEM, "area: no memory for %zu descriptors", nr_chunks);
		goto err;
	}
	memset(a->desc, 0, nr_chunks * sizeof(*a->desc));
	a->spec.order = order;
	a->spec.nr_chunks = nr_chunks;
	a->spec.chunk_size = chunk;
	a->spec.size = nr_chunks * chunk;
	a->prov = p;
	mark = _netmem_err_mark();
	ret = p->ops->area_create(p, &a->spec);
	if (ret < 0) {
		_netmem_err_fallback(mark, -ret, p->name, "area_create");
		goto err;
	}
	a->mapped = true;
	atomic_fetch_add_explicit(&p->nr_mapped, 1, memory_order_release);
	a->hdr.id = atomic_fetch_add_explicit(&next_area_id, 1, memory_order_relaxed);
	a->hdr.order = (uint8_t)order;
	a->hdr.readable = a->spec.cpu_base != NULL;
	atomic_init(&a->hdr.revoked, 0);
	pthread_mutex_init(&a->lock, NULL);
	for (size_t i = 0; i < nr_chunks; i++) {
		struct netmem_desc *d = &a->desc[i];

		d->pool = pool;
		d->area = &a->hdr;
		d->index = (uint32_t)i;
		d->handle = (netmem_t)(uintptr_t)d; /* generation 0 */
		d->dma = p->ops->dma_addr(p, &a->spec, i * chunk);
		d->cpu = a->spec.cpu_base ? (char *)a->spec.cpu_base + i * chunk : NULL;
		atomic_init(&d->ref, 0);
		/* Pop order = ascending addresses. */
		a->free_idx[i] = (uint32_t)(nr_chunks - 1 - i);
	}
	a->nr_free = (uint32_t)nr_chunks;
	_netmem_provider_get(p);
	_netmem_provider_link(p, a);
	return a;
err:
	free(a->desc);
	free(a->free_idx);
	free(a);
	errno = -ret;
	return NULL;
}

/* Caller holds a->lock. The memory goes now; descriptors stay until the
 * area itself is destroyed, since handles may still name them. */
static void area_unmap_locked(struct netmem_area *a)
{
	if (!a->mapped)
		return;
	a->prov->ops->area_destroy(a->prov, &a->spec);
	a->mapped = false;
	atomic_fetch_sub_explicit(&a->prov->nr_mapped, 1, memory_order_release);
}

/* An index a provider's alloc_bulk may hand out: inside the area, and a
 * chunk in the free space (not out, not already taken in this batch). */
static bool index_free(const struct netmem_area *a, uint32_t i)
{
	return i < a->spec.nr_chunks && a->desc[i].state == _NETMEM_DESC_FREE;
}

unsigned _netmem_area_take(struct netmem_area *a, struct netmem_desc **descs,
			   unsigned n)
{
	unsigned k;

	pthread_mutex_lock(&a->lock);
	if (!a->mapped || atomic_load_explicit(&a->hdr.revoked, memory_order_acquire)) {
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	if (a->prov->ops->alloc_bulk) {
		uint32_t idx[64];

		k = 0;
		while (k < n) {
			unsigned want = n - k < 64 ? n - k : 64;
			unsigned got = a->prov->ops->alloc_bulk(a->prov, &a->spec, idx, want);
			unsigned ok = 0;

			/* A provider's bad count or index must not reach
			 * memory: the good indices up to the first bad one
			 * are taken, the good ones after it given back. Bad:
			 * past the area, or a chunk that is not free (already
			 * out, or twice in this batch), which would hand one
			 * chunk to two users. */
			if (got > want)
				got = want;
			while (ok < got && index_free(a, idx[ok])) {
				descs[k + ok] = &a->desc[idx[ok]];
				descs[k + ok]->state = _NETMEM_DESC_POOL;
				ok++;
			}
			if (ok < got) {
				unsigned back = 0;

				for (unsigned i = ok + 1; i < got; i++) {
					if (index_free(a, idx[i])) {
						/* marked, so that a repeat is not given twice */
						a->desc[idx[i]].state = _NETMEM_DESC_POOL;
						idx[back++] = idx[i];
					}
				}
				for (unsigned i = 0; i < back; i++)
					a->desc[idx[i]].state = _NETMEM_DESC_FREE;
				if (back)
					a->prov->ops->release_bulk(a->prov, &a->spec, idx, back);
				got = ok;
			}
			k += got;
			if (got < want)
				break;
		}
		a->nr_free -= k;
	} else {
		k = n < a->nr_free ? n : a->nr_free;
		for (unsigned i = 0; i < k; i++)
			descs[i] = &a->desc[a->free_idx[--a->nr_free]];
	}
	for (unsigned i = 0; i < k; i++) {
		struct netmem_desc *d = descs[i];

		d->state = _NETMEM_DESC_POOL;
		atomic_store_explicit(&d->ref, 1, memory_order_relaxed);
	}
	a->outstanding += k;
	pthread_mutex_unlock(&a->lock);
	return k;
}

void _netmem_area_give(struct netmem_area *a, struct netmem_desc *const *descs,
		       unsigned n)
{
	const struct netmem_provider_ops *ops = a->prov->ops;
	uint32_t idx[64];

	pthread_mutex_lock(&a->lock);
	for (unsigned i = 0; i < n; i++) {
		struct netmem_desc *d = descs[i];

		d->state = _NETMEM_DESC_FREE;
		atomic_store_explicit(&d->ref, 0, memory_order_relaxed);
		if (!ops->release_bulk) {
			a->free_idx[a->nr_free] = d->index;
		} else {
			idx[i % 64] = d->index;
			if (i % 64 == 63 || i + 1 == n)
				ops->release_bulk(a->prov, &a->spec, idx, i % 64 + 1);
		}
		a->nr_free++;
	}
	a->outstanding -= n;
	if (a->outstanding == 0 &&
	    atomic_load_explicit(&a->hdr.revoked, memory_order_acquire))
		area_unmap_locked(a);
	pthread_mutex_unlock(&a->lock);
}

void _netmem_area_revoked(struct netmem_area *a)
{
	/* Under the area lock, as in _netmem_area_give(): either the last give
	 * saw revoked and unmapped, or we see outstanding == 0 here. */
	pthread_mutex_lock(&a->lock);
	if (a->outstanding == 0)
		area_unmap_locked(a);
	pthread_mutex_unlock(&a->lock);
}

uint32_t _netmem_area_nr_free(struct netmem_area *a)
{
	uint32_t n;

	pthread_mutex_lock(&a->lock);
	n = a->nr_free;
	pthread_mutex_unlock(&a->lock);
	return n;
}

void _netmem_area_destroy(struct netmem_area *a)
{
	struct netmem_provider *p = a->prov;

	pthread_mutex_lock(&a->lock);
	area_unmap_locked(a);
	pthread_mutex_unlock(&a->lock);
	_netmem_provider_unlink(p, a);
	pthread_mutex_destroy(&a->lock);
	free(a->desc);
	free(a->free_idx);
	free(a);
	_netmem_provider_put(p);
}
