/* SPDX-License-Identifier: MIT */
/*
 * The driver side of the receive API: what a driver (src/drivers/sim.c,
 * src/drivers/xsk.c) implements and the helpers it calls. Never exported.
 *
 * A driver creates its queues with _netmem_rxq_create(), giving its ops
 * table, its per-queue state and the most payload fragments that can be out
 * at once (the token table's size). The generic layer (src/rx.c) owns the
 * token table, header-buffer lifetimes, the delivered-packet counters and
 * the threading contract; the driver owns the device, its rings and pools.
 *
 * recv contract. The driver fills pkts[0..n) as the public struct says,
 * except each payload fragment names a chunk reference instead of a token:
 *   frag[i].token  = the netmem_t handle of the chunk; the reference (one,
 *                    as netmem_pool_alloc_frag_direct gives) passes to the
 *                    queue, which hands it to the application as a token
 *                    and netmem_put()s it when the token is released;
 *   frag[i].offset = the fragment's offset inside that chunk;
 *   frag[i].len    = bytes.
 * area_id and addr are filled by the generic layer, unless the driver sets
 * NETMEM_RXD_RESOLVED in its ops flags: then it fills them itself and gives
 * frag[i].offset relative to the area (as the application sees it), which
 * saves the generic layer a descriptor read per fragment. A header buffer that must
 * stay valid until the next recv is passed with _netmem_rxq_hold_hdr(); the
 * generic layer netmem_put()s it at the next recv or at destroy.
 */
#ifndef NETMEM_RX_INTERNAL_H
#define NETMEM_RX_INTERNAL_H

#include "internal.h"
#include "netmem/rx.h"

struct netmem_rx_driver_ops {
	size_t size;	  /* sizeof(struct netmem_rx_driver_ops) */
	const char *name; /* "sim", "xsk" */
	/* Owner. Run the device; complete up to max (1..NETMEM_RX_MAX_BATCH)
	 * packets into pkts as described above. Returns the count, or -errno
	 * (the generic layer returns it to the caller). Required. */
	int (*recv)(struct netmem_rxq *q, struct netmem_rx_pkt *pkts, unsigned max);
	/* Owner. Post free buffers; returns how many are posted now, or
	 * -errno. Optional (netmem_rxq_refill returns 0 without it). */
	int (*refill)(struct netmem_rxq *q);
	/* Any thread, also after destroy (so it must not use per-queue state
	 * that destroy frees). Give back n payload references whose tokens
	 * were released. Optional: netmem_put_bulk() without it. */
	void (*release)(struct netmem_rxq *q, const netmem_t *h, unsigned n);
	/* Owner. Fill the device-side counters (generated, posted, drop_*,
	 * revoked, queue); the generic layer fills the rest and sums drops.
	 * Optional. */
	void (*stats)(struct netmem_rxq *q, struct netmem_rxq_stats *st);
	/* Owner (new one). Move pool ownership to the calling thread. 0 or
	 * -errno. Optional. */
	int (*set_owner)(struct netmem_rxq *q);
	/* Owner. Stop the device, put posted buffers, destroy the pools; the
	 * references handed out as tokens stay valid (netmem_put works after
	 * a pool's destroy). Must not free the queue. Required. */
	void (*destroy)(struct netmem_rxq *q);
	/* Owner, inside recv. The generic layer dropped completed packet p
	 * (no free token, drop_no_token; its references are already put):
	 * tell whoever watches the device's drops. Optional. */
	void (*dropped)(struct netmem_rxq *q, const struct netmem_rx_pkt *p);
	unsigned flags; /* NETMEM_RXD_* */
};

/* The driver fills frags' area_id and addr, and area-relative offsets. */
#define NETMEM_RXD_RESOLVED 0x1

/*
 * Create a queue for a driver. nr_tokens is the most payload fragments that
 * can be held by the application at once (rounded up to a power of 2,
 * at most 2^24). The calling thread becomes the owner. Returns NULL with
 * errno EINVAL or ENOMEM.
 */
/* Most tokens one queue's table holds. */
#define _NETMEM_RX_MAX_TOKENS (UINT32_C(1) << 24)

struct netmem_rxq *_netmem_rxq_create(const struct netmem_rx_driver_ops *ops, void *priv,
				      uint32_t nr_tokens);

/* The driver's per-queue state. */
void *_netmem_rxq_priv(const struct netmem_rxq *q);

/* Whether the calling thread owns q (and may destroy it). */
bool _netmem_rxq_is_owner(const struct netmem_rxq *q);

/*
 * Keep a header buffer reference until the next recv (or destroy), then
 * netmem_put() it. Owner, inside ops->recv. At most NETMEM_RX_MAX_BATCH per
 * call; further ones are put at once (returns -ENOSPC) — a driver never
 * needs more than one per packet.
 */
int _netmem_rxq_hold_hdr(struct netmem_rxq *q, netmem_t h);

/* _netmem_rxq_hold_hdr() for n headers at once (those past the limit are
 * put at once). Owner, inside ops->recv. */
void _netmem_rxq_hold_hdrs(struct netmem_rxq *q, const netmem_t *h, unsigned n);

#endif
