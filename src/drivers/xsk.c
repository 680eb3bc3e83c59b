/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP driver (see include/netmem/xsk.h).
 *
 * UMEM = the pool's whole area, registered in unaligned chunk mode so that a
 * fill address may be any byte offset: the fill ring gets frame_size
 * fragments carved from the pool's large chunks, each starting at a
 * multiple of the frame size's power of 2 so that none crosses a page. The
 * kernel hands a completion back as "fill address | data offset << 48"; the
 * fill address names the chunk (address >> chunk shift), and the fragment's
 * reference travels with the frame to the application.
 *
 * The kernel may keep fill entries it has taken (copy mode keeps a free
 * list of them), so the order of completions is not the order of fills.
 * What is posted is therefore counted per chunk (posted[]), and close gives
 * back exactly those references once the socket is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>
#include <linux/if_xdp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "netmem/xsk.h"
#include "rx_internal.h"

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
/* Header chunks: a batch of NETMEM_RX_MAX_BATCH headers of up to
 * NETMEM_XSK_MAX_HDR bytes, 64-byte aligned: 64 KiB. */
#define NETMEM_XSK_HDR_ORDER 4
_Static_assert(NETMEM_RX_MAX_BATCH * NETMEM_XSK_MAX_HDR <= 4096 << NETMEM_XSK_HDR_ORDER,
	       "a header chunk holds a full batch");

struct netmem_xsk {
	/* Rings first: the poll loop touches these on every call. */
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq; /* unused (no tx), required by the UMEM */
	struct netmem_pool *pool;     /* payload: its area is the UMEM */
	struct netmem_area *area;
	struct netmem_pool *hdr_pool; /* host, for software header split */
	uint8_t *hdr_buf;             /* this batch's header chunk, or NULL */
	uint32_t hdr_off;             /* next free byte in it */
	uint32_t frame_size;
	uint32_t chunk_shift;
	uint32_t fill_size;
	int hdr_split;
	unsigned flags;
	unsigned queue;
	uint16_t *posted;         /* per chunk: fragments with the kernel */
	uint64_t posted_now;
	int fd;
	bool zerocopy;
	bool revoked;
	bool gone;                /* the socket was unbound: interface removed */
	unsigned idle;            /* empty recv/wait(0) calls since a probe */
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_prog *prog;    /* the interface's XDP program, shared */
	int ifindex;
	bool in_map;
	struct netmem_xsk_stats st;
	uint64_t revoked_taken; /* of st.drop_revoked: frames already in rx_frames */
	struct netmem_xsk_frame {
		netmem_t chunk;     /* holds the fragment's reference */
		uint32_t chunk_off; /* first frame byte inside the chunk */
		uint32_t len;
	} burst[NETMEM_RX_MAX_BATCH];
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

/* Empty recv (or wait(0)) calls between two checks for a removed interface:
 * a syscall every so often, none on the receive path itself. */
#define XSK_IDLE_PROBE 4096

/*
 * recvfrom() answered ENXIO: the kernel unbound the socket because its
 * interface was unregistered (deleted, or moved to another namespace), and
 * nothing will arrive any more, or a zero-copy driver's wakeup answered
 * ENXIO while it reconfigures. Unbinding also set the socket's error to
 * ENETDOWN (reading it clears it; the queue is stopped right after) and
 * took the interface out of the namespace: either tells them apart.
 */
static void check_unbound(struct netmem_xsk *x)
{
	char name[IF_NAMESIZE];
	socklen_t len = sizeof(int);
	int err = 0;

	if ((!getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len) && err == ENETDOWN) ||
	    !if_indextoname((unsigned)x->ifindex, name))
		x->gone = true;
}

/* Non-blocking: drives the kernel's rx (or busy-poll) path, and learns of
 * a removed interface. */
static void kick(struct netmem_xsk *x)
{
	x->idle = 0;
	if (recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL) < 0 && errno == ENXIO)
		check_unbound(x);
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

/*
 * libxdp opens its sockets without SOCK_CLOEXEC: set it, so that a program
 * the process execs does not keep the device queue bound and the UMEM
 * pinned (include/netmem/xsk.h promises that much for system()).
 */
static int set_cloexec(int fd, const char *what)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return _netmem_err(errno, "xsk: close-on-exec on the %s: %s", what,
				   strerror(errno));
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
	return set_cloexec(xsk_umem__fd(x->umem), "UMEM socket");
}

static int socket_create(struct netmem_xsk *x, const struct netmem_xsk_params *p,
			 __u16 mode)
{
	struct xsk_socket_config cfg = {
		.rx_size = p->rx_size ? p->rx_size : XSK_RING_CONS__DEFAULT_NUM_DESCS,
		.tx_size = 0,
		/* The program is ours (prog_attach): libxdp's own handling
		 * leaks a map and a program fd per socket. */
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = mode,
	};

	int ret;

	if (p->flags & NETMEM_XSK_NEED_WAKEUP)
		cfg.bind_flags |= XDP_USE_NEED_WAKEUP;
	/* A socket closed a moment ago on this queue is released by the
	 * kernel in deferred work; until then bind says EBUSY. Wait for it,
	 * up to 2 s. */
	for (int i = 0;; i++) {
		ret = xsk_socket__create(&x->xsk, p->ifname, p->queue, x->umem, &x->rx, NULL,
					 &cfg);
		if (ret != -EBUSY || i == 200)
			return ret;
		usleep(10000);
	}
}

/*
 * Keep the ring mappings out of fork()ed children: a mapping holds the
 * socket, and a child that lives on (a traffic generator, a worker) would
 * keep the device queue bound after the queue is destroyed here.
 */
static void rings_dontfork(struct netmem_xsk *x)
{
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);

	if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len) || len != sizeof(off))
		return;
	madvise((char *)x->rx.ring - off.rx.desc,
		off.rx.desc + (size_t)x->rx.size * sizeof(struct xdp_desc), MADV_DONTFORK);
	madvise((char *)x->fq.ring - off.fr.desc,
		off.fr.desc + (size_t)x->fq.size * sizeof(__u64), MADV_DONTFORK);
	madvise((char *)x->cq.ring - off.cr.desc,
		off.cr.desc + (size_t)x->cq.size * sizeof(__u64), MADV_DONTFORK);
}

static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/*
 * The XDP program of one interface, shared by the queues of this process
 * on it (in one network namespace): its xsks_map has a slot per queue, and
 * the program goes when the last queue does.
 */
struct xsk_prog {
	struct xsk_prog *next;
	uint64_t netns;            /* inode of the network namespace */
	int ifindex;
	unsigned refs;             /* queues using it; under prog_lock */
	struct xdp_program *obj;   /* libxdp's xsk_def_xdp_prog */
	int prog_fd;
	int link_fd;               /* its XDP link, -1 when netlink-attached */
	int map_fd;                /* its xsks_map */
	uint32_t max_queues;       /* xsks_map entries */
	__u32 flags;               /* XDP_FLAGS_DRV_MODE or _SKB_MODE */
};

#define XSK_MAP_MIN_QUEUES 64

/* The most receive queues the device can have (ethtool channels), 0 if it
 * does not say. */
static unsigned dev_max_queues(const char *ifname)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	struct ifreq ifr;
	unsigned n = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ch;
	/* rx-only channels come on top of combined ones */
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		n = ch.max_rx + ch.max_combined;
	close(fd);
	return n;
}

static pthread_mutex_t prog_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xsk_prog *progs; /* under prog_lock */
static pid_t progs_pid;        /* the process progs belongs to */

/*
 * A fork()ed child inherits progs, whose descriptor numbers are the
 * parent's: closed in the child, or reused there for other files. The
 * child starts with an empty list; the parent's entries are neither used
 * nor closed in it (their queues are the parent's). prog_lock held.
 */
static void progs_forget_parent(void)
{
	pid_t self = getpid();

	if (progs_pid != self) {
		progs = NULL;
		progs_pid = self;
	}
}

/*
 * Attach in pr->flags mode. A BPF link first: the kernel detaches it when
 * its fd closes, so a process that dies (crash, SIGKILL) leaves no program
 * behind. Kernels before 5.9 have no XDP links: netlink attach, never over
 * another program.
 */
static int attach_one(struct xsk_prog *pr)
{
	LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = pr->flags);
	int fd = bpf_link_create(pr->prog_fd, pr->ifindex, BPF_XDP, &lo);

	if (fd >= 0) {
		pr->link_fd = fd;
		return 0;
	}
	if (fd != -EINVAL && fd != -EOPNOTSUPP)
		return fd;
	return bpf_xdp_attach(pr->ifindex, pr->prog_fd, pr->flags | XDP_FLAGS_UPDATE_IF_NOEXIST,
			      NULL);
}

static void prog_free(struct xsk_prog *pr)
{
	if (pr->link_fd >= 0) {
		close(pr->link_fd);
	} else if (pr->prog_fd >= 0) {
		/* REPLACE with old_prog_fd: detach only if ours is there. */
		struct bpf_xdp_attach_opts o = { .sz = sizeof(o), .old_prog_fd = pr->prog_fd };

		bpf_xdp_detach(pr->ifindex, pr->flags | XDP_FLAGS_REPLACE, &o);
	}
	if (pr->obj)
		xdp_program__close(pr->obj);
	free(pr);
}

/*
 * Load and attach libxdp's default AF_XDP program (redirect a queue's
 * frames to the socket in its xsks_map, pass the rest): native mode, else
 * generic (skb) mode, and never over another program. libxdp finds and
 * opens the object file; loading and attaching go through libbpf, since
 * libxdp's detach (1.3, without bpffs) leaks a program fd per call. The
 * libraries' chatter about BTF sections is silenced meanwhile; errors are
 * reported through ours.
 */
static int prog_load(struct xsk_prog *pr, const struct netmem_xsk_params *p)
{
	libbpf_print_fn_t old_bpf = libbpf_set_print(quiet_bpf);
	libxdp_print_fn_t old_xdp = libxdp_set_print(quiet_xdp);
	struct bpf_object *obj;
	struct bpf_program *bp;
	struct bpf_map *map;
	unsigned dev_max;
	int ret;

	pr->obj = xdp_program__find_file("xsk_def_xdp_prog.o", NULL, NULL);
	ret = (int)libxdp_get_error(pr->obj);
	if (ret) {
		pr->obj = NULL;
		ret = _netmem_err(-ret, "xsk: cannot open libxdp's xsk_def_xdp_prog.o: %s",
				  strerror(-ret));
		goto out;
	}
	obj = xdp_program__bpf_obj(pr->obj);
	map = bpf_object__find_map_by_name(obj, "xsks_map");
	bp = bpf_object__find_program_by_name(obj, "xsk_def_prog");
	/* Room for every queue the device can have, so that a later queue
	 * of this process fits whatever the order they come in. */
	pr->max_queues = p->queue + 1 > XSK_MAP_MIN_QUEUES ? p->queue + 1 : XSK_MAP_MIN_QUEUES;
	dev_max = dev_max_queues(p->ifname);
	if (dev_max > pr->max_queues)
		pr->max_queues = dev_max;
	if (!map || !bp || bpf_map__set_max_entries(map, pr->max_queues)) {
		ret = _netmem_err(ENOENT, "xsk: xsk_def_xdp_prog.o lacks xsk_def_prog or xsks_map");
		goto out;
	}
	ret = bpf_object__load(obj);
	if (ret) {
		ret = _netmem_err(-ret, "xsk: loading the XDP program: %s", strerror(-ret));
		goto out;
	}
	pr->prog_fd = bpf_program__fd(bp);
	ret = -EOPNOTSUPP;
	if (!(p->flags & NETMEM_XSK_SKB_MODE)) {
		pr->flags = XDP_FLAGS_DRV_MODE;
		ret = attach_one(pr);
	}
	if (ret && ret != -EBUSY && ret != -EEXIST) {
		pr->flags = XDP_FLAGS_SKB_MODE;
		ret = attach_one(pr);
	}
	if (ret) {
		pr->prog_fd = -1; /* nothing to detach */
		/* The kernel says EEXIST for another program in the other
		 * mode, EBUSY in the same: both are "taken". */
		if (ret == -EEXIST)
			ret = -EBUSY;
		ret = _netmem_err(-ret, "xsk: attaching the XDP program to %s: %s%s", p->ifname,
				  strerror(-ret), ret == -EBUSY ? " (another one is attached)" : "");
		goto out;
	}
	pr->map_fd = bpf_map__fd(map);
out:
	libbpf_set_print(old_bpf);
	libxdp_set_print(old_xdp);
	return ret;
}

/* Network namespace of the calling thread (its inode), 0 if unknown. */
static uint64_t current_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

/* Get the interface's program (load and attach it for the first queue). */
static int prog_attach(struct netmem_xsk *x, const struct netmem_xsk_params *p)
{
	uint64_t ns = current_netns();
	struct xsk_prog *pr;
	int ret = 0;

	pthread_mutex_lock(&prog_lock);
	progs_forget_parent();
	for (pr = progs; pr; pr = pr->next)
		if (pr->ifindex == x->ifindex && pr->netns == ns)
			break;
	if (pr && p->queue >= pr->max_queues) {
		ret = _netmem_err(EINVAL, "xsk: queue %u beyond the %u queues of the program "
					  "already on %s", p->queue, pr->max_queues, p->ifname);
	} else if (pr) {
		pr->refs++;
	} else {
		pr = calloc(1, sizeof(*pr));
		if (!pr) {
			ret = _netmem_err(ENOMEM, "xsk: no memory");
		} else {
			pr->netns = ns;
			pr->ifindex = x->ifindex;
			pr->prog_fd = -1;
			pr->link_fd = -1;
			pr->map_fd = -1;
			ret = prog_load(pr, p);
			if (ret) {
				prog_free(pr);
			} else {
				pr->refs = 1;
				pr->next = progs;
				progs = pr;
			}
		}
	}
	if (!ret)
		x->prog = pr;
	pthread_mutex_unlock(&prog_lock);
	return ret;
}

/* Leave the program: take the socket out of its map; the last one detaches. */
static void prog_detach(struct netmem_xsk *x)
{
	struct xsk_prog *pr = x->prog, **pp;

	if (!pr)
		return;
	if (x->in_map)
		bpf_map_delete_elem(pr->map_fd, &x->queue);
	x->in_map = false;
	x->prog = NULL;
	pthread_mutex_lock(&prog_lock);
	if (--pr->refs == 0) {
		for (pp = &progs; *pp; pp = &(*pp)->next) {
			if (*pp == pr) {
				*pp = pr->next;
				break;
			}
		}
		prog_free(pr);
	}
	pthread_mutex_unlock(&prog_lock);
}

static int pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/*
 * Header length of an Ethernet frame: L2 (up to two VLAN tags), IPv4 or
 * IPv6 (no extension headers), UDP or TCP. Stops at the last layer it
 * recognises. p holds the first n bytes of the frame. *end is where the IP
 * datagram ends by its own length field, when it has one that ends inside
 * the frame: what follows is the link's padding (frames under 60 bytes from
 * a NIC), not payload. Otherwise *end is left alone.
 */
static uint32_t parse_hdr_len(const uint8_t *p, uint32_t n, uint32_t *hash, uint32_t *end)
{
	uint32_t off = 14, l4 = 0, h = 0;
	uint16_t type;
	uint8_t proto;

	if (n < 14)
		return n;
	type = (uint16_t)(p[12] << 8 | p[13]);
	for (int v = 0; v < 2 && (type == ETH_P_8021Q || type == ETH_P_8021AD); v++) {
		if (n < off + 4)
			return off;
		type = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (type == ETH_P_IP && n >= off + 20 && p[off] >> 4 == 4) {
		uint32_t ihl = (p[off] & 0x0fu) * 4;

		if (ihl < 20 || n < off + ihl)
			return off;
		uint32_t tot = (uint32_t)(p[off + 2] << 8 | p[off + 3]);

		proto = p[off + 9];
		for (int i = 12; i < 20; i++)
			h = (h ^ p[off + i]) * 16777619u;
		/* Fragments: only the first has the L4 header, so every
		 * fragment of a datagram hashes its addresses and protocol
		 * alone (one flow), and the L4 header stays in the payload. */
		if (p[off + 6] & 0x3f || p[off + 7]) {
			h = (h ^ proto) * 16777619u;
			proto = 0;
		}
		if (tot >= ihl && off + tot < *end)
			*end = off + tot;
		off += ihl;
	} else if (type == ETH_P_IPV6 && n >= off + 40 && p[off] >> 4 == 6) {
		/* 0: a jumbogram's length is in an extension header */
		uint32_t plen = (uint32_t)(p[off + 4] << 8 | p[off + 5]);

		proto = p[off + 6];
		for (int i = 8; i < 40; i++)
			h = (h ^ p[off + i]) * 16777619u;
		if (plen && off + 40 + plen < *end)
			*end = off + 40 + plen;
		off += 40;
	} else {
		return off;
	}
	if (proto == IPPROTO_UDP)
		l4 = 8;
	else if (proto == IPPROTO_TCP && n >= off + 13)
		l4 = (p[off + 12] >> 4) * 4u;
	if (l4 && n >= off + l4) {
		for (int i = 0; i < 4; i++)
			h = (h ^ p[off + i]) * 16777619u;
		off += l4;
	}
	h = (h ^ proto) * 16777619u;
	*hash = h;
	return off;
}

/* Take up to n completions from the rx ring into x->burst. */
static unsigned rx_ring_take(struct netmem_xsk *x, unsigned n)
{
	uint32_t idx = 0, got;

	/* Acquire load of the producer index (inside peek): the descriptors
	 * and frame bytes the kernel wrote are visible after it. */
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	for (uint32_t i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		/* Unaligned mode: fill address | data offset << 48. The fill
		 * address names the chunk the fragment was carved from. */
		uint64_t base = xsk_umem__extract_addr(d->addr);
		uint64_t chunk = base >> x->chunk_shift;

		x->posted[chunk]--;
		x->burst[i].chunk = _netmem_handle(&x->area->desc[chunk]);
		x->burst[i].chunk_off = (uint32_t)(xsk_umem__add_offset_to_addr(d->addr) -
						   (chunk << x->chunk_shift));
		x->burst[i].len = d->len;
		x->st.rx_bytes += d->len;
	}
	if (got) {
		/* Release store of the consumer index: the kernel reuses the
		 * descriptor slots only after our reads above. */
		xsk_ring_cons__release(&x->rx, got);
		x->st.rx_frames += got;
		x->posted_now -= got;
	}
	return got;
}

/* Software header split of one frame into pkt. 0, or -1: drop it. */
static int split_frame(struct netmem_rxq *q, struct netmem_xsk *x,
		       const struct netmem_xsk_frame *fr, struct netmem_rx_pkt *pkt)
{
	/* Parsing: the longest headers it knows (Ethernet, two VLAN tags,
	 * IPv4 and TCP, both with 40 bytes of options: 142) fit. */
	uint32_t want = x->hdr_split > 0 ? (uint32_t)x->hdr_split : NETMEM_XSK_MAX_HDR;
	uint32_t n = fr->len < want ? fr->len : want, hlen, hash = 0, len = fr->len;
	const uint8_t *frame = netmem_address(fr->chunk);
	uint8_t *dst;
	netmem_t hh;

	/* A UMEM is CPU memory (checked at create): the driver, acting as
	 * the device here, reads the headers in place and copies them once
	 * into the host header pool. NULL only once revoked (after this
	 * batch's poll): dropped as revoked, like the frames xsk_revoked()
	 * finds in the ring, but already counted in rx_frames. */
	if (unlikely(!frame)) {
		x->st.drop_revoked++;
		x->revoked_taken++;
		return -1;
	}
	frame += fr->chunk_off;
	hlen = x->hdr_split > 0 ? n : parse_hdr_len(frame, n, &hash, &len);
	if (hlen > len) /* the datagram ends inside the headers parsed */
		hlen = len;
	if (!x->hdr_buf) {
		/* One header chunk per batch, held until the next recv as one
		 * reference: no per-packet refcount. It holds a full batch of
		 * the longest headers (NETMEM_XSK_HDR_ORDER). */
		hh = netmem_pool_alloc_direct(x->hdr_pool);
		if (!hh) {
			x->st.hdr_alloc_failed++;
			return -1;
		}
		_netmem_rxq_hold_hdr(q, hh);
		x->hdr_buf = netmem_address(hh);
		x->hdr_off = 0;
	}
	dst = x->hdr_buf + x->hdr_off;
	x->hdr_off += (hlen + 63) & ~63u;
	memcpy(dst, frame, hlen);
	pkt->hdr = hlen ? dst : NULL;
	pkt->hdr_len = hlen;
	pkt->hash = hash;
	pkt->flow = hash;
	pkt->len = len;
	if (hlen == len) {
		/* Header only: the payload fragment goes straight back. */
		netmem_pool_put_direct(x->pool, fr->chunk);
		pkt->nr_frags = 0;
		return 0;
	}
	pkt->frag[0].token = fr->chunk;
	pkt->frag[0].offset = fr->chunk_off + hlen;
	pkt->frag[0].len = len - hlen;
	pkt->nr_frags = 1;
	return 0;
}

/*
 * Stop the device side, in the order that keeps every fragment accounted
 * for: the program first (no more redirects), then the socket; once it is
 * gone the kernel no longer writes into the fragments still posted, and
 * their references go back. The kernel's last counters are kept.
 */
static void xsk_stop(struct netmem_xsk *x)
{
	struct netmem_xsk_stats st;

	if (x->xsk && !netmem_xsk_stats(x, &st))
		x->st = st;
	prog_detach(x);
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	x->xsk = NULL;
	if (x->umem)
		xsk_umem__delete(x->umem);
	x->umem = NULL;
	x->fd = -1;
	if (x->posted) {
		for (size_t i = 0; i < x->area->spec.nr_chunks; i++) {
			netmem_t h = _netmem_handle(&x->area->desc[i]);

			for (; x->posted[i]; x->posted[i]--)
				netmem_pool_put_direct(x->pool, h);
		}
	}
	x->posted_now = 0;
}

/* Everything, for destroy and failed creates. */
static void xsk_teardown(struct netmem_xsk *x)
{
	xsk_stop(x);
	free(x->posted);
	/* Tokens still held keep their chunks; each pool is freed when its
	 * last chunk comes back. */
	if (x->pool)
		netmem_pool_destroy(x->pool);
	if (x->hdr_pool)
		netmem_pool_destroy(x->hdr_pool);
	free(x);
}

/*
 * Once per batch, as a NAPI poll would: a revoked payload provider means the
 * memory is going away, so the device must stop writing into it. The
 * socket and program go now; frames not yet taken are dropped and counted,
 * tokens held stay releasable.
 */
static __cold void xsk_revoked(struct netmem_xsk *x)
{
	uint32_t idx = 0, n;

	/* The program stops redirecting to the socket first, so that the
	 * drain below sees (and counts) nearly every frame still coming. */
	if (x->prog && x->in_map) {
		bpf_map_delete_elem(x->prog->map_fd, &x->queue);
		x->in_map = false;
	}
	n = x->xsk ? xsk_ring_cons__peek(&x->rx, UINT32_MAX, &idx) : 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t base = xsk_umem__extract_addr(xsk_ring_cons__rx_desc(&x->rx, idx + i)->addr);
		uint64_t chunk = base >> x->chunk_shift;

		x->posted[chunk]--;
		x->posted_now--;
		netmem_pool_put_direct(x->pool, _netmem_handle(&x->area->desc[chunk]));
	}
	if (n)
		xsk_ring_cons__release(&x->rx, n);
	x->st.drop_revoked += n;
	x->revoked = true;
	xsk_stop(x);
}

static void refill_all(struct netmem_xsk *x)
{
	while (fill_refill(x) == XSK_FILL_BATCH)
		;
}

static int xsk_recv(struct netmem_rxq *q, struct netmem_rx_pkt *pkts, unsigned max)
{
	struct netmem_xsk *x = _netmem_rxq_priv(q);
	unsigned got, out = 0;

	if (unlikely(x->fd < 0)) /* stopped: revoked, or the interface gone */
		return 0;
	/* Cost: one load of the area's revoked flag per batch. */
	if (unlikely(netmem_pool_poll(x->pool) == -ENODEV)) {
		xsk_revoked(x);
		return 0;
	}
	got = rx_ring_take(x, max);
	x->hdr_buf = NULL; /* the last batch's chunk went back in recv */
	for (unsigned i = 0; i < got; i++) {
		const struct netmem_xsk_frame *fr = &x->burst[i];
		struct netmem_rx_pkt *pkt = &pkts[out];

		pkt->len = fr->len;
		pkt->seq = 0;
		pkt->csum = 0;
		pkt->flags = 0;
		if (x->hdr_split) {
			if (split_frame(q, x, fr, pkt)) {
				netmem_pool_put_direct(x->pool, fr->chunk);
				continue;
			}
		} else {
			/* Zero-copy: the frame is the payload fragment. */
			pkt->hdr = NULL;
			pkt->hdr_len = 0;
			pkt->hash = 0;
			pkt->flow = 0;
			pkt->frag[0].token = fr->chunk;
			pkt->frag[0].offset = fr->chunk_off;
			pkt->frag[0].len = fr->len;
			pkt->nr_frags = 1;
		}
		out++;
	}
	if (unlikely(x->gone)) {
		/* Nothing arrives any more: stop once the ring is empty. */
		if (!got)
			xsk_stop(x);
		return (int)out;
	}
	refill_all(x);
	if (got) {
		x->idle = 0;
	} else if (x->flags & NETMEM_XSK_BUSY_POLL ||
		   (x->flags & NETMEM_XSK_NEED_WAKEUP && xsk_ring_prod__needs_wakeup(&x->fq))) {
		x->st.wakeups++;
		kick(x);
	} else if (unlikely(++x->idle >= XSK_IDLE_PROBE)) {
		kick(x); /* only to learn of a removed interface */
	}
	return (int)out;
}

static int xsk_refill(struct netmem_rxq *q)
{
	struct netmem_xsk *x = _netmem_rxq_priv(q);

	if (!x->revoked && netmem_pool_poll(x->pool) == -ENODEV)
		xsk_revoked(x);
	if (x->fd < 0 || x->gone)
		return -ENODEV;
	refill_all(x);
	return (int)(x->posted_now > INT32_MAX ? INT32_MAX : x->posted_now);
}

static void xsk_stats_op(struct netmem_rxq *q, struct netmem_rxq_stats *st)
{
	struct netmem_xsk *x = _netmem_rxq_priv(q);
	struct netmem_xsk_stats s;

	netmem_xsk_stats(x, &s);
	/* In copy mode a fill-ring miss is also counted in rx_dropped. */
	st->drop_no_buf = s.rx_dropped > s.rx_fill_ring_empty_descs ? s.rx_dropped
								    : s.rx_fill_ring_empty_descs;
	st->drop_overflow = s.rx_ring_full;
	st->drop_revoked = s.drop_revoked;
	st->drop_fault = s.hdr_alloc_failed;
	st->generated = s.rx_frames + st->drop_no_buf + st->drop_overflow + s.drop_revoked -
			x->revoked_taken;
	st->posted = s.posted_now;
	st->revoked = x->revoked;
	st->queue = x->queue;
}

static int xsk_set_owner(struct netmem_rxq *q)
{
	struct netmem_xsk *x = _netmem_rxq_priv(q);
	int ret = netmem_pool_set_owner(x->pool);

	if (!ret && x->hdr_pool)
		ret = netmem_pool_set_owner(x->hdr_pool);
	return ret;
}

static void xsk_destroy(struct netmem_rxq *q)
{
	xsk_teardown(_netmem_rxq_priv(q));
}

static const struct netmem_rx_driver_ops xsk_ops = {
	.size = sizeof(struct netmem_rx_driver_ops),
	.name = "xsk",
	.recv = xsk_recv,
	.refill = xsk_refill,
	.stats = xsk_stats_op,
	.set_owner = xsk_set_owner,
	.destroy = xsk_destroy,
};

static struct netmem_pool *make_pool(struct netmem_provider *prov, const char *spec, int order,
				     uint32_t nr_chunks, uint32_t frag_align)
{
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_provider *own = NULL;

	if (!prov) {
		own = prov = netmem_provider_create(spec);
		if (!prov)
			return NULL;
	}
	netmem_pool_params_init(&pp, prov);
	pp.order = order;
	pp.nr_chunks = nr_chunks;
	pp.frag_align = frag_align;
	pool = netmem_pool_create(&pp);
	/* The instance lives on as long as the pool's area. */
	netmem_provider_destroy(own);
	return pool;
}

/* Everything but the queue itself. 0 or -errno with the reason set. */
static int xsk_setup(struct netmem_xsk *x, struct netmem_xsk_params *p)
{
	uint32_t chunk, page, stride;
	int ret, mtu, order = p->order;

	if (order < 0) {
		/* The provider's order where it has one above 4 KiB (a spec's
		 * order=, hugetlb's 2 MiB), else 64 KiB chunks. */
		order = p->provider ? netmem_provider_default_order(p->provider) : 0;
		if (order <= 0)
			order = 4;
	}

	mtu = if_mtu(p->ifname);
	if (mtu < 0)
		return _netmem_err(-mtu, "xsk: interface %s: %s", p->ifname, strerror(-mtu));
	/* Unaligned UMEM chunks may not span pages: the kernel refuses frames
	 * above the page size, whatever memory backs the UMEM. */
	page = (uint32_t)sysconf(_SC_PAGESIZE);
	chunk = UINT32_C(4096) << order;
	if (!p->frame_size) {
		/* Room for the kernel's headroom and an Ethernet+VLAN frame, up
		 * to a page (larger frames are dropped: no multi-buffer). */
		p->frame_size = (XSK_KERNEL_HEADROOM + (uint32_t)mtu + 18 + 63) & ~63u;
		if (p->frame_size < XSK_MIN_FRAME)
			p->frame_size = XSK_MIN_FRAME;
		if (p->frame_size > page)
			p->frame_size = page;
	}
	if (p->frame_size < XSK_MIN_FRAME || p->frame_size > chunk || p->frame_size > page)
		return _netmem_err(EINVAL,
				   "xsk: frame size %u outside %u..%u (the smaller of the chunk "
				   "size %u and the page size %u)",
				   p->frame_size, XSK_MIN_FRAME, chunk < page ? chunk : page, chunk,
				   page);
	/* Frames start at multiples of the frame size's power of 2 (at most
	 * the page), so none crosses a page: in zero-copy mode the kernel
	 * drops a fill entry that spans pages not contiguous for the device. */
	stride = 64;
	while (stride < p->frame_size)
		stride <<= 1;
	if (!p->nr_chunks) {
		uint64_t need = ((uint64_t)p->fill_size + p->rx_size) * 2 * stride;

		p->nr_chunks = (uint32_t)((need + chunk - 1) / chunk);
		if (p->nr_chunks < 8)
			p->nr_chunks = 8;
	}
	x->pool = make_pool(p->provider, "host", order, p->nr_chunks, stride);
	if (!x->pool)
		return -errno;
	x->area = x->pool->area;
	if (!x->area->hdr.readable || !x->area->spec.cpu_base)
		return _netmem_err(EOPNOTSUPP,
				   "xsk: the payload memory is not CPU-mapped; a UMEM must be "
				   "(use host, hugetlb or memfd)");
	if (p->hdr_split) {
		x->hdr_pool = make_pool(NULL, "host", NETMEM_XSK_HDR_ORDER, 4, 0);
		if (!x->hdr_pool)
			return -errno;
	}
	x->posted = calloc(x->area->spec.nr_chunks, sizeof(*x->posted));
	if (!x->posted)
		return _netmem_err(ENOMEM, "xsk: no memory");
	x->frame_size = p->frame_size;
	x->chunk_shift = (uint32_t)__builtin_ctz(chunk);
	x->fill_size = p->fill_size;
	x->hdr_split = p->hdr_split;
	x->flags = p->flags;
	x->queue = p->queue;
	x->st.umem_bytes = x->area->spec.size;

	x->ifindex = (int)if_nametoindex(p->ifname);
	ret = prog_attach(x, p);
	if (ret)
		return ret;
	ret = umem_create(x);
	if (ret)
		return ret;
	if (p->flags & NETMEM_XSK_COPY) {
		ret = socket_create(x, p, XDP_COPY);
	} else {
		ret = socket_create(x, p, XDP_ZEROCOPY);
		/* EBUSY (the queue is bound) is not about zero-copy: it stays
		 * the answer, after the one wait socket_create() did. */
		if (ret && ret != -EBUSY && !(p->flags & NETMEM_XSK_ZEROCOPY)) {
			/* No zero-copy here (veth, generic mode): start over
			 * with a fresh UMEM in copy mode. */
			xsk_umem__delete(x->umem);
			x->umem = NULL;
			ret = umem_create(x);
			if (ret)
				return ret;
			ret = socket_create(x, p, XDP_COPY);
		}
	}
	if (ret) {
		x->xsk = NULL;
		return _netmem_err(-ret, "xsk: socket on %s queue %u (%s): %s", p->ifname,
				   p->queue,
				   p->flags & NETMEM_XSK_ZEROCOPY ? "zero-copy required" : "copy mode",
				   strerror(-ret));
	}
	x->fd = xsk_socket__fd(x->xsk);
	ret = set_cloexec(x->fd, "AF_XDP socket");
	if (ret)
		return ret;
	rings_dontfork(x);
	ret = xsk_socket__update_xskmap(x->xsk, x->prog->map_fd);
	if (ret)
		return _netmem_err(-ret, "xsk: adding the socket to the XDP program's map: %s",
				   strerror(-ret));
	x->in_map = true;
	{
		struct xdp_options opts;
		socklen_t optlen = sizeof(opts);

		if (!getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen))
			x->zerocopy = opts.flags & XDP_OPTIONS_ZEROCOPY;
	}
	if (p->flags & NETMEM_XSK_BUSY_POLL) {
		ret = set_busy_poll(x, p);
		if (ret)
			return ret;
	}
	fill_all(x);
	if (!x->posted_now)
		return _netmem_err(ENOMEM, "xsk: the pool has no memory for the fill ring");
	if (p->flags & NETMEM_XSK_NEED_WAKEUP && xsk_ring_prod__needs_wakeup(&x->fq))
		kick(x);
	return 0;
}

struct netmem_rxq *netmem_xsk_rxq_create(const struct netmem_xsk_params *pp)
{
	struct netmem_xsk_params p = { 0 };
	struct netmem_rxq *q;
	struct netmem_xsk *x;
	int ret;

	if (!pp || pp->size < offsetof(struct netmem_xsk_params, busy_poll_usec) ||
	    pp->size > sizeof(p)) {
		errno = -_netmem_err(EINVAL, "xsk: NULL params or bad size field");
		return NULL;
	}
	memcpy(&p, pp, pp->size);
	if (!p.ifname || !p.ifname[0] || strlen(p.ifname) >= IF_NAMESIZE ||
	    (p.flags & NETMEM_XSK_COPY && p.flags & NETMEM_XSK_ZEROCOPY) ||
	    p.hdr_split < NETMEM_XSK_SPLIT_AUTO || p.hdr_split > NETMEM_XSK_MAX_HDR ||
	    p.order > NETMEM_MAX_ORDER || p.order < -1) {
		errno = -_netmem_err(EINVAL, "xsk: bad parameters (interface name, flags, "
					     "hdr_split or order)");
		return NULL;
	}
	if (!p.fill_size)
		p.fill_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
	if (!p.rx_size)
		p.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
	if (!pow2(p.fill_size) || !pow2(p.rx_size)) {
		errno = -_netmem_err(EINVAL, "xsk: ring sizes must be powers of 2");
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		errno = -_netmem_err(ENOMEM, "xsk: no memory");
		return NULL;
	}
	x->fd = -1;
	ret = xsk_setup(x, &p);
	if (ret)
		goto fail;
	/* One token per fragment the area can hold: the application may
	 * hold all of them (back-pressure then stops the fill ring). A UMEM
	 * of more fragments than a table holds (over 32 GiB of 2 KiB frames)
	 * gets a full table; packets beyond it drop as drop_no_token. */
	{
		uint64_t frags = (uint64_t)x->area->spec.nr_chunks * ((uint64_t)1 << x->chunk_shift) /
				 x->frame_size;

		q = _netmem_rxq_create(&xsk_ops, x,
				       frags < _NETMEM_RX_MAX_TOKENS ? (uint32_t)frags
								     : _NETMEM_RX_MAX_TOKENS);
	}
	if (!q) {
		ret = -errno;
		goto fail;
	}
	return q;
fail:
	xsk_teardown(x);
	errno = -ret;
	return NULL;
}

struct netmem_xsk *netmem_xsk_of(struct netmem_rxq *q)
{
	const char *d = netmem_rxq_driver(q);

	return d && !strcmp(d, "xsk") ? _netmem_rxq_priv(q) : NULL;
}

int netmem_xsk_wait(struct netmem_xsk *x, int timeout_ms)
{
	struct pollfd pfd;
	int ret;

	if (!x)
		return -EINVAL;
	/* A revoke on an idle queue: recv would notice it, a wait must too. */
	if (!x->revoked && netmem_pool_poll(x->pool) == -ENODEV)
		xsk_revoked(x);
	if (x->fd < 0)
		return -ENODEV;
	if (xsk_cons_nb_avail(&x->rx, 1))
		return 1;
	/* An unbound socket polls as idle for ever: the wait sleeps in
	 * slices of at most a second and asks the socket after each (one
	 * syscall), so that even an endless wait hears of a removal. */
	while (!x->gone) {
		int slice = timeout_ms < 0 || timeout_ms > 1000 ? 1000 : timeout_ms;

		pfd.fd = x->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ret = poll(&pfd, 1, slice);
		if (ret < 0)
			return errno == EINTR ? 0 : -errno;
		if (ret > 0)
			return 1;
		if (slice > 0 || ++x->idle >= XSK_IDLE_PROBE)
			kick(x);
		if (x->gone)
			break;
		if (timeout_ms >= 0 && (timeout_ms -= slice) <= 0)
			return 0;
	}
	/* Frames the kernel wrote before it unbound: deliver them first. */
	if (xsk_cons_nb_avail(&x->rx, 1))
		return 1;
	xsk_stop(x);
	return -ENODEV;
}

int netmem_xsk_stats(struct netmem_xsk *x, struct netmem_xsk_stats *st)
{
	struct xdp_statistics ks = {0}; /* older kernels fill only a prefix */
	socklen_t len = sizeof(ks);

	if (!x || !st)
		return -EINVAL;
	*st = x->st;
	st->posted_now = x->posted_now;
	if (x->fd < 0)
		return 0; /* stopped (revoked): the kernel's last counters */
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
	if (!x)
		return -EINVAL;
	return x->fd >= 0 ? x->fd : -ENODEV;
}

uint32_t netmem_xsk_frame_size(const struct netmem_xsk *x)
{
	return x ? x->frame_size : 0;
}

struct netmem_pool *netmem_xsk_pool(const struct netmem_xsk *x)
{
	return x ? x->pool : NULL;
}
