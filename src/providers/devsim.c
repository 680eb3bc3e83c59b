/* SPDX-License-Identifier: MIT */
/*
 * devsim: emulated device memory, the memory a test uses to prove by the MMU
 * that netmem never touches payload bytes.
 *
 * Each area is one reservation: guard page, the application's view, guard
 * page, the device's memory, guard page. The view is no-access anonymous
 * memory standing for the device memory: chunks are unreadable (cpu_base
 * NULL), any CPU access through the view faults (netmem_devsim_cpu_view()
 * gives tests its address), and since it shares no pages with the device, an
 * mprotect() of it shows zeros, not payload. The device memory is a memfd
 * mapped read-write, reached only through the provider's write and read
 * operations (netmem_dev_write() and netmem_dev_read()), the way a NIC's DMA
 * reaches device memory; a stray access just past either one hits a guard
 * page.
 *
 * Device addresses are IOVAs of the emulated device: each area gets its own
 * range above NETMEM_DEVSIM_IOVA_BASE, 2 MiB aligned, never reused by the
 * instance, so the address of every live byte is distinct and is never a
 * valid CPU address.
 *
 * revoke: the device stops answering; write and read return -ENODEV.
 *
 * Spec: "devsim", "devsim:order=N" (0..9).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../internal.h"
#include "builtin.h"

#define IOVA_ALIGN (UINT64_C(2) << 20)

struct devsim_priv {
	_Atomic uint64_t next_iova; /* bump allocator of device address space */
	_Atomic int revoked;
};

struct devsim_area {
	void *map;      /* the whole reservation, guard pages included */
	size_t map_len;
	void *view;     /* application's PROT_NONE view: faults */
	void *dev;      /* the device's read-write mapping (a memfd) */
	size_t len;
	uint64_t iova;
};

static int devsim_init(struct netmem_provider *p, const char *args)
{
	struct devsim_priv *dp;
	char key[32], val[64];
	unsigned order = 0;
	int ret;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (!strcmp(key, "order")) {
			if (netmem_spec_uint("devsim", key, val, NETMEM_MAX_ORDER, &v))
				return -EINVAL;
			order = (unsigned)v;
		} else {
			return _netmem_err(EINVAL, "devsim: unknown key '%s' (known: order)", key);
		}
	}
	if (ret < 0)
		return ret;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return _netmem_err(ENOMEM, "devsim: out of memory");
	atomic_init(&dp->next_iova, NETMEM_DEVSIM_IOVA_BASE);
	atomic_init(&dp->revoked, 0);
	netmem_provider_set_priv(p, dp);
	return netmem_provider_set_default_order(p, order);
}

static void devsim_fini(struct netmem_provider *p)
{
	free(netmem_provider_priv(p));
}

static int devsim_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct devsim_priv *dp = netmem_provider_priv(p);
	struct devsim_area *da;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int fd, err;

	if (s->size / s->nr_chunks != s->chunk_size || s->size > (UINT64_C(1) << 46))
		return _netmem_err(ENOMEM, "devsim: area of %zu chunks of %zu bytes is too large",
				   s->nr_chunks, s->chunk_size);
	da = calloc(1, sizeof(*da));
	if (!da)
		return _netmem_err(ENOMEM, "devsim: out of memory");
	da->len = s->size;
	da->map_len = 2 * s->size + 3 * page;
	fd = memfd_create("netmem-devsim", MFD_CLOEXEC);
	if (fd < 0) {
		err = errno;
		_netmem_err(err, "devsim: memfd_create failed: %s", strerror(err));
		goto err_free;
	}
	if (ftruncate(fd, (off_t)s->size) < 0) {
		err = errno;
		_netmem_err(err, "devsim: ftruncate to %zu bytes failed: %s", s->size,
			    strerror(err));
		goto err_close;
	}
	/* No access anywhere at first: the view and the guard pages stay so. */
	da->map = mmap(NULL, da->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (da->map == MAP_FAILED) {
		err = errno;
		_netmem_err(err, "devsim: reserving %zu bytes failed: %s", da->map_len,
			    strerror(err));
		goto err_close;
	}
	da->view = (char *)da->map + page;
	da->dev = mmap((char *)da->map + 2 * page + s->size, s->size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_FIXED, fd, 0);
	if (da->dev == MAP_FAILED) {
		err = errno;
		_netmem_err(err, "devsim: device mapping of %zu bytes failed: %s", s->size,
			    strerror(err));
		goto err_unmap;
	}
	close(fd); /* the mappings keep the memory */
	/* relaxed: the IOVA range only has to be unique. */
	da->iova = atomic_fetch_add_explicit(&dp->next_iova,
					     (s->size + IOVA_ALIGN - 1) & ~(IOVA_ALIGN - 1),
					     memory_order_relaxed);
	s->cpu_base = NULL;
	s->priv = da;
	return 0;
err_unmap:
	munmap(da->map, da->map_len);
err_close:
	close(fd);
err_free:
	free(da);
	return -err;
}

static void devsim_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct devsim_area *da = s->priv;

	(void)p;
	munmap(da->map, da->map_len);
	free(da);
	s->priv = NULL;
}

static uint64_t devsim_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
				size_t off)
{
	const struct devsim_area *da = s->priv;

	(void)p;
	return da->iova + off;
}

static int devsim_write(struct netmem_provider *p, const struct netmem_area_spec *s,
			size_t off, const void *src, size_t len)
{
	/* p->priv rather than the exported getter: every device write. */
	struct devsim_priv *dp = p->priv;
	const struct devsim_area *da = s->priv;

	/* relaxed: a flag only; the core orders revocation against handles. */
	if (atomic_load_explicit(&dp->revoked, memory_order_relaxed))
		return -ENODEV;
	memcpy((char *)da->dev + off, src, len);
	return 0;
}

static int devsim_read(struct netmem_provider *p, const struct netmem_area_spec *s,
		       size_t off, void *dst, size_t len)
{
	struct devsim_priv *dp = netmem_provider_priv(p);
	const struct devsim_area *da = s->priv;

	if (atomic_load_explicit(&dp->revoked, memory_order_relaxed))
		return -ENODEV;
	memcpy(dst, (const char *)da->dev + off, len);
	return 0;
}

static void devsim_revoke(struct netmem_provider *p)
{
	struct devsim_priv *dp = netmem_provider_priv(p);

	atomic_store_explicit(&dp->revoked, 1, memory_order_relaxed);
}

const struct netmem_provider_ops _netmem_devsim_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "devsim",
	.init = devsim_init,
	.fini = devsim_fini,
	.area_create = devsim_area_create,
	.area_destroy = devsim_area_destroy,
	.dma_addr = devsim_dma_addr,
	.write = devsim_write,
	.read = devsim_read,
	.revoke = devsim_revoke,
};

void *netmem_devsim_cpu_view(netmem_t h)
{
	struct netmem_area *a;
	const struct devsim_area *da;

	if (!h)
		return NULL;
	a = _netmem_area_of(_netmem_desc(h));
	if (a->prov->ops != &_netmem_devsim_ops || netmem_is_revoked(h))
		return NULL;
	da = a->spec.priv;
	return (char *)da->view + netmem_area_offset(h);
}
