/* SPDX-License-Identifier: MIT */
/* The provider types netmem registers at start-up. */
#ifndef NETMEM_PROVIDERS_BUILTIN_H
#define NETMEM_PROVIDERS_BUILTIN_H

#include "netmem/provider.h"

extern const struct netmem_provider_ops _netmem_host_ops;
extern const struct netmem_provider_ops _netmem_fault_ops;
extern const struct netmem_provider_ops _netmem_hugetlb_ops;
extern const struct netmem_provider_ops _netmem_memfd_ops;
extern const struct netmem_provider_ops _netmem_devsim_ops;
extern const struct netmem_provider_ops _netmem_dmabuf_ops;
#ifdef NETMEM_HAVE_CUDA
extern const struct netmem_provider_ops _netmem_cuda_ops;
#endif

/* NULL-terminated, in registration order. */
extern const struct netmem_provider_ops *const _netmem_builtin_providers[];

#endif
