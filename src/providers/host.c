/* SPDX-License-Identifier: MIT */
/*
 * host: anonymous memory. Chunks are aligned to their size; areas of 2 MiB
 * or more ask for transparent huge pages. The device address of a byte is
 * its virtual address, as for a device behind an identity-mapped IOMMU.
 *
 * Spec: "host", "host:order=N" (0..9), "host:thp=0" (no madvise).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../internal.h"
#include "builtin.h"

struct host_priv {
	int thp;
};

/* Per-area: the raw mapping, larger than the area to align it. */
struct host_area {
	void *raw;
	size_t raw_len;
};

static int host_init(struct netmem_provider *p, const char *args)
{
	struct host_priv *hp;
	char key[32], val[64];
	unsigned order = 0;
	int thp = 1, ret;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (!strcmp(key, "order")) {
			if (netmem_spec_uint("host", key, val, NETMEM_MAX_ORDER, &v))
				return -EINVAL;
			order = (unsigned)v;
		} else if (!strcmp(key, "thp")) {
			if (netmem_spec_uint("host", key, val, 1, &v))
				return -EINVAL;
			thp = (int)v;
		} else {
			return _netmem_err(EINVAL, "host: unknown key '%s' (known: order, thp)", key);
		}
	}
	if (ret < 0)
		return ret;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return _netmem_err(ENOMEM, "host: out of memory");
	hp->thp = thp;
	netmem_provider_set_priv(p, hp);
	return netmem_provider_set_default_order(p, order);
}

static void host_fini(struct netmem_provider *p)
{
	free(netmem_provider_priv(p));
}

static int host_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct host_priv *hp = netmem_provider_priv(p);
	struct host_area *ha = calloc(1, sizeof(*ha));
	size_t align = s->chunk_size < (2u << 20) ? s->chunk_size : (2u << 20);
	uintptr_t base;

	if (!ha)
		return _netmem_err(ENOMEM, "host: out of memory");
	if (s->size / s->nr_chunks != s->chunk_size)
		goto toobig;
	ha->raw_len = s->size + align;
	if (ha->raw_len < s->size)
		goto toobig;
	ha->raw = mmap(NULL, ha->raw_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ha->raw == MAP_FAILED) {
		int err = errno;

		free(ha);
		return _netmem_err(err, "host: mmap of %zu bytes failed: %s", s->size,
				   strerror(err));
	}
	base = ((uintptr_t)ha->raw + align - 1) & ~(uintptr_t)(align - 1);
	if (hp->thp && s->size >= (2u << 20))
		madvise((void *)base, s->size, MADV_HUGEPAGE); /* a hint; may fail */
	s->cpu_base = (void *)base;
	s->priv = ha;
	return 0;
toobig:
	free(ha);
	return _netmem_err(ENOMEM, "host: area of %zu chunks of %zu bytes is too large",
			   s->nr_chunks, s->chunk_size);
}

static void host_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct host_area *ha = s->priv;

	(void)p;
	munmap(ha->raw, ha->raw_len);
	free(ha);
	s->cpu_base = NULL;
	s->priv = NULL;
}

static uint64_t host_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
			      size_t off)
{
	(void)p;
	return (uint64_t)(uintptr_t)s->cpu_base + off;
}

static int host_write(struct netmem_provider *p, const struct netmem_area_spec *s,
		      size_t off, const void *src, size_t len)
{
	(void)p;
	memcpy((char *)s->cpu_base + off, src, len);
	return 0;
}

static int host_read(struct netmem_provider *p, const struct netmem_area_spec *s,
		     size_t off, void *dst, size_t len)
{
	(void)p;
	memcpy(dst, (const char *)s->cpu_base + off, len);
	return 0;
}

const struct netmem_provider_ops _netmem_host_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "host",
	.init = host_init,
	.fini = host_fini,
	.area_create = host_area_create,
	.area_destroy = host_area_destroy,
	.dma_addr = host_dma_addr,
	.write = host_write,
	.read = host_read,
};
