/* SPDX-License-Identifier: MIT */
/*
 * fault: a provider that wraps another one and injects faults: bulk
 * allocations that return nothing or a partial batch, area creations that
 * fail, device-side writes that fail, and a revocation at a random
 * allocation. See include/netmem/fault.h for the spec.
 *
 * The wrapper manages the free space itself (it has alloc_bulk), so it can
 * hold chunks back: with an inner provider that has its own alloc_bulk it
 * asks that one for fewer chunks; otherwise it keeps a free stack per area.
 * Random choices come from a counter hashed with the seed, so they are
 * reproducible for a given sequence of calls and safe from any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "builtin.h"
#include "netmem/fault.h"

#define FAULT_MAX_DEPTH 8

struct fault_priv {
	struct netmem_provider *inner;
	uint64_t every, fail, shrt, area, revoke, wfail, seed;
	_Atomic uint64_t draws; /* random numbers drawn so far */
	_Atomic int injected;	/* the revocation was injected: device dead */
	/* counters, any thread */
	_Atomic uint64_t alloc_calls, alloc_failed, alloc_short;
	_Atomic uint64_t area_calls, area_failed, revokes;
	_Atomic uint64_t write_calls, write_failed;
};

/* Per area: the inner provider's state and, without an inner alloc_bulk,
 * the free stack. Guarded by the area's lock (alloc_bulk/release_bulk). */
struct fault_area {
	void *inner_priv;
	uint32_t *free_idx;
	uint32_t nr_free;
};

static _Thread_local unsigned fault_depth;

/* The inner provider manages its free space itself. */
static bool inner_manages(const struct netmem_provider_ops *iops)
{
	return iops->alloc_bulk && iops->release_bulk;
}

static uint64_t splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint64_t draw(struct fault_priv *fp)
{
	/* relaxed: only uniqueness of the counter value matters. */
	uint64_t n = atomic_fetch_add_explicit(&fp->draws, 1, memory_order_relaxed);

	return splitmix64(fp->seed * UINT64_C(0x100000001b3) + n);
}

/* True with probability 1/n (never for n == 0). */
static bool one_in(struct fault_priv *fp, uint64_t n)
{
	return n && draw(fp) % n == 0;
}

static void count(_Atomic uint64_t *c)
{
	/* relaxed: statistics only, no ordering needed. */
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int parse_u64(const char *key, const char *val, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*val || *val < '0' || *val > '9')
		return _netmem_err(EINVAL, "fault: %s '%s' is not a number", key, val);
	errno = 0;
	v = strtoull(val, &end, 10);
	if (errno || *end)
		return _netmem_err(EINVAL, "fault: %s '%s' is not a number", key, val);
	*out = v;
	return 0;
}

static int fault_init(struct netmem_provider *p, const char *args)
{
	struct fault_priv *fp;
	const char *inner = "host";
	char key[32], val[32];
	uint64_t v[7] = {0, 0, 0, 0, 0, 0, 1};
	static const char *const keys[7] = {"every",  "fail",  "short", "area",
					    "revoke", "wfail", "seed"};
	int ret;

	while (*args) {
		unsigned k;

		if (!strncmp(args, "inner=", 6)) {
			inner = args + 6;
			if (!*inner)
				return _netmem_err(EINVAL, "fault: empty inner spec");
			break;
		}
		ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val));
		if (ret < 0)
			return ret;
		for (k = 0; k < 7; k++)
			if (!strcmp(key, keys[k]))
				break;
		if (k == 7)
			return _netmem_err(
			    EINVAL,
			    "fault: unknown key '%s' (known: every, fail, short, area, "
			    "revoke, wfail, seed, inner)",
			    key);
		ret = parse_u64(key, val, &v[k]);
		if (ret < 0)
			return ret;
	}
	if (fault_depth >= FAULT_MAX_DEPTH)
		return _netmem_err(EINVAL, "fault: wrappers nested more than %d deep",
				   FAULT_MAX_DEPTH);
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return _netmem_err(ENOMEM, "fault: out of memory");
	fault_depth++;
	fp->inner = netmem_provider_create(inner);
	fault_depth--;
	if (!fp->inner) {
		ret = errno;
		free(fp);
		/* netmem_last_error() still says why the inner spec failed. */
		return -(ret ? ret : EINVAL);
	}
	fp->every = v[0];
	fp->fail = v[1];
	fp->shrt = v[2];
	fp->area = v[3];
	fp->revoke = v[4];
	fp->wfail = v[5];
	fp->seed = v[6];
	netmem_provider_set_priv(p, fp);
	return netmem_provider_set_default_order(
	    p, (unsigned)netmem_provider_default_order(fp->inner));
}

static void fault_fini(struct netmem_provider *p)
{
	struct fault_priv *fp = netmem_provider_priv(p);

	netmem_provider_destroy(fp->inner);
	free(fp);
}

/* The inner provider's view of an area: our spec with its own priv. */
static struct netmem_area_spec inner_spec(const struct netmem_area_spec *s)
{
	struct netmem_area_spec in = *s;

	in.priv = ((struct fault_area *)s->priv)->inner_priv;
	return in;
}

static int fault_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	const struct netmem_provider_ops *iops = netmem_provider_ops(fp->inner);
	uint64_t n = atomic_fetch_add_explicit(&fp->area_calls, 1, memory_order_relaxed) + 1;
	struct netmem_area_spec in = *s;
	struct fault_area *fa;
	int ret;

	if (fp->area && n % fp->area == 0) {
		count(&fp->area_failed);
		return _netmem_err(ENOMEM,
				   "fault: area creation %llu failed on purpose (area=%llu)",
				   (unsigned long long)n, (unsigned long long)fp->area);
	}
	fa = calloc(1, sizeof(*fa));
	if (!fa)
		return _netmem_err(ENOMEM, "fault: out of memory");
	if (!inner_manages(iops)) {
		fa->free_idx = malloc(s->nr_chunks * sizeof(*fa->free_idx));
		if (!fa->free_idx) {
			free(fa);
			return _netmem_err(ENOMEM, "fault: no memory for %zu chunk indices",
					   s->nr_chunks);
		}
		/* Pop order = ascending addresses, as the library's own stack. */
		for (size_t i = 0; i < s->nr_chunks; i++)
			fa->free_idx[i] = (uint32_t)(s->nr_chunks - 1 - i);
		fa->nr_free = (uint32_t)s->nr_chunks;
	}
	in.priv = NULL;
	ret = iops->area_create(fp->inner, &in);
	if (ret < 0) {
		free(fa->free_idx);
		free(fa);
		return ret;
	}
	fa->inner_priv = in.priv;
	s->cpu_base = in.cpu_base;
	s->priv = fa;
	return 0;
}

static void fault_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	struct fault_area *fa = s->priv;
	struct netmem_area_spec in = inner_spec(s);

	netmem_provider_ops(fp->inner)->area_destroy(fp->inner, &in);
	free(fa->free_idx);
	free(fa);
	s->cpu_base = NULL;
	s->priv = NULL;
}

static uint64_t fault_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
			       size_t off)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	struct netmem_area_spec in = inner_spec(s);

	return netmem_provider_ops(fp->inner)->dma_addr(fp->inner, &in, off);
}

static int fault_write(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		       const void *src, size_t len)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	struct netmem_area_spec in = inner_spec(s);

	count(&fp->write_calls);
	if (one_in(fp, fp->wfail)) {
		count(&fp->write_failed);
		return _netmem_err(EIO, "fault: device write failed on purpose");
	}
	return netmem_provider_ops(fp->inner)->write(fp->inner, &in, off, src, len);
}

static int fault_read(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		      void *dst, size_t len)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	const struct netmem_provider_ops *iops = netmem_provider_ops(fp->inner);
	struct netmem_area_spec in = inner_spec(s);

	if (!iops->read)
		return -EOPNOTSUPP;
	return iops->read(fp->inner, &in, off, dst, len);
}

/* The inner provider's memory as a file descriptor, where it has one. */
static int fault_area_fd(struct netmem_provider *p, const struct netmem_area_spec *s)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	const struct netmem_provider_ops *iops = netmem_provider_ops(fp->inner);
	struct netmem_area_spec in = inner_spec(s);

	if (!_NETMEM_OPS_HAS(iops, area_fd))
		return _netmem_err(EOPNOTSUPP,
				   "area fd: provider fault's inner %s has no file descriptor for its "
				   "memory",
				   iops->name);
	return iops->area_fd(fp->inner, &in);
}

static void *revoker(void *arg)
{
	struct netmem_provider *p = arg;

	netmem_provider_revoke(p);
	_netmem_provider_put(p); /* may be the last reference: then p is gone */
	return NULL;
}

/*
 * Revoke p from another thread: we run under an area's lock, and revoking
 * takes the provider's lock and then each area's. The thread holds its own
 * reference on p. Without a thread the device just stays dead (every
 * allocation fails), which is still a fault the pool must survive.
 */
static void inject_revoke(struct netmem_provider *p)
{
	pthread_attr_t attr;
	pthread_t th;

	_netmem_provider_get(p); /* our caller's area holds one: p is alive */
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &attr, revoker, p) == 0) {
			pthread_attr_destroy(&attr);
			return;
		}
		pthread_attr_destroy(&attr);
	}
	_netmem_provider_put(p); /* not the last: the area's is still there */
}

/* Called under the area's lock. */
static unsigned fault_alloc_bulk(struct netmem_provider *p, const struct netmem_area_spec *s,
				 uint32_t *idx, unsigned n)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	const struct netmem_provider_ops *iops = netmem_provider_ops(fp->inner);
	struct fault_area *fa = s->priv;
	uint64_t c = atomic_fetch_add_explicit(&fp->alloc_calls, 1, memory_order_relaxed) + 1;
	unsigned m = n;

	if (atomic_load_explicit(&fp->injected, memory_order_acquire)) {
		/* The device is gone (its revocation may still be on its way):
		 * nothing more comes out of it. */
		count(&fp->alloc_failed);
		return 0;
	}
	/* relaxed exchange: only one caller may inject the revocation. */
	if (one_in(fp, fp->revoke) &&
	    !atomic_exchange_explicit(&fp->injected, 1, memory_order_relaxed)) {
		count(&fp->revokes);
		inject_revoke(p);
		count(&fp->alloc_failed);
		return 0;
	}
	if ((fp->every && c % fp->every == 0) || one_in(fp, fp->fail)) {
		count(&fp->alloc_failed);
		return 0;
	}
	if (n > 1 && one_in(fp, fp->shrt)) {
		m = 1 + (unsigned)(draw(fp) % (n - 1));
		count(&fp->alloc_short);
	}
	if (inner_manages(iops)) {
		struct netmem_area_spec in = inner_spec(s);

		return iops->alloc_bulk(fp->inner, &in, idx, m);
	}
	if (m > fa->nr_free)
		m = fa->nr_free;
	for (unsigned i = 0; i < m; i++)
		idx[i] = fa->free_idx[--fa->nr_free];
	return m;
}

/* Called under the area's lock. */
static void fault_release_bulk(struct netmem_provider *p, const struct netmem_area_spec *s,
			       const uint32_t *idx, unsigned n)
{
	struct fault_priv *fp = netmem_provider_priv(p);
	const struct netmem_provider_ops *iops = netmem_provider_ops(fp->inner);
	struct fault_area *fa = s->priv;

	if (inner_manages(iops)) {
		struct netmem_area_spec in = inner_spec(s);

		iops->release_bulk(fp->inner, &in, idx, n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		fa->free_idx[fa->nr_free++] = idx[i];
}

static void fault_revoke(struct netmem_provider *p)
{
	struct fault_priv *fp = netmem_provider_priv(p);

	netmem_provider_revoke(fp->inner);
}

const struct netmem_provider_ops _netmem_fault_ops = {
    .size = sizeof(struct netmem_provider_ops),
    .name = "fault",
    .init = fault_init,
    .fini = fault_fini,
    .area_create = fault_area_create,
    .area_destroy = fault_area_destroy,
    .dma_addr = fault_dma_addr,
    .write = fault_write,
    .read = fault_read,
    .alloc_bulk = fault_alloc_bulk,
    .release_bulk = fault_release_bulk,
    .revoke = fault_revoke,
    .area_fd = fault_area_fd,
};

static struct fault_priv *fault_of(const struct netmem_provider *p)
{
	if (!p || netmem_provider_ops(p) != &_netmem_fault_ops)
		return NULL;
	return netmem_provider_priv(p);
}

int netmem_fault_stats(const struct netmem_provider *p, struct netmem_fault_stats *st)
{
	struct fault_priv *fp = fault_of(p);

	if (!fp || !st)
		return -EINVAL;
#define L(x) atomic_load_explicit(&fp->x, memory_order_relaxed)
	*st = (struct netmem_fault_stats){
	    .alloc_calls = L(alloc_calls),
	    .alloc_failed = L(alloc_failed),
	    .alloc_short = L(alloc_short),
	    .area_calls = L(area_calls),
	    .area_failed = L(area_failed),
	    .revokes = L(revokes),
	    .write_calls = L(write_calls),
	    .write_failed = L(write_failed),
	};
#undef L
	return 0;
}

struct netmem_provider *netmem_fault_inner(const struct netmem_provider *p)
{
	struct fault_priv *fp = fault_of(p);

	if (!fp) {
		errno = EINVAL;
		return NULL;
	}
	return fp->inner;
}
