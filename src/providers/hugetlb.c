/* SPDX-License-Identifier: MIT */
/*
 * hugetlb: 2 MiB huge pages from the kernel's reserved pool (MAP_HUGETLB).
 * The default chunk is one huge page (order 9); smaller orders carve huge
 * pages into chunks, so an area is rounded up to whole 2 MiB pages. The
 * device address of a byte is its virtual address, as for host memory.
 *
 * Huge pages must be reserved by the administrator beforehand
 * (vm.nr_hugepages). Where too few are free, area creation fails with
 * ENOMEM and a message that says how to reserve them; nothing is left
 * mapped. Private mappings reserve their pages at mmap time, so a
 * successful area cannot fail later on first touch.
 *
 * Spec: "hugetlb", "hugetlb:order=N" (0..9).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../internal.h"
#include "builtin.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

#define HUGE_SIZE ((size_t)2 << 20)

struct hugetlb_area {
	void *base;
	size_t len; /* whole huge pages */
};

static int hugetlb_init(struct netmem_provider *p, const char *args)
{
	char key[32], val[64];
	unsigned order = 9;
	int ret;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (strcmp(key, "order"))
			return _netmem_err(EINVAL, "hugetlb: unknown key '%s' (known: order)", key);
		if (netmem_spec_uint("hugetlb", key, val, NETMEM_MAX_ORDER, &v))
			return -EINVAL;
		order = (unsigned)v;
	}
	if (ret < 0)
		return ret;
	return netmem_provider_set_default_order(p, order);
}

/* HugePages_Free and HugePages_Total from /proc/meminfo; -1 when unknown. */
static void huge_counts(long *free_pages, long *total)
{
	char line[128];
	FILE *f = fopen("/proc/meminfo", "re");

	*free_pages = *total = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "HugePages_Total: %ld", total);
		sscanf(line, "HugePages_Free: %ld", free_pages);
	}
	fclose(f);
}

static int hugetlb_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct hugetlb_area *ha;
	size_t len, pages;
	void *base;

	(void)p;
	if (s->size / s->nr_chunks != s->chunk_size || s->size > SIZE_MAX - HUGE_SIZE)
		return _netmem_err(ENOMEM, "hugetlb: area of %zu chunks of %zu bytes is too large",
				   s->nr_chunks, s->chunk_size);
	len = (s->size + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	pages = len / HUGE_SIZE;
	ha = calloc(1, sizeof(*ha));
	if (!ha)
		return _netmem_err(ENOMEM, "hugetlb: out of memory");
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	if (base == MAP_FAILED) {
		int err = errno;
		long nfree, total, want;

		free(ha);
		huge_counts(&nfree, &total);
		want = (total > 0 ? total : 0) + (long)pages - (nfree > 0 ? nfree : 0);
		if (err == ENOMEM || err == EINVAL)
			return _netmem_err(ENOMEM,
					   "hugetlb: cannot map %zu huge page%s of 2 MiB (%ld free, %ld reserved): "
					   "reserve them first, e.g. 'sysctl vm.nr_hugepages=%ld' or "
					   "'echo %ld > /proc/sys/vm/nr_hugepages' as root",
					   pages, pages == 1 ? "" : "s", nfree, total, want, want);
		return _netmem_err(err, "hugetlb: mmap of %zu bytes failed: %s", len, strerror(err));
	}
	ha->base = base;
	ha->len = len;
	s->cpu_base = base;
	s->priv = ha;
	return 0;
}

static void hugetlb_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct hugetlb_area *ha = s->priv;

	(void)p;
	munmap(ha->base, ha->len);
	free(ha);
	s->cpu_base = NULL;
	s->priv = NULL;
}

static uint64_t hugetlb_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
				 size_t off)
{
	(void)p;
	return (uint64_t)(uintptr_t)s->cpu_base + off;
}

static int hugetlb_write(struct netmem_provider *p, const struct netmem_area_spec *s,
			 size_t off, const void *src, size_t len)
{
	(void)p;
	memcpy((char *)s->cpu_base + off, src, len);
	return 0;
}

static int hugetlb_read(struct netmem_provider *p, const struct netmem_area_spec *s,
			size_t off, void *dst, size_t len)
{
	(void)p;
	memcpy(dst, (const char *)s->cpu_base + off, len);
	return 0;
}

const struct netmem_provider_ops _netmem_hugetlb_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "hugetlb",
	.init = hugetlb_init,
	.area_create = hugetlb_area_create,
	.area_destroy = hugetlb_area_destroy,
	.dma_addr = hugetlb_dma_addr,
	.write = hugetlb_write,
	.read = hugetlb_read,
	.default_order = 9,
};
