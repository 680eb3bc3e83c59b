/* SPDX-License-Identifier: MIT */
/*
 * netmem bench xsk: AF_XDP receive over a veth pair in two private network
 * namespaces (made here, removed at exit), the same sendmmsg UDP flood of
 * 1500-byte frames against
 *   (a) netmem's xsk driver through the receive API (2 KiB fragments of
 *       64 KiB chunks, tokens released per batch), without and with header
 *       split, and
 *   (b) a plain libxdp receive loop with 4 KiB aligned frames that puts
 *       every frame straight back into the fill ring,
 * alternating, medians of --runs runs each. Reported: packets/s offered and
 * received in the flood (kernel-bound on veth), the receiver's own time per
 * packet in the flood, a receive-bound figure (a burst of 1024 frames left
 * in the rx ring, then drained as fast as the loop can: ns per packet),
 * kernel drops, and UMEM bytes held per buffered packet (netmem: pool chunks
 * out, sampled, over fragments posted + held; 4 KiB frames: 4096).
 * Needs root. Bounded: --runs (default 5) x 3 receivers x (--seconds, default
 * 1.5, + about 0.2 s of drain rounds): about 30 s in all.
 */
#include "../tools/cmds.h"

#ifdef NETMEM_HAVE_XDP
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include <bpf/libbpf.h>
#include <linux/if_xdp.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

#include "netmem/netmem.h"
#include "netmem/xsk.h"
#include "../tests/xsk_util.h"

#define MAX_RUNS 9
#define FRAME_4K 4096u
#define PLAIN_FRAMES 4096u /* fill + rx ring */

static char ns_tx[40], ns_rx[40], if_tx[16], if_rx[16];
static int ns_made;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void netns_down(void)
{
	if (!ns_made)
		return;
	ns_made = 0;
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", ns_tx, ns_rx);
}

static void on_signal(int sig)
{
	netns_down();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Two namespaces and a veth pair, as tests/xsk_netns.sh makes them. */
static int netns_up(void)
{
	struct ifreq ifr = { 0 };
	unsigned char *m;
	char mac[32];
	int s, pid = getpid();

	snprintf(ns_tx, sizeof(ns_tx), "nmxb-%d-tx", pid);
	snprintf(ns_rx, sizeof(ns_rx), "nmxb-%d-rx", pid);
	snprintf(if_tx, sizeof(if_tx), "nmbt%d", pid);
	snprintf(if_rx, sizeof(if_rx), "nmbr%d", pid);
	ns_made = 1;
	atexit(netns_down);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (sh("ip netns add %s && ip netns add %s", ns_tx, ns_rx) ||
	    sh("ip link add %s netns %s type veth peer name %s netns %s", if_tx, ns_tx, if_rx,
	       ns_rx) ||
	    sh("for n in %s %s; do ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
	       "net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1; ip -n $n link set lo up; "
	       "done",
	       ns_tx, ns_rx) ||
	    sh("ip -n %s addr add 198.18.0.1/30 dev %s && ip -n %s addr add 198.18.0.2/30 dev %s "
	       "&& ip -n %s link set %s up && ip -n %s link set %s up",
	       ns_tx, if_tx, ns_rx, if_rx, ns_tx, if_tx, ns_rx, if_rx))
		return -1;
	if (xu_setns(ns_rx))
		return -1;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", if_rx);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr))
		return -1;
	close(s);
	m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return sh("ip -n %s neigh replace 198.18.0.2 lladdr %s dev %s nud permanent", ns_tx, mac,
		  if_tx) ? -1 : 0;
}

/*
 * Cheap timestamps for the receive loops: the TSC where there is one (a
 * VM's clock_gettime costs more than the loop being measured), calibrated
 * against CLOCK_MONOTONIC once.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static double tsc_ns = 1.0;

static inline double now_fast(void)
{
	return (double)__rdtsc() * tsc_ns * 1e-9;
}

static void calibrate(void)
{
	double t0 = xu_now();
	uint64_t c0 = __rdtsc();

	usleep(20000);
	tsc_ns = (xu_now() - t0) * 1e9 / (double)(__rdtsc() - c0);
}
#else
static inline double now_fast(void)
{
	return xu_now();
}

static void calibrate(void)
{
}
#endif

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double pps;
	double ns_per_pkt;   /* receiver's productive time per packet */
	uint64_t packets;
	uint64_t sent;
	double offered;      /* sent / the sender's run time */
	uint64_t drops;      /* kernel: no buffer + ring full */
	double bytes_per_buf; /* UMEM bytes held per posted/held buffer */
	double drain_ns;     /* receive-bound: ns per packet draining a full ring */
	int failed;          /* the sender could not start or failed */
};

/* 0, or -1 with a message when the run's sender failed. */
static int sender_failed(const struct result *r)
{
	if (!r->failed)
		return 0;
	fprintf(stderr, "netmem bench xsk: the traffic sender failed (see its message above)\n");
	return -1;
}

/* Start the flood, receive with `poll_fn` until the sender is done. */
struct rx_loop {
	int (*poll)(void *ctx, double *dt); /* packets; *dt: time spent on them */
	void *ctx;
};

static struct result run_one(struct rx_loop *l, double seconds, uint64_t count)
{
	struct xu_shared *shm = xu_shared_new();
	struct xu_sender_cfg c = { .ns = ns_tx, .dst = "198.18.0.2", .flows = 1,
				   .count = count, .size = XU_MAX_PAYLOAD - sizeof(struct xu_hdr),
				   .batch = 64, .seconds = seconds, .fixed_payload = 1 };
	struct result r = { 0 };
	double t_first = 0, t_last = 0, busy = 0, drain = 0;
	uint64_t busy_pkts = 0;
	pid_t pid;

	double t_begin = xu_now();

	r.failed = 1;
	if (!shm)
		return r;
	pid = xu_sender_start(&c, shm);
	if (pid < 0) {
		munmap(shm, sizeof(*shm));
		return r;
	}
	for (;;) {
		double dt = 0;
		int n = l->poll(l->ctx, &dt);

		if (n > 0) {
			/* A batch of 64 takes a few µs; one that took 50 µs was
			 * preempted (a shared machine): its time is not the
			 * receive path's. */
			if (dt < 50e-6) {
				busy += dt;
				busy_pkts += (uint64_t)n;
			}
			t_last = xu_now();
			if (!t_first)
				t_first = t_last;
			r.packets += (uint64_t)n;
			drain = 0;
		} else if (atomic_load(&shm->done)) {
			/* Sender finished: drain for 20 ms of silence. */
			if (!drain)
				drain = now_fast();
			else if (now_fast() - drain > 0.02)
				break;
		} else if (xu_now() - t_begin > seconds + 30) {
			/* A sender that died without saying so: stop it. */
			atomic_store(&shm->stop, 1);
			kill(pid, SIGKILL);
			break;
		}
	}
	r.failed = xu_sender_wait(pid) != 0;
	r.sent = atomic_load(&shm->sent);
	{
		uint64_t us = atomic_load(&shm->elapsed_us);

		/* A sender that never ran reports 0: no rate, not NaN. */
		r.offered = us ? (double)r.sent / (double)us * 1e6 : 0;
	}
	if (t_last > t_first)
		r.pps = (double)r.packets / (t_last - t_first);
	if (busy_pkts)
		r.ns_per_pkt = busy * 1e9 / (double)busy_pkts;
	munmap(shm, sizeof(*shm));
	return r;
}

/*
 * Receive-bound figure. The flood above is limited by the kernel side (the
 * sender's CPU does the veth and copy-mode work), so both receivers keep
 * up. Here the sender puts DRAIN_BURST frames into the rx ring while the
 * receiver waits, then the receiver drains them as fast as it can: the
 * time per packet is the receive path's alone. Median over rounds.
 */
#define DRAIN_BURST 1024
#define DRAIN_ROUNDS 31

static int drain_sender(struct xu_shared *shm)
{
	static uint8_t buf[XU_MAX_PAYLOAD];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(XU_DST_PORT) };
	struct mmsghdr msg[64];
	struct iovec iov = { buf, 0 };
	int fd;

	close_range(3, ~0u, 0);
	if (xu_setns(ns_tx))
		return 2;
	inet_pton(AF_INET, "198.18.0.2", &dst.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		return 2;
	iov.iov_len = xu_make(buf, 0, 0, XU_MAX_PAYLOAD - sizeof(struct xu_hdr));
	for (int i = 0; i < 64; i++) {
		memset(&msg[i], 0, sizeof(msg[i]));
		msg[i].msg_hdr.msg_name = &dst;
		msg[i].msg_hdr.msg_namelen = sizeof(dst);
		msg[i].msg_hdr.msg_iov = &iov;
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	for (uint64_t r = 1; r <= DRAIN_ROUNDS && !atomic_load(&shm->stop); r++) {
		unsigned left = DRAIN_BURST;

		/* "received" carries the round the receiver is ready for. */
		while (atomic_load(&shm->received) < r && !atomic_load(&shm->stop))
			usleep(100);
		while (left) {
			int n = sendmmsg(fd, msg, left < 64 ? left : 64, 0);

			if (n > 0)
				left -= (unsigned)n;
			else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
				return 2;
		}
		atomic_store(&shm->sent, r);
	}
	return 0;
}

static double run_drain(struct rx_loop *l)
{
	struct xu_shared *shm = xu_shared_new();
	double per[DRAIN_ROUNDS];
	int rounds = 0;
	pid_t pid;

	if (!shm)
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(drain_sender(shm));
	for (uint64_t r = 1; r <= DRAIN_ROUNDS && pid > 0; r++) {
		double dt, t0, t1 = 0, wait_end = xu_now() + 1;
		unsigned got = 0;

		atomic_store(&shm->received, r);
		while (atomic_load(&shm->sent) < r && xu_now() < wait_end)
			usleep(100);
		usleep(2000); /* let the kernel finish the burst */
		t0 = now_fast();
		while (got < DRAIN_BURST && now_fast() - t0 < 0.05) {
			int n = l->poll(l->ctx, &dt);

			if (n > 0) {
				got += (unsigned)n;
				t1 = now_fast();
			}
		}
		if (got)
			per[rounds++] = (t1 - t0) * 1e9 / got;
	}
	atomic_store(&shm->stop, 1);
	if (pid > 0)
		xu_sender_wait(pid);
	munmap(shm, sizeof(*shm));
	if (!rounds)
		return 0;
	qsort(per, (size_t)rounds, sizeof(per[0]), cmp_d);
	return per[rounds / 2];
}

/* ---- (a) netmem ----------------------------------------------------- */

struct nm_ctx {
	struct netmem_rxq *q;
	struct netmem_pool *pool;
	uint32_t chunk;
	uint64_t iters;
	double held_sum, bufs_sum;
	uint64_t samples;
	int sample;           /* sample the UMEM footprint (flood only) */
};

static int nm_poll(void *arg, double *dt)
{
	struct nm_ctx *c = arg;
	struct netmem_rx_pkt pkts[64];
	uint64_t tok[64 * NETMEM_RX_MAX_FRAGS];
	double t0 = now_fast();
	int n = netmem_rxq_recv(c->q, pkts, 64);
	unsigned nt = 0;

	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++) /* one fragment each; none when header-only */
		for (unsigned j = 0; j < pkts[i].nr_frags; j++)
			tok[nt++] = pkts[i].frag[j].token;
	netmem_rxq_release(c->q, tok, nt);
	*dt = now_fast() - t0;
	if (c->sample && (++c->iters & 63) == 0) {
		/* UMEM footprint: chunks out of the pool against buffers that
		 * are posted or held (outside the timed part). */
		struct netmem_pool_stats ps;
		struct netmem_rxq_stats rs;

		netmem_pool_stats(c->pool, &ps);
		netmem_rxq_stats(c->q, &rs);
		c->held_sum += (double)ps.in_flight * c->chunk;
		c->bufs_sum += (double)(rs.posted + rs.tokens_held);
		c->samples++;
	}
	return n;
}

static int run_netmem(double seconds, uint64_t count, int split, struct result *r,
		      const char **mode)
{
	struct netmem_xsk_params xp;
	struct netmem_rxq_stats rs;
	struct nm_ctx c = { 0 };
	struct rx_loop l = { nm_poll, &c };

	netmem_xsk_params_init(&xp);
	xp.ifname = if_rx;
	xp.hdr_split = split;
	c.q = netmem_xsk_rxq_create(&xp);
	if (!c.q) {
		fprintf(stderr, "netmem bench xsk: netmem queue: %s\n", netmem_last_error());
		return -1;
	}
	*mode = netmem_xsk_mode(netmem_xsk_of(c.q));
	c.pool = netmem_xsk_pool(netmem_xsk_of(c.q));
	c.chunk = netmem_pool_chunk_size(c.pool);
	c.sample = 1;
	*r = run_one(&l, seconds, count);
	netmem_rxq_stats(c.q, &rs);
	c.sample = 0;
	r->drain_ns = run_drain(&l);
	r->drops = rs.drop_no_buf + rs.drop_overflow;
	r->bytes_per_buf = c.bufs_sum > 0 ? c.held_sum / c.bufs_sum : 0;
	netmem_rxq_destroy(c.q);
	return sender_failed(r);
}

/* ---- (b) plain libxdp loop, 4 KiB frames ----------------------------- */

struct plain_ctx {
	struct xsk_ring_cons rx;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	void *area;
};

static int plain_poll(void *arg, double *dt)
{
	struct plain_ctx *c = arg;
	uint32_t idx_rx = 0, idx_fq = 0, n;
	double t0 = now_fast();

	n = xsk_ring_cons__peek(&c->rx, 64, &idx_rx);
	if (!n)
		return 0;
	/* Every frame the ring gives back goes straight back to the fill
	 * ring: there are as many frames as fill + rx slots, so it fits. */
	while (xsk_ring_prod__reserve(&c->fq, n, &idx_fq) != n)
		;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&c->fq, idx_fq + i) =
			xsk_ring_cons__rx_desc(&c->rx, idx_rx + i)->addr;
	xsk_ring_prod__submit(&c->fq, n);
	xsk_ring_cons__release(&c->rx, n);
	*dt = now_fast() - t0;
	return (int)n;
}

static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static int run_plain(double seconds, uint64_t count, struct result *r)
{
	struct xsk_umem_config uc = { .fill_size = PLAIN_FRAMES / 2, .comp_size = 64,
				      .frame_size = FRAME_4K, .frame_headroom = 0, .flags = 0 };
	struct xsk_socket_config sc = { .rx_size = PLAIN_FRAMES / 2, .tx_size = 0 };
	struct plain_ctx c = { 0 };
	struct rx_loop l = { plain_poll, &c };
	struct xdp_statistics ks;
	socklen_t len = sizeof(ks);
	size_t size = (size_t)PLAIN_FRAMES * FRAME_4K;
	uint32_t idx = 0;
	int ret;

	c.area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.area == MAP_FAILED)
		return -1;
	/* libxdp loads its default program here: no chatter about it. */
	libbpf_set_print(quiet_bpf);
	libxdp_set_print(quiet_xdp);
	ret = xsk_umem__create(&c.umem, c.area, size, &c.fq, &c.cq, &uc);
	/* The previous run's socket is released by the kernel in deferred
	 * work; until then bind says EBUSY. */
	for (int i = 0; !ret; i++) {
		ret = xsk_socket__create(&c.xsk, if_rx, 0, c.umem, &c.rx, NULL, &sc);
		if (ret != -EBUSY || i == 200)
			break;
		ret = 0;
		usleep(10000);
	}
	if (ret) {
		fprintf(stderr, "netmem bench xsk: plain libxdp socket: %s\n", strerror(-ret));
		if (c.umem)
			xsk_umem__delete(c.umem);
		munmap(c.area, size);
		return -1;
	}
	xsk_ring_prod__reserve(&c.fq, PLAIN_FRAMES / 2, &idx);
	for (uint32_t i = 0; i < PLAIN_FRAMES / 2; i++)
		*xsk_ring_prod__fill_addr(&c.fq, idx + i) = (uint64_t)i * FRAME_4K;
	xsk_ring_prod__submit(&c.fq, PLAIN_FRAMES / 2);
	*r = run_one(&l, seconds, count);
	/* Drops of the flood, before the drain test, as for netmem. */
	if (!getsockopt(xsk_socket__fd(c.xsk), SOL_XDP, XDP_STATISTICS, &ks, &len))
		r->drops = (ks.rx_dropped > ks.rx_fill_ring_empty_descs ? ks.rx_dropped
									: ks.rx_fill_ring_empty_descs) +
			   ks.rx_ring_full;
	r->drain_ns = run_drain(&l);
	r->bytes_per_buf = FRAME_4K;
	xsk_socket__delete(c.xsk);
	xsk_umem__delete(c.umem);
	munmap(c.area, size);
	return sender_failed(r);
}

static double median(const struct result *r, int n, size_t field)
{
	double v[MAX_RUNS];

	for (int i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&r[i] + field);
	qsort(v, (size_t)n, sizeof(v[0]), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: netmem bench xsk [--json] [--runs N] [--seconds S] [--count N]\n"
		   "AF_XDP receive over a veth pair (namespaces made and removed here; root):\n"
		   "netmem's xsk driver through the receive API against a plain libxdp loop\n"
		   "with 4 KiB frames, the same sendmmsg flood of 1500-byte frames, then a\n"
		   "receive-bound ring drain. Figures only; docs/xsk.md explains them.\n");
}

int netmem_cmd_bench_xsk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },   { "runs", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct result a[MAX_RUNS] = {0}, b[MAX_RUNS] = {0}, s[MAX_RUNS] = {0};
	const char *mode = "?";
	double seconds = 1.5, t0 = xu_now();
	uint64_t count = 5000000, v;
	int json = 0, runs = 5, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'r':
			if (netmem_arg_u64("bench xsk", "--runs", optarg, 1, MAX_RUNS, &v))
				return 2;
			runs = (int)v;
			break;
		case 's':
			if (netmem_arg_double("bench xsk", "--seconds", optarg, 0.01, 5, &seconds))
				return 2;
			break;
		case 'c':
			if (netmem_arg_u64("bench xsk", "--count", optarg, 1, UINT64_C(1) << 40, &count))
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (netmem_arg_none("bench xsk", argc, argv, optind)) {
		usage(stderr);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "netmem bench xsk: needs root (network namespaces, XDP)\n");
		return 1;
	}
	calibrate();
	if (netns_up()) {
		fprintf(stderr, "netmem bench xsk: cannot make the namespaces and veth pair\n");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		/* Alternate, so drift on a shared machine hits both alike. */
		if (run_netmem(seconds, count, 0, &a[i], &mode) ||
		    run_plain(seconds, count, &b[i]) ||
		    run_netmem(seconds, count, NETMEM_XSK_SPLIT_AUTO, &s[i], &mode))
			return 1;
	}
	{
		double pa = median(a, runs, offsetof(struct result, pps));
		double pb = median(b, runs, offsetof(struct result, pps));
		double na = median(a, runs, offsetof(struct result, ns_per_pkt));
		double nb = median(b, runs, offsetof(struct result, ns_per_pkt));
		double ba = median(a, runs, offsetof(struct result, bytes_per_buf));
		double ps = median(s, runs, offsetof(struct result, pps));
		double bs = median(s, runs, offsetof(struct result, bytes_per_buf));
		double ra = median(a, runs, offsetof(struct result, drain_ns));
		double rb = median(b, runs, offsetof(struct result, drain_ns));
		double rsp = median(s, runs, offsetof(struct result, drain_ns));
		double ns = median(s, runs, offsetof(struct result, ns_per_pkt));
		double oa = median(a, runs, offsetof(struct result, offered));
		double ob = median(b, runs, offsetof(struct result, offered));
		double os = median(s, runs, offsetof(struct result, offered));
		uint64_t da = 0, db = 0, ds = 0;

		for (int i = 0; i < runs; i++) {
			da += a[i].drops;
			db += b[i].drops;
			ds += s[i].drops;
		}
		if (json) {
			printf("{\"bench\":\"xsk\",\"mode\":\"%s\",\"frame_bytes\":1500,\"runs\":%d,"
			       "\"seconds\":%.2f,\"sender\":\"sendmmsg UDP, 1 flow, other namespace\","
			       "\"plain_libxdp_4k\":{\"pps\":%.0f,\"offered_pps\":%.0f,\"ns_per_pkt\":%.1f,"
			       "\"drain_ns_per_pkt\":%.1f,\"kernel_drops\":%" PRIu64
			       ",\"umem_bytes_per_buffer\":%u},"
			       "\"netmem\":{\"pps\":%.0f,\"offered_pps\":%.0f,\"ns_per_pkt\":%.1f,"
			       "\"drain_ns_per_pkt\":%.1f,\"kernel_drops\":%" PRIu64
			       ",\"umem_bytes_per_buffer\":%.0f},"
			       "\"netmem_hdr_split\":{\"pps\":%.0f,\"offered_pps\":%.0f,\"ns_per_pkt\":%.1f,"
			       "\"drain_ns_per_pkt\":%.1f,\"kernel_drops\":%" PRIu64
			       ",\"umem_bytes_per_buffer\":%.0f},"
			       "\"pps_ratio\":%.3f,\"drain_rate_ratio\":%.3f,\"umem_ratio\":%.3f,"
			       "\"total_seconds\":%.1f}\n",
			       mode, runs, seconds, pb, ob, nb, rb, db, FRAME_4K, pa, oa, na, ra, da, ba,
			       ps, os, ns, rsp, ds, bs, pb > 0 ? pa / pb : 0, ra > 0 ? rb / ra : 0,
			       ba / FRAME_4K, xu_now() - t0);
		} else {
			printf("AF_XDP receive, veth pair, %s mode, 1500-byte frames, sendmmsg "
			       "flood, median of %d x %.1f s\n",
			       mode, runs, seconds);
			printf("%-33s %10s %10s %9s %9s %10s %9s\n", "receiver", "offered/s",
			       "packets/s", "rx ns/pkt", "drain ns", "drops", "UMEM B/buf");
			printf("%-33s %10.0f %10.0f %9.1f %9.1f %10" PRIu64 " %9u\n",
			       "plain libxdp loop, 4 KiB frames", ob, pb, nb, rb, db, FRAME_4K);
			printf("%-33s %10.0f %10.0f %9.1f %9.1f %10" PRIu64 " %9.0f\n",
			       "netmem xsk, receive API", oa, pa, na, ra, da, ba);
			printf("%-33s %10.0f %10.0f %9.1f %9.1f %10" PRIu64 " %9.0f\n",
			       "netmem xsk, receive API + split", os, ps, ns, rsp, ds, bs);
			printf("netmem / plain: packets/s %.3f (flood, kernel-bound); receive-bound "
			       "rate (ring drain) %.3f; UMEM bytes per buffer %.3f\n",
			       pb > 0 ? pa / pb : 0, ra > 0 ? rb / ra : 0, ba / FRAME_4K);
		}
	}
	return 0;
}
#else
typedef int netmem_bench_xsk_not_built;
#endif
