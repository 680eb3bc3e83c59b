/* SPDX-License-Identifier: MIT */
#include "builtin.h"

const struct netmem_provider_ops *const _netmem_builtin_providers[] = {
	&_netmem_host_ops,
	&_netmem_fault_ops,
	&_netmem_hugetlb_ops,
	&_netmem_memfd_ops,
	&_netmem_devsim_ops,
	&_netmem_dmabuf_ops,
#ifdef NETMEM_HAVE_CUDA
	&_netmem_cuda_ops,
#endif
	NULL,
};
