/* SPDX-License-Identifier: MIT */
/* netmem_pool_area_fd(): an area's memory as a file descriptor. */
#include <errno.h>
#include <stddef.h>

#include "internal.h"

int netmem_pool_area_fd(struct netmem_pool *pool)
{
	struct netmem_area *a;
	const struct netmem_provider_ops *ops;
	int ret;

	if (!pool)
		return _netmem_err(EINVAL, "area fd: NULL pool");
	a = pool->area;
	ops = a->prov->ops;
	/* Under the area lock: the memory cannot be released under us. A
	 * revoke answers first, so that a wrapper (fault) and what it wraps
	 * answer alike. */
	pthread_mutex_lock(&a->lock);
	if (!a->mapped || atomic_load_explicit(&a->hdr.revoked, memory_order_acquire))
		ret = _netmem_err(ENODEV, "area fd: provider %s was revoked", a->prov->name);
	else if (!_NETMEM_OPS_HAS(ops, area_fd))
		ret = _netmem_err(EOPNOTSUPP,
				  "area fd: provider %s has no file descriptor for its memory",
				  a->prov->name);
	else
		ret = ops->area_fd(a->prov, &a->spec);
	pthread_mutex_unlock(&a->lock);
	return ret;
}
