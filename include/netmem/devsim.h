/* SPDX-License-Identifier: MIT */
/*
 * devsim: emulated device memory (spec "devsim", "devsim:order=N").
 *
 * Each area is a memfd mapped twice: once PROT_NONE in the application's
 * view, and once read-write for the emulated device, reached only through
 * netmem_dev_write() / netmem_dev_read(). Chunks are unreadable
 * (netmem_address() is NULL), and any CPU access to the application's view
 * faults, so a test proves with the MMU that nothing touched payload bytes.
 */
#ifndef NETMEM_DEVSIM_H
#define NETMEM_DEVSIM_H

#include "handle.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device addresses of devsim memory start here: IOVAs of the emulated device,
 * distinct for every byte of every live area of one devsim instance, and
 * deliberately not CPU addresses. */
#define NETMEM_DEVSIM_IOVA_BASE (UINT64_C(1) << 52)

/*
 * For tests: the address of the chunk's first byte in the application's
 * PROT_NONE view. This address faults on any access; it exists so a test can
 * show that it does. Any thread holding a reference on h. Returns NULL when
 * h is 0, not devsim memory, or its provider was revoked.
 */
void *netmem_devsim_cpu_view(netmem_t h);

#ifdef __cplusplus
}
#endif
#endif
