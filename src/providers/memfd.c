/* SPDX-License-Identifier: MIT */
/*
 * memfd: every area is its own memfd, mapped shared. The fd can be handed
 * to another process (netmem_pool_area_fd() + SCM_RIGHTS), which maps it
 * and reads what the device wrote; the memory lives until both sides let go.
 * The device address of a byte is its offset in the area's memfd.
 *
 * The memfd is sealed against shrinking and growing (a receiver cannot make
 * our mapping SIGBUS) and, where the kernel allows, against new writable
 * mappings (F_SEAL_FUTURE_WRITE, Linux 5.1): receivers map it read-only and
 * only the provider's own mapping, made before the seal, writes.
 *
 * Spec: "memfd", with keys
 *   order=N     default chunk order, 0..9
 *   size=BYTES  most bytes this instance may have in live areas (K/M/G)
 *   huge=0|1    back areas with huge pages (MFD_HUGETLB); areas are rounded
 *               up to the huge page size
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../internal.h"
#include "builtin.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif

struct memfd_priv {
	uint64_t limit;          /* 0: none */
	_Atomic uint64_t used;   /* bytes in live areas */
	size_t huge_size;        /* huge page size, 0 without huge=1 */
	_Atomic int revoked;
};

struct memfd_area {
	int fd;
	size_t len;              /* mapped length (rounded for huge pages) */
};

/* Default huge page size from /proc/meminfo; 0 if unknown. */
static size_t default_huge_size(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	unsigned long kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			break;
	fclose(f);
	return (size_t)kb << 10;
}

static int memfd_init(struct netmem_provider *p, const char *args)
{
	struct memfd_priv *mp;
	char key[32], val[64];
	unsigned order = 0;
	uint64_t limit = 0;
	int huge = 0, ret;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (!strcmp(key, "order")) {
			if (netmem_spec_uint("memfd", key, val, NETMEM_MAX_ORDER, &v))
				return -EINVAL;
			order = (unsigned)v;
		} else if (!strcmp(key, "size")) {
			if (netmem_parse_size(val, &limit) < 0 || limit == 0)
				return _netmem_err(EINVAL,
						   "memfd: size '%s' is not a positive byte count (K/M/G suffix allowed)",
						   val);
		} else if (!strcmp(key, "huge")) {
			if (netmem_spec_uint("memfd", key, val, 1, &v))
				return -EINVAL;
			huge = (int)v;
		} else {
			return _netmem_err(EINVAL, "memfd: unknown key '%s' (known: order, size, huge)",
					   key);
		}
	}
	if (ret < 0)
		return ret;
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return _netmem_err(ENOMEM, "memfd: out of memory");
	mp->limit = limit;
	if (huge) {
		/* Probe now, so a kernel without hugetlbfs is a clear error at
		 * create time rather than at the first pool. */
		int fd = memfd_create("netmem-probe", MFD_CLOEXEC | MFD_HUGETLB);

		if (fd < 0) {
			int err = errno;

			free(mp);
			return _netmem_err(ENODEV, "memfd: huge=1 but memfd_create(MFD_HUGETLB) failed: %s",
					   strerror(err));
		}
		close(fd);
		mp->huge_size = default_huge_size();
		if (!mp->huge_size) {
			free(mp);
			return _netmem_err(ENODEV, "memfd: huge=1 but no huge page size in /proc/meminfo");
		}
	}
	netmem_provider_set_priv(p, mp);
	return netmem_provider_set_default_order(p, order);
}

static void memfd_fini(struct netmem_provider *p)
{
	free(netmem_provider_priv(p));
}

/*
 * Map the area's file at an address aligned to `align` (at most 2 MiB, as
 * host's: a chunk never straddles a huge page): reserve room for the
 * alignment, map the file over the aligned part, give the rest back. align
 * 0 or a page or less: wherever mmap puts it (huge page mappings come
 * aligned to their page). MAP_FAILED with errno on failure.
 */
static void *map_aligned(int fd, size_t len, size_t align)
{
	uint8_t *raw, *base;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (align > (2u << 20))
		align = 2u << 20;
	if (align <= page)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	raw = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (raw == MAP_FAILED)
		return MAP_FAILED;
	base = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (mmap(base, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		int err = errno;

		munmap(raw, len + align);
		errno = err;
		return MAP_FAILED;
	}
	if (base > raw)
		munmap(raw, (size_t)(base - raw));
	if (raw + len + align > base + len)
		munmap(base + len, (size_t)(raw + align - base));
	return base;
}

static int memfd_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct memfd_priv *mp = netmem_provider_priv(p);
	struct memfd_area *ma;
	size_t len = s->size;
	uint64_t used;
	void *base;
	int err;

	if (s->size / s->nr_chunks != s->chunk_size)
		return _netmem_err(ENOMEM, "memfd: area of %zu chunks of %zu bytes is too large",
				   s->nr_chunks, s->chunk_size);
	if (mp->huge_size) {
		len = (s->size + mp->huge_size - 1) & ~(mp->huge_size - 1);
		if (len < s->size)
			return _netmem_err(ENOMEM, "memfd: area of %zu bytes is too large", s->size);
	}
	/* Reserve against the limit first, only when it fits: a request that
	 * does not must not make a concurrent one that does fail. relaxed:
	 * the counter orders nothing. */
	used = atomic_load_explicit(&mp->used, memory_order_relaxed);
	do {
		if (mp->limit && (len > mp->limit || used > mp->limit - len))
			return _netmem_err(ENOSPC,
					   "memfd: an area of %zu bytes exceeds the instance's size=%llu (%llu in use)",
					   len, (unsigned long long)mp->limit,
					   (unsigned long long)used);
	} while (!atomic_compare_exchange_weak_explicit(&mp->used, &used, used + len,
							memory_order_relaxed, memory_order_relaxed));
	ma = calloc(1, sizeof(*ma));
	if (!ma) {
		err = ENOMEM;
		_netmem_err(err, "memfd: out of memory");
		goto err_used;
	}
	ma->len = len;
	ma->fd = memfd_create("netmem-area",
			      MFD_CLOEXEC | MFD_ALLOW_SEALING | (mp->huge_size ? MFD_HUGETLB : 0));
	if (ma->fd < 0) {
		err = errno;
		_netmem_err(err, "memfd: memfd_create failed: %s", strerror(err));
		goto err_free;
	}
	if (ftruncate(ma->fd, (off_t)len) < 0) {
		err = errno;
		_netmem_err(err, "memfd: ftruncate to %zu bytes failed: %s", len, strerror(err));
		goto err_close;
	}
	base = map_aligned(ma->fd, len, mp->huge_size ? 0 : s->chunk_size);
	if (base == MAP_FAILED) {
		err = errno;
		if (mp->huge_size)
			_netmem_err(err,
				    "memfd: mapping %zu bytes of huge pages failed: %s (free huge pages: see HugePages_Free in /proc/meminfo, vm.nr_hugepages)",
				    len, strerror(err));
		else
			_netmem_err(err, "memfd: mmap of %zu bytes failed: %s", len, strerror(err));
		goto err_close;
	}
	/* Our writable mapping exists; from now on nobody may add one, nor
	 * change the size. Older kernels lack FUTURE_WRITE: keep the size seals. */
	if (fcntl(ma->fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		fcntl(ma->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	s->cpu_base = base;
	s->priv = ma;
	return 0;
err_close:
	close(ma->fd);
err_free:
	free(ma);
err_used:
	atomic_fetch_sub_explicit(&mp->used, len, memory_order_relaxed);
	return -err;
}

static void memfd_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct memfd_priv *mp = netmem_provider_priv(p);
	struct memfd_area *ma = s->priv;

	/* The memory itself lives on while another process maps or holds it. */
	munmap(s->cpu_base, ma->len);
	close(ma->fd);
	atomic_fetch_sub_explicit(&mp->used, ma->len, memory_order_relaxed);
	free(ma);
	s->cpu_base = NULL;
	s->priv = NULL;
}

static uint64_t memfd_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
			       size_t off)
{
	(void)p;
	(void)s;
	return off;
}

static int memfd_write(struct netmem_provider *p, const struct netmem_area_spec *s,
		       size_t off, const void *src, size_t len)
{
	struct memfd_priv *mp = netmem_provider_priv(p);

	if (atomic_load_explicit(&mp->revoked, memory_order_relaxed))
		return -ENODEV;
	memcpy((char *)s->cpu_base + off, src, len);
	return 0;
}

static int memfd_read(struct netmem_provider *p, const struct netmem_area_spec *s,
		      size_t off, void *dst, size_t len)
{
	struct memfd_priv *mp = netmem_provider_priv(p);

	if (atomic_load_explicit(&mp->revoked, memory_order_relaxed))
		return -ENODEV;
	memcpy(dst, (const char *)s->cpu_base + off, len);
	return 0;
}

static void memfd_revoke(struct netmem_provider *p)
{
	struct memfd_priv *mp = netmem_provider_priv(p);

	/* relaxed: a flag only; the core orders revocation against handles. */
	atomic_store_explicit(&mp->revoked, 1, memory_order_relaxed);
}

static int memfd_area_fd(struct netmem_provider *p, const struct netmem_area_spec *s)
{
	struct memfd_area *ma = s->priv;
	int fd = fcntl(ma->fd, F_DUPFD_CLOEXEC, 0);

	(void)p;
	if (fd < 0)
		return _netmem_err(errno, "memfd: dup of the area's fd failed: %s",
				   strerror(errno));
	return fd;
}

const struct netmem_provider_ops _netmem_memfd_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "memfd",
	.init = memfd_init,
	.fini = memfd_fini,
	.area_create = memfd_area_create,
	.area_destroy = memfd_area_destroy,
	.dma_addr = memfd_dma_addr,
	.write = memfd_write,
	.read = memfd_read,
	.revoke = memfd_revoke,
	.area_fd = memfd_area_fd,
};
