/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP driver: packets from a Linux netdev queue land in a pool's memory.
 *
 * The pool's area (host, hugetlb or memfd provider: memory the kernel can
 * pin) is registered whole as the socket's UMEM in unaligned chunk mode. The
 * fill ring is fed with *fragments* of the pool's chunks (one frame_size
 * fragment per posted buffer, many per 64 KiB chunk), so a 1500-byte MTU
 * costs a 2 KiB slice of a large chunk instead of a 4 KiB frame. A fill
 * address is the fragment's byte offset in the area, which is its UMEM
 * offset; a completed frame keeps the reference its fragment holds, and the
 * application gives it back with netmem_put() from any thread.
 *
 * Built only where libxdp and libbpf are found (NETMEM_HAVE_XDP). The
 * default XDP program of libxdp (redirect every frame of the queue to the
 * socket) is loaded on the interface when the socket is opened and removed
 * when it is closed. Open the socket from a thread in the interface's
 * network namespace.
 *
 * Threads: every function except netmem_xsk_stats() and the getters is for
 * the pool's owner thread, the one that polls.
 */
#ifndef NETMEM_XSK_H
#define NETMEM_XSK_H

#include <stdint.h>

#include "pool.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_xsk;

enum netmem_xsk_flags {
	NETMEM_XSK_COPY = 1 << 0,        /* force copy mode (no zero-copy try) */
	NETMEM_XSK_ZEROCOPY = 1 << 1,    /* require zero-copy: fail if unsupported */
	NETMEM_XSK_NEED_WAKEUP = 1 << 2, /* XDP_USE_NEED_WAKEUP: the kernel says
					  * when it must be kicked; saves syscalls */
	NETMEM_XSK_BUSY_POLL = 1 << 3,   /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL: the
					  * poll drives the device's NAPI */
	NETMEM_XSK_SKB_MODE = 1 << 4,    /* attach the XDP program in generic
					  * (skb) mode instead of native */
};

/* Socket parameters. Start from netmem_xsk_params_init(). */
struct netmem_xsk_params {
	size_t size;
	const char *ifname;     /* required, in the caller's network namespace */
	uint32_t queue;         /* device queue id */
	struct netmem_pool *pool; /* required: readable area; owner = caller */
	uint32_t frame_size;    /* bytes per posted fragment; 0 = 2048, or
				 * more when the MTU needs it */
	uint32_t fill_size;     /* fill ring entries (power of 2); 0 = 2048 */
	uint32_t rx_size;       /* rx ring entries (power of 2); 0 = 2048 */
	unsigned flags;         /* enum netmem_xsk_flags */
	uint32_t busy_poll_usec;   /* SO_BUSY_POLL; 0 = 20 */
	uint32_t busy_poll_budget; /* SO_BUSY_POLL_BUDGET; 0 = 64 */
};

static inline void netmem_xsk_params_init(struct netmem_xsk_params *p)
{
	*p = (struct netmem_xsk_params){ .size = sizeof(*p) };
}

/* One completed frame: a fragment of `chunk`, holding one reference on it. */
struct netmem_xsk_frame {
	netmem_t chunk;      /* put it (netmem_put) when done with the bytes */
	uint64_t area_off;   /* offset of the first frame byte in the area */
	uint32_t chunk_off;  /* the same, inside the chunk */
	uint32_t len;        /* frame length in bytes */
};

/* Counters: the driver's and the kernel's (getsockopt XDP_STATISTICS). */
struct netmem_xsk_stats {
	uint64_t rx_frames;          /* completions taken from the rx ring */
	uint64_t rx_bytes;
	uint64_t fill_posted;        /* fragments given to the fill ring */
	uint64_t fill_alloc_failed;  /* refills cut short: pool empty (the
				      * application holds the memory) */
	uint64_t wakeups;            /* syscalls made to kick the kernel */
	uint64_t posted_now;         /* fragments with the kernel right now */
	/* kernel */
	uint64_t rx_dropped;
	uint64_t rx_invalid_descs;
	uint64_t rx_ring_full;
	uint64_t rx_fill_ring_empty_descs;
};

/*
 * Open an AF_XDP socket on params->ifname queue params->queue with the
 * pool's area as UMEM, load libxdp's default XDP program, and fill the fill
 * ring. Zero-copy is tried first unless NETMEM_XSK_COPY is set; when the
 * device cannot do it, copy mode is used (unless NETMEM_XSK_ZEROCOPY).
 * Returns NULL and sets errno: EINVAL (bad params, ring size not a power of
 * 2, frame_size outside 2048..chunk size), EOPNOTSUPP (area not readable by
 * the CPU, or zero-copy required and unsupported), ENODEV (no such
 * interface), EPERM (not root), ENOMEM, or what the kernel answered;
 * netmem_last_error() says why.
 */
struct netmem_xsk *netmem_xsk_open(const struct netmem_xsk_params *params);

/*
 * Close the socket, remove the XDP program, release the UMEM, and give back
 * the references of every fragment still posted. Frames the application
 * holds stay valid until it puts them. Owner thread. 0 or -EINVAL.
 */
int netmem_xsk_close(struct netmem_xsk *x);

/*
 * Take up to n completed frames into out[], then refill the fill ring from
 * the pool and kick the kernel where needed (need-wakeup, busy poll).
 * Owner thread. Returns the count (0..n), or -EINVAL. Never blocks.
 */
int netmem_xsk_rx_burst(struct netmem_xsk *x, struct netmem_xsk_frame *out,
			unsigned n);

/*
 * Wait up to timeout_ms for frames (poll(2) on the socket; with busy poll,
 * a non-blocking kick instead). 1 when frames are ready, 0 on timeout,
 * -errno. Owner thread.
 */
int netmem_xsk_wait(struct netmem_xsk *x, int timeout_ms);

/* Snapshot the counters, the kernel's included. 0, -EINVAL, -errno. */
int netmem_xsk_stats(struct netmem_xsk *x, struct netmem_xsk_stats *st);

/* "zerocopy" or "copy": the mode the kernel reports (XDP_OPTIONS). */
const char *netmem_xsk_mode(const struct netmem_xsk *x);

/* The socket's file descriptor (for poll/epoll), or -EINVAL. */
int netmem_xsk_fd(const struct netmem_xsk *x);

/* Bytes per posted fragment (the UMEM frame size). 0 on NULL. */
uint32_t netmem_xsk_frame_size(const struct netmem_xsk *x);

#ifdef __cplusplus
}
#endif
#endif
