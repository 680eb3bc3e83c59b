/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP driver (see include/netmem/xsk.h).
 *
 * UMEM = the pool's whole area, registered in unaligned chunk mode so that a
 * fill address may be any byte offset: the fill ring gets frame_size
 * fragments carved from the pool's large chunks. The kernel hands a
 * completion back as "fill address | data offset << 48"; the fill address
 * names the chunk (address >> chunk shift), and the fragment's reference
 * travels with the frame to the application.
 *
 * The kernel may keep fill entries it has taken (copy mode keeps a free
 * list of them), so the order of completions is not the order of fills.
 * What is posted is therefore counted per chunk (posted[]), and close gives
 * back exactly those references once the socket is gone.
 */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "internal.h"
#include "netmem/xsk.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif
/* The kernel's XDP_PACKET_HEADROOM: where copy mode and most drivers put
 * the first frame byte inside a fill buffer. */
#define XSK_KERNEL_HEADROOM 256
#define XSK_MIN_FRAME 2048 /* XDP_UMEM_MIN_CHUNK_SIZE */
#define XSK_FILL_BATCH 64

struct netmem_xsk {
	/* Rings first: the poll loop touches these on every call. */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq; /* unused (no tx), required by the UMEM */
	struct netmem_pool *pool;
	struct netmem_area *area;
	uint32_t frame_size;
	uint32_t chunk_shift;
	uint32_t fill_size;
	unsigned flags;
	uint16_t *posted;         /* per chunk: fragments with the kernel */
	uint64_t posted_now;
	int fd;
	bool zerocopy;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct netmem_xsk_stats st;
	char ifname[IF_NAMESIZE];
};

/* MTU of ifname in the caller's network namespace, or -errno. */
static int if_mtu(const char *ifname)
{
	struct ifreq ifr;
	int s, ret;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ret = ioctl(s, SIOCGIFMTU, &ifr) ? -errno : ifr.ifr_mtu;
	close(s);
	return ret;
}

/* Carve up to XSK_FILL_BATCH fragments and post them. Returns how many. */
static unsigned fill_refill(struct netmem_xsk *x)
{
	uint64_t addr[XSK_FILL_BATCH];
	unsigned n, got = 0;
	uint32_t idx = 0;

	n = xsk_prod_nb_free(&x->fq, XSK_FILL_BATCH);
	if (n > XSK_FILL_BATCH)
		n = XSK_FILL_BATCH;
	while (got < n) {
		uint32_t off;
		netmem_t h = netmem_pool_alloc_frag_direct(x->pool, x->frame_size, &off);

		if (!h) {
			/* The application holds the memory: back-pressure.
			 * The kernel counts what it then drops. */
			x->st.fill_alloc_failed++;
			break;
		}
		x->posted[_netmem_desc(h)->index]++;
		addr[got++] = netmem_area_offset(h) + off;
	}
	if (!got)
		return 0;
	/* Cannot fail: n entries were free and only this thread produces. */
	xsk_ring_prod__reserve(&x->fq, got, &idx);
	for (unsigned i = 0; i < got; i++)
		*xsk_ring_prod__fill_addr(&x->fq, idx + i) = addr[i];
	/* Release store on the producer index (inside submit): the kernel's
	 * consumer reads the addresses only after it sees the index. */
	xsk_ring_prod__submit(&x->fq, got);
	x->st.fill_posted += got;
	x->posted_now += got;
	return got;
}

static void fill_all(struct netmem_xsk *x)
{
	while (fill_refill(x) == XSK_FILL_BATCH)
		;
}

static void kick(struct netmem_xsk *x)
{
	x->st.wakeups++;
	/* Non-blocking: only drives the kernel's rx (or busy-poll) path. */
	recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
}

static int set_busy_poll(struct netmem_xsk *x, const struct netmem_xsk_params *p)
{
	int one = 1;
	int usec = p->busy_poll_usec ? (int)p->busy_poll_usec : 20;
	int budget = p->busy_poll_budget ? (int)p->busy_poll_budget : 64;

	if (setsockopt(x->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL, &usec, sizeof(usec)) ||
	    setsockopt(x->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)))
		return _netmem_err(errno, "xsk: busy poll socket options: %s", strerror(errno));
	return 0;
}

static int umem_create(struct netmem_xsk *x)
{
	struct xsk_umem_config cfg = {
		.fill_size = x->fill_size,
		.comp_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.frame_size = x->frame_size,
		.frame_headroom = 0,
		.flags = XDP_UMEM_UNALIGNED_CHUNK_FLAG,
	};
	int ret;

	ret = xsk_umem__create(&x->umem, x->area->spec.cpu_base, x->area->spec.size,
			       &x->fq, &x->cq, &cfg);
	if (ret)
		return _netmem_err(-ret, "xsk: UMEM of %zu bytes (frame %u, unaligned): %s",
				   x->area->spec.size, x->frame_size, strerror(-ret));
	return 0;
}

static int socket_create(struct netmem_xsk *x, const struct netmem_xsk_params *p,
			 __u16 mode)
{
	struct xsk_socket_config cfg = {
		.rx_size = p->rx_size ? p->rx_size : XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = 0,
		.libxdp_flags = 0,
		.xdp_flags = (p->flags & NETMEM_XSK_SKB_MODE) ? XDP_FLAGS_SKB_MODE : 0,
		.bind_flags = mode,
	};

	if (p->flags & NETMEM_XSK_NEED_WAKEUP)
		cfg.bind_flags |= XDP_USE_NEED_WAKEUP;
	return xsk_socket__create(&x->xsk, p->ifname, p->queue, x->umem, &x->rx, NULL, &cfg);
}

static int pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

struct netmem_xsk *netmem_xsk_open(const struct netmem_xsk_params *pp)
{
	struct netmem_xsk_params p = { 0 };
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	struct netmem_xsk *x;
	uint32_t chunk;
	int ret, mtu;

	if (!pp || pp->size < offsetof(struct netmem_xsk_params, busy_poll_usec) ||
	    pp->size > sizeof(p)) {
		errno = -_netmem_err(EINVAL, "xsk: NULL params or bad size field");
		return NULL;
	}
	memcpy(&p, pp, pp->size);
	if (!p.ifname || !p.ifname[0] || strlen(p.ifname) >= IF_NAMESIZE || !p.pool ||
	    (p.flags & NETMEM_XSK_COPY && p.flags & NETMEM_XSK_ZEROCOPY)) {
		errno = -_netmem_err(EINVAL, "xsk: need an interface name and a pool");
		return NULL;
	}
	if (!p.fill_size)
		p.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
	if (!pow2(p.fill_size) || (p.rx_size && !pow2(p.rx_size))) {
		errno = -_netmem_err(EINVAL, "xsk: ring sizes must be powers of 2");
		return NULL;
	}
	if (!p.pool->area->hdr.readable || !p.pool->area->spec.cpu_base) {
		errno = -_netmem_err(EOPNOTSUPP,
				     "xsk: the pool's memory is not CPU-mapped; a UMEM must be "
				     "(use host, hugetlb or memfd)");
		return NULL;
	}
	mtu = if_mtu(p.ifname);
	if (mtu < 0) {
		errno = -_netmem_err(-mtu, "xsk: interface %s: %s", p.ifname, strerror(-mtu));
		return NULL;
	}
	chunk = netmem_pool_chunk_size(p.pool);
	if (!p.frame_size) {
		/* Room for the kernel's headroom and an Ethernet+VLAN frame. */
		p.frame_size = (XSK_KERNEL_HEADROOM + (uint32_t)mtu + 18 + 63) & ~63u;
		if (p.frame_size < XSK_MIN_FRAME)
			p.frame_size = XSK_MIN_FRAME;
	}
	if (p.frame_size < XSK_MIN_FRAME || p.frame_size > chunk) {
		errno = -_netmem_err(EINVAL, "xsk: frame size %u outside %u..%u (chunk size)",
				     p.frame_size, XSK_MIN_FRAME, chunk);
		return NULL;
	}

	x = calloc(1, sizeof(*x));
	if (!x) {
		errno = -_netmem_err(ENOMEM, "xsk: no memory");
		return NULL;
	}
	x->posted = calloc(p.pool->area->spec.nr_chunks, sizeof(*x->posted));
	if (!x->posted) {
		free(x);
		errno = -_netmem_err(ENOMEM, "xsk: no memory");
		return NULL;
	}
	x->pool = p.pool;
	x->area = p.pool->area;
	x->frame_size = p.frame_size;
	x->chunk_shift = (uint32_t)__builtin_ctz(chunk);
	x->fill_size = p.fill_size;
	x->flags = p.flags;
	snprintf(x->ifname, sizeof(x->ifname), "%s", p.ifname);

	ret = umem_create(x);
	if (ret)
		goto fail;
	if (p.flags & NETMEM_XSK_COPY) {
		ret = socket_create(x, &p, XDP_COPY);
	} else {
		ret = socket_create(x, &p, XDP_ZEROCOPY);
		if (ret && !(p.flags & NETMEM_XSK_ZEROCOPY)) {
			/* No zero-copy here (veth, generic mode): start over
			 * with a fresh UMEM in copy mode. */
			xsk_umem__delete(x->umem);
			x->umem = NULL;
			ret = umem_create(x);
			if (ret)
				goto fail;
			ret = socket_create(x, &p, XDP_COPY);
		}
	}
	if (ret) {
		ret = _netmem_err(-ret, "xsk: socket on %s queue %u (%s): %s", p.ifname, p.queue,
				  p.flags & NETMEM_XSK_ZEROCOPY ? "zero-copy required" : "copy mode",
				  strerror(-ret));
		goto fail;
	}
	x->fd = xsk_socket__fd(x->xsk);
	if (!getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen))
		x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	if (p.flags & NETMEM_XSK_BUSY_POLL) {
		ret = set_busy_poll(x, &p);
		if (ret)
			goto fail;
	}
	fill_all(x);
	if (!x->posted_now) {
		ret = _netmem_err(ENOMEM, "xsk: the pool has no memory for the fill ring");
		goto fail;
	}
	if (p.flags & NETMEM_XSK_NEED_WAKEUP && xsk_ring_prod__needs_wakeup(&x->fq))
		kick(x);
	return x;
fail:
	netmem_xsk_close(x);
	errno = -ret;
	return NULL;
}

int netmem_xsk_close(struct netmem_xsk *x)
{
	if (!x)
		return -EINVAL;
	/* The socket first: once it is gone the kernel no longer writes into
	 * the fragments still posted, and their references can go back. */
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	for (size_t i = 0; i < x->area->spec.nr_chunks; i++) {
		netmem_t h = _netmem_handle(&x->area->desc[i]);

		while (x->posted[i]) {
			netmem_pool_put_direct(x->pool, h);
			x->posted[i]--;
		}
	}
	free(x->posted);
	free(x);
	return 0;
}

int netmem_xsk_rx_burst(struct netmem_xsk *x, struct netmem_xsk_frame *out, unsigned n)
{
	uint32_t idx = 0, got;

	if (unlikely(!x || (!out && n)))
		return -EINVAL;
	/* Acquire load of the producer index (inside peek): descriptors and
	 * frame bytes written by the kernel are visible after it. */
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t chunk = base >> x->chunk_shift;
		struct netmem_desc *desc = &x->area->desc[chunk];
		uint64_t off = xsk_umem__add_offset_to_addr(d->addr);

		x->posted[chunk]--;
		out[i].chunk = _netmem_handle(desc);
		out[i].area_off = off;
		out[i].chunk_off = (uint32_t)(off - (chunk << x->chunk_shift));
		out[i].len = d->len;
		x->st.rx_bytes += d->len;
	}
	if (got) {
		/* Release store of the consumer index: the kernel reuses the
		 * descriptor slots only after our reads above. */
		xsk_ring_cons__release(&x->rx, got);
		x->st.rx_frames += got;
		x->posted_now -= got;
	}
	while (fill_refill(x) == XSK_FILL_BATCH)
		;
	if (!got && (x->flags & NETMEM_XSK_BUSY_POLL ||
		     (x->flags & NETMEM_XSK_NEED_WAKEUP && xsk_ring_prod__needs_wakeup(&x->fq))))
		kick(x);
	return (int)got;
}

int netmem_xsk_wait(struct netmem_xsk *x, int timeout_ms)
{
	struct pollfd pfd;
	int ret;

	if (!x)
		return -EINVAL;
	if (xsk_cons_nb_avail(&x->rx, 1))
		return 1;
	pfd.fd = x->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return ret > 0;
}

int netmem_xsk_stats(struct netmem_xsk *x, struct netmem_xsk_stats *st)
{
	struct xdp_statistics ks;
	socklen_t len = sizeof(ks);

	if (!x || !st)
		return -EINVAL;
	*st = x->st;
	st->posted_now = x->posted_now;
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &ks, &len))
		return -errno;
	st->rx_dropped = ks.rx_dropped;
	st->rx_invalid_descs = ks.rx_invalid_descs;
	st->rx_ring_full = ks.rx_ring_full;
	st->rx_fill_ring_empty_descs = ks.rx_fill_ring_empty_descs;
	return 0;
}

const char *netmem_xsk_mode(const struct netmem_xsk *x)
{
	if (!x)
		return "none";
	return x->zerocopy ? "zerocopy" : "copy";
}

int netmem_xsk_fd(const struct netmem_xsk *x)
{
	return x ? x->fd : -EINVAL;
}

uint32_t netmem_xsk_frame_size(const struct netmem_xsk *x)
{
	return x ? x->frame_size : 0;
}
