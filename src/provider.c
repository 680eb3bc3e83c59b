/* SPDX-License-Identifier: MIT */
/*
 * Provider registry (by name, like DPDK's mempool ops), spec strings, and
 * provider instances with their revocation.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "providers/builtin.h"

#define MAX_PROVIDER_TYPES 32

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct netmem_provider_ops *registry[MAX_PROVIDER_TYPES];
static unsigned nr_registered;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static int valid_name(const char *name)
{
	size_t n = 0;

	if (!name || !*name)
		return 0;
	for (; name[n]; n++)
		if (!isalnum((unsigned char)name[n]) && name[n] != '_' && name[n] != '-')
			return 0;
	return n < sizeof(((struct netmem_provider *)0)->name);
}

static int register_locked(const struct netmem_provider_ops *ops)
{
	if (!ops || ops->size < offsetof(struct netmem_provider_ops, default_order) ||
	    ops->size > sizeof(*ops))
		return _netmem_err(EINVAL, "provider ops: NULL table or bad size field");
	if (!valid_name(ops->name))
		return _netmem_err(EINVAL, "provider ops: bad name");
	if (!ops->area_create || !ops->area_destroy || !ops->dma_addr || !ops->write)
		return _netmem_err(EINVAL,
				   "provider %s: area_create, area_destroy, dma_addr and write are required",
				   ops->name);
	if (ops->size >= offsetof(struct netmem_provider_ops, default_order) +
				 sizeof(ops->default_order) &&
	    ops->default_order > NETMEM_MAX_ORDER)
		return _netmem_err(EINVAL, "provider %s: default_order %u, want 0..%d", ops->name,
				   ops->default_order, NETMEM_MAX_ORDER);
	/* Each half alone would split the free space in two (chunks handed
	 * out twice, or never again). */
	if (!ops->alloc_bulk != !ops->release_bulk)
		return _netmem_err(EINVAL, "provider %s: alloc_bulk and release_bulk go together",
				   ops->name);
	for (unsigned i = 0; i < nr_registered; i++)
		if (!strcmp(registry[i]->name, ops->name))
			return _netmem_err(EEXIST, "provider %s: already registered", ops->name);
	if (nr_registered == MAX_PROVIDER_TYPES)
		return _netmem_err(ENOSPC, "provider registry full");
	registry[nr_registered++] = ops;
	return 0;
}

static void register_builtins(void)
{
	for (const struct netmem_provider_ops *const *o = _netmem_builtin_providers; *o; o++)
		register_locked(*o);
}

int netmem_provider_register(const struct netmem_provider_ops *ops)
{
	int ret;

	pthread_once(&builtin_once, register_builtins);
	pthread_mutex_lock(&registry_lock);
	ret = register_locked(ops);
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

const struct netmem_provider_ops *netmem_provider_lookup(const char *name)
{
	const struct netmem_provider_ops *ops = NULL;

	if (!name)
		return NULL;
	pthread_once(&builtin_once, register_builtins);
	pthread_mutex_lock(&registry_lock);
	for (unsigned i = 0; i < nr_registered; i++)
		if (!strcmp(registry[i]->name, name)) {
			ops = registry[i];
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	return ops;
}

void netmem_provider_foreach(void (*fn)(const struct netmem_provider_ops *, void *),
			     void *arg)
{
	const struct netmem_provider_ops *copy[MAX_PROVIDER_TYPES];
	unsigned n;

	if (!fn)
		return;
	pthread_once(&builtin_once, register_builtins);
	pthread_mutex_lock(&registry_lock);
	n = nr_registered;
	memcpy(copy, registry, n * sizeof(copy[0]));
	pthread_mutex_unlock(&registry_lock);
	for (unsigned i = 0; i < n; i++)
		fn(copy[i], arg);
}

int netmem_spec_next(const char **args, char *key, size_t keylen, char *val,
		     size_t vallen)
{
	const char *s, *eq, *end;
	size_t kl, vl;

	if (!args || !*args || !key || !val || !keylen || !vallen)
		return -EINVAL;
	s = *args;
	if (!*s)
		return 0;
	end = strchr(s, ',');
	if (!end)
		end = s + strlen(s);
	eq = memchr(s, '=', (size_t)(end - s));
	if (!eq || eq == s || eq + 1 == end)
		return _netmem_err(EINVAL, "spec: expected key=value, got '%.*s'",
				   (int)(end - s), s);
	kl = (size_t)(eq - s);
	vl = (size_t)(end - eq - 1);
	if (kl >= keylen || vl >= vallen)
		return _netmem_err(EINVAL, "spec: key or value too long in '%.*s'",
				   (int)(end - s), s);
	memcpy(key, s, kl);
	key[kl] = 0;
	memcpy(val, eq + 1, vl);
	val[vl] = 0;
	*args = *end ? end + 1 : end;
	if (*end && !**args)
		return _netmem_err(EINVAL, "spec: trailing ','");
	return 1;
}

int netmem_spec_uint(const char *prov, const char *key, const char *val,
		     unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *c = val;

	if (!prov || !key || !val || !out)
		return -EINVAL;
	/* Digits only: no sign, no blanks, no base prefix; v*10+d <= max. */
	for (; *c >= '0' && *c <= '9'; c++) {
		unsigned long d = (unsigned long)(*c - '0');

		if (d > max || v > (max - d) / 10)
			break;
		v = v * 10 + d;
	}
	if (c == val || *c)
		return _netmem_err(EINVAL, "%s: %s '%s' is not 0..%lu", prov, key, val, max);
	*out = v;
	return 0;
}

int netmem_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || !out || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10); /* decimal: no octal or hex guessing */
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -EINVAL;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

struct netmem_provider *netmem_provider_create(const char *spec)
{
	const struct netmem_provider_ops *ops;
	struct netmem_provider *p;
	char name[32];
	const char *colon, *args;
	size_t nl;
	int ret;

	if (!spec || !*spec) {
		errno = -_netmem_err(EINVAL, "provider spec: empty");
		return NULL;
	}
	colon = strchr(spec, ':');
	nl = colon ? (size_t)(colon - spec) : strlen(spec);
	args = colon ? colon + 1 : "";
	if (nl == 0 || nl >= sizeof(name)) {
		errno = -_netmem_err(EINVAL, "provider spec '%s': bad provider name", spec);
		return NULL;
	}
	memcpy(name, spec, nl);
	name[nl] = 0;
	if (colon && !*args) {
		errno = -_netmem_err(EINVAL, "provider spec '%s': nothing after ':'", spec);
		return NULL;
	}
	ops = netmem_provider_lookup(name);
	if (!ops) {
		errno = -_netmem_err(ENOENT, "provider spec '%s': no provider named '%s'",
				     spec, name);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = -_netmem_err(ENOMEM, "provider %s: out of memory", name);
		return NULL;
	}
	p->ops = ops;
	/* default_order came after the first tables: a shorter one has none. */
	atomic_init(&p->order,
		    ops->size >= offsetof(struct netmem_provider_ops, default_order) +
					 sizeof(ops->default_order) &&
			    ops->default_order <= NETMEM_MAX_ORDER
			? ops->default_order
			: 0);
	atomic_init(&p->refs, 1);
	atomic_init(&p->revoked, 0);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->hook_cv, NULL);
	strcpy(p->name, name);
	if (ops->init) {
		unsigned mark = _netmem_err_mark();

		ret = ops->init(p, args);
		if (ret < 0) {
			_netmem_err_fallback(mark, -ret, name, "init");
			pthread_cond_destroy(&p->hook_cv);
			pthread_mutex_destroy(&p->lock);
			free(p);
			errno = -ret;
			return NULL;
		}
	} else if (*args) {
		pthread_cond_destroy(&p->hook_cv);
		pthread_mutex_destroy(&p->lock);
		free(p);
		errno = -_netmem_err(EINVAL, "provider %s takes no arguments", name);
		return NULL;
	}
	return p;
}

void _netmem_provider_get(struct netmem_provider *p)
{
	/* Only called while the caller already holds a reference. */
	atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
}

void _netmem_provider_put(struct netmem_provider *p)
{
	/* acq_rel: the last putter must see every other holder's writes. */
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (p->ops->fini)
		p->ops->fini(p);
	pthread_cond_destroy(&p->hook_cv);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void netmem_provider_destroy(struct netmem_provider *p)
{
	if (p)
		_netmem_provider_put(p);
}

void _netmem_provider_link(struct netmem_provider *p, struct netmem_area *a)
{
	pthread_mutex_lock(&p->lock);
	a->next = p->areas;
	p->areas = a;
	/* Under the lock, so revoke either sees this area or we see revoked. */
	if (atomic_load_explicit(&p->revoked, memory_order_relaxed))
		atomic_store_explicit(&a->hdr.revoked, 1, memory_order_release);
	pthread_mutex_unlock(&p->lock);
}

void _netmem_provider_unlink(struct netmem_provider *p, struct netmem_area *a)
{
	pthread_mutex_lock(&p->lock);
	for (struct netmem_area **pp = &p->areas; *pp; pp = &(*pp)->next)
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	pthread_mutex_unlock(&p->lock);
}

int netmem_provider_revoke(struct netmem_provider *p)
{
	int was;

	if (!p)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	/* The areas first, then the provider: a thread that sees the provider
	 * revoked (netmem_provider_is_revoked(), acquire) then sees every one
	 * of its areas revoked too, so the next poll of any of its pools
	 * notices. New areas are made under p->lock and check the flag. */
	for (struct netmem_area *a = p->areas; a; a = a->next) {
		atomic_store_explicit(&a->hdr.revoked, 1, memory_order_release);
		/* An area with every chunk free would otherwise stay mapped
		 * until its pool is destroyed. p->lock keeps `a` alive. */
		_netmem_area_revoked(a);
	}
	/* release: orders the area flags (and the provider's state) before. */
	was = atomic_exchange_explicit(&p->revoked, 1, memory_order_acq_rel);
	/* The hook runs outside the lock; the caller may hold no reference of
	 * its own (only pools keep p alive), and the last pool may go while
	 * the hook runs: hold p until it returns. Taken under the lock, while
	 * the areas (or the caller) still hold it. */
	_netmem_provider_get(p);
	if (was) {
		/* Another thread revoked first: return only once its hook has
		 * stopped device access, as for the first caller. Not from
		 * inside the hook itself (it would wait for its own return). */
		while (!p->hook_done && p->hook_thread != (uintptr_t)_netmem_self())
			pthread_cond_wait(&p->hook_cv, &p->lock);
		pthread_mutex_unlock(&p->lock);
	} else {
		p->hook_thread = (uintptr_t)_netmem_self();
		pthread_mutex_unlock(&p->lock);
		if (p->ops->revoke)
			p->ops->revoke(p);
		pthread_mutex_lock(&p->lock);
		p->hook_done = true;
		pthread_cond_broadcast(&p->hook_cv);
		pthread_mutex_unlock(&p->lock);
	}
	_netmem_provider_put(p);
	return 0;
}

int netmem_provider_is_revoked(const struct netmem_provider *p)
{
	if (!p)
		return -EINVAL;
	return atomic_load_explicit(&((struct netmem_provider *)p)->revoked,
				    memory_order_acquire) != 0;
}

const char *netmem_provider_name(const struct netmem_provider *p)
{
	return p ? p->name : NULL;
}

const struct netmem_provider_ops *netmem_provider_ops(const struct netmem_provider *p)
{
	return p ? p->ops : NULL;
}

void netmem_provider_set_priv(struct netmem_provider *p, void *priv)
{
	if (p)
		p->priv = priv;
}

void *netmem_provider_priv(const struct netmem_provider *p)
{
	return p ? p->priv : NULL;
}

unsigned netmem_provider_nr_areas(const struct netmem_provider *p)
{
	if (!p)
		return 0;
	return atomic_load_explicit(&((struct netmem_provider *)p)->nr_mapped,
				    memory_order_acquire);
}

int netmem_provider_set_default_order(struct netmem_provider *p, unsigned order)
{
	if (!p || order > NETMEM_MAX_ORDER)
		return -EINVAL;
	atomic_store_explicit(&p->order, order, memory_order_relaxed);
	return 0;
}

int netmem_provider_default_order(const struct netmem_provider *p)
{
	return p ? (int)atomic_load_explicit(&((struct netmem_provider *)p)->order,
					     memory_order_relaxed)
		 : -EINVAL;
}
