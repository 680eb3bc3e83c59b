/* SPDX-License-Identifier: MIT */
#include "builtin.h"

const struct netmem_provider_ops *const _netmem_builtin_providers[] = {
	&_netmem_host_ops,
	&_netmem_fault_ops,
	&_netmem_hugetlb_ops,
	NULL,
};
