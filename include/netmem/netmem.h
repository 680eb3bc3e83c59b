/* SPDX-License-Identifier: MIT */
/*
 * netmem: zero-copy receive buffers over pluggable memory providers.
 *
 * The umbrella header. See netmem(7) and docs/ for the overview:
 *   handle.h    netmem handles and their accessors
 *   provider.h  provider types, instances, specs, revocation
 *   pool.h      pools, fragments, recycling, stats
 *   memfd.h     an area's file descriptor (memfd, dma-buf) for sharing
 *   devsim.h    the emulated device's test hooks
 *   rx.h        receive queues: header split, payload tokens
 *   sim.h       the software NIC (sim driver)
 *   fault.h     the fault-injecting provider wrapper
 *
 * The headers are C11 (they use _Atomic and _Thread_local): a C++ program
 * calls netmem from a C translation unit of its own.
 */
#ifndef NETMEM_H
#define NETMEM_H

#include "handle.h"
#include "provider.h"
#include "pool.h"
#include "memfd.h"
#include "devsim.h"
#include "rx.h"
#include "sim.h"
#include "fault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NETMEM_VERSION_MAJOR 0
#define NETMEM_VERSION_MINOR 2
#define NETMEM_VERSION_PATCH 0

/* The library's version string, "MAJOR.MINOR.PATCH". */
const char *netmem_version(void);

#ifdef __cplusplus
}
#endif
#endif
