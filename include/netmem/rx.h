/* SPDX-License-Identifier: MIT */
/*
 * The receive API: packets with header split and payload tokens, in the
 * spirit of devmem TCP's recvmsg() and SO_DEVMEM_DONTNEED.
 *
 * A receive queue (struct netmem_rxq) belongs to a driver (the sim software
 * NIC, AF_XDP). netmem_rxq_recv() runs the queue and returns packets. Each
 * packet is
 *   - its header bytes: readable host memory, `hdr`/`hdr_len`, valid until
 *     the next netmem_rxq_recv() on the same queue or its destroy, whichever
 *     comes first (copy what you need to keep);
 *   - up to NETMEM_RX_MAX_FRAGS payload fragments, each naming a byte range
 *     of the payload provider's memory by {area id, offset in the area,
 *     length} and carrying a *token*. The fragment stays valid, and its bytes
 *     untouched by the device, until its token is given back with
 *     netmem_rxq_release(). Payload memory may be unreadable by the CPU
 *     (device memory): then `addr` is NULL and the bytes are reachable only
 *     through netmem_rxq_frag_read() (a device-side read) or the device that
 *     the provider exports them to;
 *   - metadata: total length on the wire, flow id, RSS hash, sequence number
 *     and payload checksum (where the driver knows them), flags.
 *
 * Threads. One thread, the queue's *owner*, calls netmem_rxq_recv(),
 * netmem_rxq_refill(), netmem_rxq_stats() and netmem_rxq_destroy() (the
 * thread that created the queue, or the one that last called
 * netmem_rxq_set_owner()). netmem_rxq_release(), netmem_rxq_release_pkt()
 * and netmem_rxq_frag_read() may be called from any thread, concurrently
 * with the owner and with each other.
 *
 * Tokens. A token is a 64-bit value naming a slot of the queue's token table,
 * the queue, and the slot's generation; 0 is never a token. Releasing a
 * token that the queue never handed out, that was already released, or that
 * belongs to another live queue fails with -EINVAL and changes nothing: no
 * reference count is touched (docs/rx.md gives the limits: generations wrap,
 * past 4095 live queues two may share a tag). Tokens still held when the
 * queue is destroyed (netmem_rxq_destroy(), netmem_sim_destroy()) stay
 * releasable through the same queue pointer, which lives on until the last
 * of them is back; that release frees the queue, after which the pointer
 * must not be used. Each released token drops one reference on its payload chunk;
 * the chunk goes back to the device when its last fragment is released.
 *
 * Back-pressure. Tokens the application keeps keep their chunks out of the
 * pool. A chunk holds several payload fragments and goes back only when all
 * of them are released, so one token kept per chunk keeps every chunk out
 * (as a fragment pins its page in the kernel's page_pool). When no chunk is
 * left, the device finds no posted buffer and drops packets (counted in
 * drop_no_buf); memory never grows and nothing leaks. Delivery resumes once
 * every token of some chunk is back (released by another thread: within a
 * few recv calls, as the owner finds the chunk): an application that keeps
 * a few payloads for long should copy them out and release their tokens.
 *
 * Revocation. When the payload provider is revoked (netmem_provider_revoke)
 * the queue stops delivering payload from it: packets that need payload are
 * dropped and counted (drop_revoked), stats.revoked becomes 1, header-only
 * packets still arrive. Tokens held may and should still be released; the
 * provider's memory is unmapped when the last one is back. A device whose
 * header memory comes from a provider that is revoked drops the packets
 * that need a header buffer the same way (drop_revoked).
 */
#ifndef NETMEM_RX_H
#define NETMEM_RX_H

#include <stdint.h>
#include <stdio.h>

#include "handle.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_rxq;

/* Most payload fragments in one packet. */
#define NETMEM_RX_MAX_FRAGS 8

/* Largest batch one netmem_rxq_recv() call returns (max is clamped). */
#define NETMEM_RX_MAX_BATCH 256

/* Packet flags. */
#define NETMEM_RX_TRUNCATED 0x1 /* the device wrote less payload than `len` says */
#define NETMEM_RX_CSUM_BAD  0x2 /* the device saw a bad checksum */
#define NETMEM_RX_HAS_CSUM  0x4 /* `csum` holds the sender's payload checksum */
#define NETMEM_RX_HAS_SEQ   0x8 /* `seq` holds the sender's sequence number */

/* One payload fragment. */
struct netmem_rx_frag {
	uint64_t token;	  /* give back with netmem_rxq_release() */
	uint64_t offset;  /* of the fragment's first byte in its area */
	uint32_t area_id; /* area (as netmem_area_id() and pool stats say) */
	uint32_t len;	  /* bytes */
	void *addr;	  /* CPU address of the first byte; NULL when unreadable */
};

/* One received packet. Filled by netmem_rxq_recv(). */
struct netmem_rx_pkt {
	const void *hdr;   /* header bytes (host memory), NULL when hdr_len is 0 */
	uint32_t hdr_len;  /* header bytes received */
	uint32_t len;	   /* packet length on the wire: hdr_len + payload */
	uint64_t seq;	   /* sender's sequence number (NETMEM_RX_HAS_SEQ) */
	uint32_t flow;	   /* flow id (driver-defined; sim: generator's flow) */
	uint32_t hash;	   /* RSS hash the queue was chosen by */
	uint32_t csum;	   /* payload checksum as sent (NETMEM_RX_HAS_CSUM) */
	uint16_t flags;	   /* NETMEM_RX_* */
	uint16_t nr_frags; /* payload fragments in frag[] */
	struct netmem_rx_frag frag[NETMEM_RX_MAX_FRAGS];
};

/* Counters of one queue. Device-side ones are 0 where a driver lacks them. */
struct netmem_rxq_stats {
	/* delivered to the application */
	uint64_t packets;	  /* packets returned by recv */
	uint64_t bytes;		  /* their wire bytes */
	uint64_t hdr_only;	  /* of them, with no payload fragment */
	uint64_t truncated;	  /* of them, flagged NETMEM_RX_TRUNCATED */
	uint64_t tokens_issued;	  /* payload fragments handed out */
	uint64_t tokens_released; /* tokens given back */
	uint64_t tokens_held;	  /* issued - released: with the application now */
	uint64_t bad_release;	  /* invalid, double or foreign tokens refused */
	/* the device */
	uint64_t generated;	 /* packets that arrived at the queue (sim: generated) */
	uint64_t posted;	 /* payload buffers posted to the device now */
	uint64_t drops;		 /* every drop below, summed */
	uint64_t drop_no_buf;	 /* no posted buffer: back-pressure */
	uint64_t drop_revoked;	 /* payload (or header) provider revoked */
	uint64_t drop_fault;	 /* injected drops (sim), failed device writes,
				  * no header buffer (xsk) */
	uint64_t drop_overflow;	 /* completion ring overflow */
	uint64_t drop_truncated; /* short device writes, not delivered */
	uint64_t drop_no_token;	 /* no free token: releases from other threads
				  * still on their way, or (xsk) a UMEM of more
				  * fragments than a token table holds */
	int revoked;		 /* the payload provider was revoked */
	unsigned queue;		 /* queue index in its device */
};

/*
 * Run the queue: let the device complete packets into the buffers posted to
 * it, post new buffers, and return up to `max` packets in pkts[] (max is
 * clamped to NETMEM_RX_MAX_BATCH). Gives back the header buffers of the
 * previous call first (their `hdr` pointers become invalid). Owner thread
 * only. Returns the number of packets (0 when none arrived), or -EINVAL
 * (NULL queue, NULL pkts with max > 0, or a thread other than the owner).
 */
int netmem_rxq_recv(struct netmem_rxq *q, struct netmem_rx_pkt *pkts, unsigned max);

/*
 * Give back n payload tokens, in a batch (SO_DEVMEM_DONTNEED). Any thread.
 * Returns n when every token was released, or -EINVAL when q is NULL or
 * tokens is NULL with n > 0 (nothing released) or at least one token was
 * invalid: never handed out by this queue, already released, or 0. The
 * valid tokens of such a batch are released all the same; the invalid ones
 * change nothing and are counted in bad_release.
 */
int netmem_rxq_release(struct netmem_rxq *q, const uint64_t *tokens, unsigned n);

/* netmem_rxq_release() of every fragment's token of pkt. Any thread.
 * Returns the number released or -EINVAL as above. */
int netmem_rxq_release_pkt(struct netmem_rxq *q, const struct netmem_rx_pkt *pkt);

/*
 * Read `len` bytes at `off` inside the fragment into dst, through the
 * provider's device-side read when the memory is unreadable by the CPU.
 * Any thread, while the caller holds the fragment's token. The token is
 * checked; f's offset and len are taken as given (a read stays inside the
 * token's chunk whatever they say, but bytes of the chunk past the
 * fragment are not refused if f was enlarged). Returns 0,
 * -EINVAL (NULL, range outside f or the token's chunk, token
 * not live), -ENODEV
 * (provider revoked), -EOPNOTSUPP (the provider cannot read back).
 */
int netmem_rxq_frag_read(struct netmem_rxq *q, const struct netmem_rx_frag *f, size_t off,
			 void *dst, size_t len);

/*
 * Post free buffers to the device without receiving (recv does it too).
 * Owner thread. Returns the number of buffers posted now, or -EINVAL,
 * -ENODEV (payload provider revoked).
 */
int netmem_rxq_refill(struct netmem_rxq *q);

/*
 * Make the calling thread the queue's owner (and of the pools behind it).
 * Only while the previous owner is inside no call on the queue (release
 * included: the owner's own releases take a path private to the owner), e.g.
 * when handing the queue to its worker thread. 0 or -EINVAL.
 */
int netmem_rxq_set_owner(struct netmem_rxq *q);

/* Snapshot the counters. Owner thread: -EINVAL from any other, as for
 * NULL. 0 on success. */
int netmem_rxq_stats(struct netmem_rxq *q, struct netmem_rxq_stats *st);

/* The counters as one JSON object on `out`. Owner thread. Characters
 * written, -EINVAL or -EIO. */
int netmem_rxq_stats_json(struct netmem_rxq *q, FILE *out);

/* Sum b into a (every counter; revoked is or-ed). Safe with NULL. */
void netmem_rxq_stats_add(struct netmem_rxq_stats *a, const struct netmem_rxq_stats *b);

/* Name of the driver behind the queue ("sim", "xsk"). */
const char *netmem_rxq_driver(const struct netmem_rxq *q);

/*
 * Destroy a queue. Owner thread. The device stops, posted buffers and the
 * last header buffers go back to their pools, and the pools are destroyed.
 * Tokens still held stay valid for netmem_rxq_release() from any thread; the
 * queue's memory is freed when the last one comes back. Returns the number
 * of tokens still held (0: everything freed now), or -EINVAL. Queues of a
 * sim device are destroyed by netmem_sim_destroy(); one destroyed alone
 * before it is gone from the device (netmem_sim_rxq() returns NULL for it)
 * and its tokens are not counted in netmem_sim_destroy()'s return.
 */
int netmem_rxq_destroy(struct netmem_rxq *q);

#ifdef __cplusplus
}
#endif
#endif
