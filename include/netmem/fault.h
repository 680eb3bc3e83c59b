/* SPDX-License-Identifier: MIT */
/*
 * Fault injection: the "fault" provider wraps another provider and makes it
 * misbehave on purpose, so tests and the soak run can prove that pools and
 * the receive path degrade (counted failures, drops) and recover, and never
 * lose or leak a chunk.
 *
 * Spec: "fault:KEY=VALUE,...,inner=SPEC". inner= must come last: it takes the
 * rest of the string, commas included, as the wrapped provider's spec
 * (default "host"). Keys (all optional, 0 = off):
 *
 *   every=N   every Nth bulk allocation returns no chunk
 *   fail=N    a bulk allocation returns no chunk with probability 1/N
 *   short=N   a bulk allocation that is not failed returns a partial batch
 *             (1..n-1 chunks) with probability 1/N (short=1: always)
 *   area=N    every Nth area creation fails with ENOMEM
 *   revoke=N  a bulk allocation kills the device with probability 1/N: it
 *             and every later one return no chunk, and a thread of the
 *             wrapper revokes the provider at once (asynchronously, as a
 *             real unplug: revoking takes locks the allocation holds)
 *   wfail=N   a device-side write fails with EIO with probability 1/N
 *   seed=S    seed of the random choices (default 1); the same seed and
 *             the same sequence of calls give the same faults
 *
 * The chunks the wrapper holds back stay in its free space: a later
 * allocation gets them. Revoking the wrapper revokes the inner instance too.
 */
#ifndef NETMEM_FAULT_H
#define NETMEM_FAULT_H

#include <stdint.h>

#include "provider.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the wrapper has done so far. */
struct netmem_fault_stats {
	uint64_t alloc_calls;  /* bulk allocations asked of the wrapper */
	uint64_t alloc_failed; /* of them, answered with no chunk on purpose
				* (including every one after a revoke=) */
	uint64_t alloc_short;  /* of them, answered with a partial batch */
	uint64_t area_calls;   /* area creations asked */
	uint64_t area_failed;  /* of them, failed on purpose */
	uint64_t revokes;      /* revocations injected (0 or 1 per instance) */
	uint64_t write_calls;  /* device-side writes asked */
	uint64_t write_failed; /* of them, failed on purpose */
};

/*
 * Snapshot the fault counters of a "fault" provider instance. Any thread.
 * Returns 0, or -EINVAL (NULL, or p is not a fault provider).
 */
int netmem_fault_stats(const struct netmem_provider *p, struct netmem_fault_stats *st);

/*
 * The wrapped provider instance of a "fault" provider (owned by the wrapper:
 * do not destroy it), for inspection: its revoked flag and its type. The
 * wrapper makes its areas through it without registering them there, so its
 * netmem_provider_nr_areas() is 0, and revoking it directly does not mark
 * the wrapper's areas revoked: revoke the wrapper. NULL with errno EINVAL
 * when p is not a fault provider.
 */
struct netmem_provider *netmem_fault_inner(const struct netmem_provider *p);

#ifdef __cplusplus
}
#endif
#endif
