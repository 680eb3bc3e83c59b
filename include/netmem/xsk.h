/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP driver: packets from a Linux netdev queue, received through the
 * receive API (rx.h) into a memory provider's pool.
 *
 * The payload pool's area (host, hugetlb or memfd provider: memory the
 * kernel can pin) is registered whole as the socket's UMEM in unaligned
 * chunk mode. The fill ring is fed with *fragments* of the pool's chunks
 * (one frame_size fragment per posted buffer, 32 per 64 KiB chunk at the
 * default 2 KiB), so a 1500-byte MTU costs a 2 KiB slice of a large chunk
 * instead of a 4 KiB frame. A fill address is the fragment's byte offset in
 * the area, which is its UMEM offset. A completed frame becomes a packet of
 * the receive queue: its payload fragment stays where the kernel wrote it
 * (zero-copy in userspace) and its token keeps the fragment's reference
 * until netmem_rxq_release(). Optionally the headers are split off in
 * software: copied into a small host header pool, the payload fragment then
 * starting after them.
 *
 * Built only where libxdp and libbpf are found (NETMEM_HAVE_XDP is defined
 * then). libxdp's default XDP program (redirect every frame of the queue to
 * the socket) is attached to the interface when the queue is created and
 * removed when it is destroyed. Create the queue from a thread in the
 * interface's network namespace; run it with netmem_rxq_recv() and the
 * other rx.h functions.
 *
 * Threads: the queue's owner (rx.h) calls everything here.
 *
 * fork(): the ring mappings are not inherited (MADV_DONTFORK), but the
 * socket and XDP link descriptors are; a child that lives on must close
 * them (close_range(3, ~0U, 0)) or the device queue stays bound until it
 * exits. A child that execs right away (system()) needs nothing. A child
 * must not use its parent's queues; it may open its own, but not on an
 * interface whose XDP program its parent holds (EBUSY, as for any other
 * process).
 *
 * Interface removed (unregistered, or moved to another namespace): the
 * kernel unbinds the socket, which then polls as idle for ever. The queue
 * learns it from the socket (one syscall) at each second of a wait, at the
 * end of a shorter one, at a recv that kicks the kernel (busy poll, need
 * wakeup), or every 4096 empty recv calls; it delivers the frames already
 * in its RX ring, then stops: netmem_xsk_wait() and netmem_rxq_refill()
 * answer -ENODEV, recv returns 0, the posted fragments go back to the pool;
 * tokens held stay releasable.
 */
#ifndef NETMEM_XSK_H
#define NETMEM_XSK_H

#include <stdint.h>

#include "provider.h"
#include "rx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_xsk;

enum netmem_xsk_flags {
	NETMEM_XSK_COPY = 1 << 0,        /* force copy mode (no zero-copy try) */
	NETMEM_XSK_ZEROCOPY = 1 << 1,    /* require zero-copy: fail if unsupported */
	NETMEM_XSK_NEED_WAKEUP = 1 << 2, /* XDP_USE_NEED_WAKEUP: kick the kernel
					  * only when it asks; saves syscalls */
	NETMEM_XSK_BUSY_POLL = 1 << 3,   /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL: the
					  * application's recv drives the NAPI */
	NETMEM_XSK_SKB_MODE = 1 << 4,    /* attach the XDP program in generic
					  * (skb) mode instead of native */
};

/* hdr_split value: find the header length by parsing Ethernet (VLAN),
 * IPv4/IPv6 and UDP/TCP, per packet. Bytes after the IP datagram (a short
 * frame's link padding) are not payload: pkt->len and the fragment end with
 * the datagram. IPv4 fragments split after IP (the first one's L4 header
 * stays in its payload) and hash as one flow. */
#define NETMEM_XSK_SPLIT_AUTO (-1)
/* Longest header split off (bytes). */
#define NETMEM_XSK_MAX_HDR 256

/* Queue parameters. Start from netmem_xsk_params_init(). */
struct netmem_xsk_params {
	size_t size;
	const char *ifname;     /* required, in the caller's network namespace */
	uint32_t queue;         /* device queue id */
	struct netmem_provider *provider; /* payload memory, becomes the UMEM;
				 * must be CPU-mapped; NULL = host */
	int order;              /* payload chunk order; -1: the provider's
				 * default when above 0 (order=, hugetlb),
				 * else 4 (64 KiB chunks) */
	uint32_t nr_chunks;     /* payload chunks (UMEM size / chunk);
				 * 0 = room for both rings, twice */
	int hdr_split;          /* 0: no split, the whole frame is the payload
				 * fragment; N > 0: the first N bytes go to
				 * the header; NETMEM_XSK_SPLIT_AUTO: parse */
	uint32_t frame_size;    /* bytes per posted fragment, at most the
				 * page size; 0 = 2048, or more when the MTU
				 * needs it, up to the page size. Fragments
				 * start at multiples of its power of 2 */
	uint32_t fill_size;     /* fill ring entries (power of 2); 0 = 2048 */
	uint32_t rx_size;       /* rx ring entries (power of 2); 0 = 2048 */
	unsigned flags;         /* enum netmem_xsk_flags */
	uint32_t busy_poll_usec;   /* SO_BUSY_POLL; 0 = 20 */
	uint32_t busy_poll_budget; /* SO_BUSY_POLL_BUDGET; 0 = 64 */
};

static inline void netmem_xsk_params_init(struct netmem_xsk_params *p)
{
	*p = (struct netmem_xsk_params){ .size = sizeof(*p), .order = -1 };
}

/* Counters: the driver's and the kernel's (getsockopt XDP_STATISTICS). */
struct netmem_xsk_stats {
	uint64_t rx_frames;          /* completions taken from the rx ring */
	uint64_t rx_bytes;
	uint64_t fill_posted;        /* fragments given to the fill ring */
	uint64_t fill_alloc_failed;  /* refills cut short: the pool was empty
				      * (the application holds the memory) */
	uint64_t wakeups;            /* syscalls made to kick the kernel */
	uint64_t posted_now;         /* fragments with the kernel right now */
	uint64_t hdr_alloc_failed;   /* packets dropped: no header buffer */
	uint64_t drop_revoked;       /* frames dropped after a provider revoke */
	uint64_t umem_bytes;         /* UMEM size */
	/* kernel */
	uint64_t rx_dropped;         /* no buffer, or frame too large */
	uint64_t rx_invalid_descs;
	uint64_t rx_ring_full;       /* rx ring full: the application is slow */
	uint64_t rx_fill_ring_empty_descs; /* fill ring found empty */
};

/*
 * Create a receive queue on params->ifname queue params->queue: a payload
 * pool from params->provider whose area is the UMEM, an AF_XDP socket bound
 * to it, libxdp's default XDP program, a full fill ring, and (with
 * hdr_split) a host header pool. Zero-copy is tried first unless
 * NETMEM_XSK_COPY is set; where the device cannot do it copy mode is used,
 * unless NETMEM_XSK_ZEROCOPY is set. The calling thread becomes the owner.
 * Destroy with netmem_rxq_destroy(). Returns NULL and sets errno: EINVAL
 * (bad params: name, ring sizes not powers of 2, frame_size outside
 * 2048..the smaller of chunk and page size, hdr_split > NETMEM_XSK_MAX_HDR),
 * EOPNOTSUPP (memory not CPU-mapped, or zero-copy required and
 * unsupported), ENODEV (no such interface, or the provider is revoked), EPERM (not root), ENOMEM, or what the kernel answered;
 * netmem_last_error() says why.
 */
struct netmem_rxq *netmem_xsk_rxq_create(const struct netmem_xsk_params *params);

/* The AF_XDP state behind an xsk queue, until netmem_rxq_destroy(); NULL
 * for a queue of another driver. */
struct netmem_xsk *netmem_xsk_of(struct netmem_rxq *q);

/*
 * Wait up to timeout_ms for frames (poll(2) on the socket). 1 when frames
 * are ready, 0 on timeout or signal, -ENODEV once the payload provider was
 * revoked (noticed here too, the socket then gone) or the interface was
 * removed (noticed within a second, or at the end of a shorter timeout; an
 * endless wait, timeout_ms < 0, returns then too), -errno. Owner thread.
 */
int netmem_xsk_wait(struct netmem_xsk *x, int timeout_ms);

/* Snapshot the counters, the kernel's included. Owner thread. 0, -EINVAL,
 * or -errno of getsockopt. */
int netmem_xsk_stats(struct netmem_xsk *x, struct netmem_xsk_stats *st);

/* "zerocopy" or "copy": the mode the kernel reports (XDP_OPTIONS). */
const char *netmem_xsk_mode(const struct netmem_xsk *x);

/* The socket's file descriptor (for poll/epoll), -ENODEV once the queue
 * stopped (revoke, interface removed), or -EINVAL. */
int netmem_xsk_fd(const struct netmem_xsk *x);

/* Bytes per posted fragment (the UMEM frame size). 0 on NULL. */
uint32_t netmem_xsk_frame_size(const struct netmem_xsk *x);

/* The payload pool (its area is the UMEM), for its stats. Owner thread. */
struct netmem_pool *netmem_xsk_pool(const struct netmem_xsk *x);

#ifdef __cplusplus
}
#endif
#endif
