/* SPDX-License-Identifier: MIT */
/*
 * Memory providers: the exporters of the memory behind a pool.
 *
 * A provider *type* is a const table of operations registered under a name
 * (netmem_provider_register). A provider *instance* is made from a spec
 * string, "NAME" or "NAME:key=value,key=value" (netmem_provider_create), and
 * creates areas: ranges of its memory cut into equal chunks of
 * 4 KiB << order. The library keeps every chunk's descriptor in host memory
 * and never reads or writes chunk bytes except through the type's write
 * operation, on behalf of a driver that emulates a device's DMA.
 *
 * Built-in types and their keys (docs/providers.md has the details):
 *   host      anonymous memory; order=0..9 (default 0: 4 KiB chunks), thp=0|1
 *   hugetlb   MAP_HUGETLB memory; order= (default 9: 2 MiB)
 *   memfd     a sealed memfd per area, shareable; size=BYTES, huge=1, order=
 *   devsim    device memory the CPU cannot read (emulated); order=
 *   dmabuf    an imported dma-buf; fd=N, ...
 *   cuda      GPU memory (built with the CUDA toolkit); device=N, ...
 *   fault     wraps another provider and misbehaves on purpose (fault.h)
 * `netmem providers` lists what a build has.
 *
 * Thread safety: all functions here may be called from any thread.
 */
#ifndef NETMEM_PROVIDER_H
#define NETMEM_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_provider;

/* What area_create is asked for and what it answers. */
struct netmem_area_spec {
	/* in */
	unsigned order;      /* chunk size is 4 KiB << order */
	size_t nr_chunks;    /* number of chunks */
	size_t chunk_size;   /* 4 KiB << order */
	size_t size;         /* nr_chunks * chunk_size */
	/* out */
	void *cpu_base;      /* CPU address of byte 0, NULL if unreadable */
	void *priv;          /* the provider's per-area state */
};

/*
 * Operations of a provider type. Start with .size = sizeof(struct
 * netmem_provider_ops) so the table can grow. Required: name, area_create,
 * area_destroy, dma_addr, write. The others may be NULL. Operations that
 * return int return 0 or a negative errno (a positive value counts as
 * success), and say why with netmem_set_error() (an init or area_create
 * that does not gets the library's message naming it and the errno).
 */
struct netmem_provider_ops {
	size_t size;
	const char *name;
	/* Parse "key=value,..." (may be ""), set up state with
	 * netmem_provider_set_priv(). Unknown keys: -EINVAL with
	 * netmem_set_error(). When it fails, fini is not called: free what
	 * it made first. */
	int (*init)(struct netmem_provider *p, const char *args);
	void (*fini)(struct netmem_provider *p);
	/* Map memory for an area; must fill spec->cpu_base (or NULL). */
	int (*area_create)(struct netmem_provider *p, struct netmem_area_spec *spec);
	void (*area_destroy)(struct netmem_provider *p, struct netmem_area_spec *spec);
	/* Device address of byte `off` of the area; called once per chunk. */
	uint64_t (*dma_addr)(struct netmem_provider *p,
			     const struct netmem_area_spec *spec, size_t off);
	/* Device-side write/read of area bytes (a device's DMA). Their
	 * errors reach netmem_dev_write()/read() callers and the receive path
	 * (drop_fault) as they are. */
	int (*write)(struct netmem_provider *p, const struct netmem_area_spec *spec,
		     size_t off, const void *src, size_t len);
	int (*read)(struct netmem_provider *p, const struct netmem_area_spec *spec,
		    size_t off, void *dst, size_t len);
	/* Optional, both or neither (registration refuses one alone): the
	 * provider manages the free space itself. Take up to n free chunk
	 * indices into idx (return how many, at most n), or give n back.
	 * Called under the area's lock, in batches of up to 64. Without them
	 * the library keeps a free stack. */
	unsigned (*alloc_bulk)(struct netmem_provider *p,
			       const struct netmem_area_spec *spec, uint32_t *idx,
			       unsigned n);
	void (*release_bulk)(struct netmem_provider *p,
			     const struct netmem_area_spec *spec,
			     const uint32_t *idx, unsigned n);
	/* The device is going away: stop device access. Memory stays mapped
	 * until the last chunk comes back (area_destroy). */
	void (*revoke)(struct netmem_provider *p);
	/* Chunk order of pools that do not ask for one, unless init sets
	 * another with netmem_provider_set_default_order(). */
	unsigned default_order;
	/* Optional, appended in 0.1: a new file descriptor for the area's
	 * memory (a memfd, a dma-buf), for passing to another process or
	 * device; the caller closes it. Absent: netmem_pool_area_fd() says
	 * -EOPNOTSUPP. */
	int (*area_fd)(struct netmem_provider *p, const struct netmem_area_spec *spec);
};

/*
 * Register a provider type. The table must outlive the process's use of it.
 * Returns 0; -EINVAL (NULL table, bad size, a required operation missing,
 * only one of alloc_bulk and release_bulk, default_order above
 * NETMEM_MAX_ORDER, a name that is not 1..31 of [A-Za-z0-9_-]), -EEXIST
 * (name taken), -ENOSPC (registry full).
 */
int netmem_provider_register(const struct netmem_provider_ops *ops);

/* Look up a registered type by name; NULL if none. */
const struct netmem_provider_ops *netmem_provider_lookup(const char *name);

/* Call fn for every registered type, in registration order. */
void netmem_provider_foreach(void (*fn)(const struct netmem_provider_ops *ops,
					void *arg),
			     void *arg);

/*
 * Create a provider instance from a spec string. Returns NULL and sets errno:
 * EINVAL (NULL, empty, malformed, unknown key or bad value), ENOENT (no such
 * provider type), ENOMEM, or what the type's init returns. The reason is in
 * netmem_last_error().
 */
struct netmem_provider *netmem_provider_create(const char *spec);

/*
 * Drop the creator's reference. The instance lives on while areas made from
 * it exist. Safe on NULL.
 */
void netmem_provider_destroy(struct netmem_provider *p);

/*
 * The device behind the provider is going away. Afterwards every handle into
 * its memory reads as revoked, pools stop handing out its chunks (each owner
 * notices at its next netmem_pool_poll() or slow path), chunks may still be
 * put and are then freed, and the memory is released when the last chunk is
 * back. Idempotent: every caller returns after the provider's revoke hook
 * has returned (a later one waits for it), except a call from inside the
 * hook; so a hook must not wait for another thread that revokes the same
 * provider. Returns 0, -EINVAL (NULL).
 */
int netmem_provider_revoke(struct netmem_provider *p);

/* 1 when revoked, 0 when not, -EINVAL on NULL. */
int netmem_provider_is_revoked(const struct netmem_provider *p);

const char *netmem_provider_name(const struct netmem_provider *p);
const struct netmem_provider_ops *netmem_provider_ops(const struct netmem_provider *p);

/* Chunk order a pool gets when its params say -1. 0, or -EINVAL (NULL,
 * order outside 0..9). */
int netmem_provider_set_default_order(struct netmem_provider *p, unsigned order);
int netmem_provider_default_order(const struct netmem_provider *p);

/* For provider implementations: per-instance state. */
void netmem_provider_set_priv(struct netmem_provider *p, void *priv);
void *netmem_provider_priv(const struct netmem_provider *p);

/* Number of areas of this instance whose memory is still mapped. */
unsigned netmem_provider_nr_areas(const struct netmem_provider *p);

/*
 * Walk "key=value,key=value" argument strings: copies the next key and value
 * (NUL-terminated) and advances *args. Returns 1 when a pair was read, 0 at
 * the end, -EINVAL on a malformed pair or a key or value longer than its
 * buffer holds.
 */
int netmem_spec_next(const char **args, char *key, size_t keylen, char *val,
		     size_t vallen);

/*
 * For providers' init: parse `val`, the value of `key` in provider `prov`'s
 * spec, as a decimal integer 0..max into *out. 0, or -EINVAL with the
 * message "PROV: KEY 'VAL' is not 0..MAX" in netmem_last_error().
 */
int netmem_spec_uint(const char *prov, const char *key, const char *val,
		     unsigned long max, unsigned long *out);

/* Parse a decimal size with optional K/M/G suffix. 0 or -EINVAL. */
int netmem_parse_size(const char *s, uint64_t *out);

/* Thread-local text of the last error a netmem call reported. */
const char *netmem_last_error(void);
/* For providers: set that text (printf-style). */
void netmem_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif
#endif
