/*
 * Frames a real network sends that the test traffic of the other xsk tests
 * does not: written raw, one by one, on a veth pair of the test's own, and
 * read back through an xsk queue with the automatic header split.
 *
 *  - Ethernet padding: a frame under 60 bytes comes padded from a NIC; the
 *    trailer after the IP datagram is not payload (a header-only UDP
 *    datagram stays header-only, a short one keeps its own bytes only).
 *  - IPv4 fragments: every fragment of a datagram has the same flow, and
 *    the first one's UDP header stays in its payload (the fragments'
 *    payloads concatenate to the datagram's).
 *  - The longest headers the split knows (IPv4 and TCP with 40 bytes of
 *    options each: 134 bytes) are split after TCP.
 *  - fork(): a child that closed what it inherited, as xsk.h asks, and
 *    opens the other queue of its parent's interface is told EBUSY (the
 *    program is the parent's), not handed the parent's stale descriptors.
 *  - The interface removed under a live queue: the queue stops (the socket
 *    is unbound, and polls as idle for ever), heard of by a receive loop
 *    that never waits, by a timed wait, and by an endless one; refill
 *    answers -ENODEV, the posted fragments come back, a token held stays
 *    releasable and destroy leaves nothing.
 *
 * Runs under tests/xsk_netns.sh; needs root.
 */
#include "harness.h"

#ifndef NETMEM_HAVE_XDP
int main(void)
{
	SKIP("built without libxdp/libbpf (pkg-config found neither)");
}
#else

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include "netmem/netmem.h"
#include "netmem/xsk.h"
#include "xsk_util.h"

static char if_q[IFNAMSIZ], if_peer[IFNAMSIZ], if_2q[IFNAMSIZ];

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Veth pairs inside the receiving namespace: the queue on if_q, frames
 * written on if_peer; if_2q (two queues) for the fork case. */
static void make_pairs(void)
{
	char cmd[320];
	int id = (int)getpid() % 100000;

	snprintf(if_q, sizeof(if_q), "nmfq%d", id);
	snprintf(if_peer, sizeof(if_peer), "nmfp%d", id);
	snprintf(if_2q, sizeof(if_2q), "nmf2q%d", id);
	snprintf(cmd, sizeof(cmd),
		 "ip link add %s type veth peer name %s && ip link set %s up && "
		 "ip link set %s up && ip link add %s numrxqueues 2 numtxqueues 2 type veth "
		 "peer name nmf2p%d numrxqueues 2 numtxqueues 2 && ip link set %s up",
		 if_q, if_peer, if_q, if_peer, if_2q, id, if_2q);
	REQUIRE(sh(cmd) == 0);
}

/* if_q and if_peer again, after a case deleted them. */
static void remake_q_pair(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd),
		 "ip link add %s type veth peer name %s && ip link set %s up && "
		 "ip link set %s up", if_q, if_peer, if_q, if_peer);
	REQUIRE(sh(cmd) == 0);
}

static void send_raw(const uint8_t *f, size_t n)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	REQUIRE(s >= 0);
	sll.sll_ifindex = (int)if_nametoindex(if_peer);
	memset(sll.sll_addr, 0xff, 6);
	REQUIRE(sendto(s, f, n, 0, (struct sockaddr *)&sll, sizeof(sll)) == (ssize_t)n);
	close(s);
}

/* Ethernet + IPv4 header (ihl words) at f; returns the offset after it. */
static size_t ip4(uint8_t *f, unsigned ihl, uint16_t tot, uint8_t proto, uint16_t frag)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x01", 6);
	f[12] = 0x08;
	f[13] = 0x00;
	f += 14;
	memset(f, 0, ihl * 4);
	f[0] = (uint8_t)(0x40 | ihl);
	f[2] = (uint8_t)(tot >> 8);
	f[3] = (uint8_t)tot;
	f[4] = 0x12; /* id */
	f[5] = 0x34;
	f[6] = (uint8_t)(frag >> 8);
	f[7] = (uint8_t)frag;
	f[8] = 64;
	f[9] = proto;
	memcpy(f + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8); /* 198.18.0.1 -> .2 */
	for (unsigned i = 20; i < ihl * 4; i++)
		f[i] = 1; /* NOP options */
	return 14 + ihl * 4;
}

static size_t udp(uint8_t *f, uint16_t len)
{
	f[0] = 0x30; /* ports 12345 -> 12346 */
	f[1] = 0x39;
	f[2] = 0x30;
	f[3] = 0x3a;
	f[4] = (uint8_t)(len >> 8);
	f[5] = (uint8_t)len;
	f[6] = f[7] = 0;
	return 8;
}

static struct netmem_rxq *try_q(struct netmem_provider *prov, const char *ifname,
			       unsigned queue)
{
	struct netmem_xsk_params xp;

	netmem_xsk_params_init(&xp);
	xp.ifname = ifname;
	xp.queue = queue;
	xp.provider = prov;
	xp.hdr_split = NETMEM_XSK_SPLIT_AUTO;
	xp.nr_chunks = 64;
	return netmem_xsk_rxq_create(&xp);
}

static struct netmem_rxq *open_q(struct netmem_provider *prov, const char *ifname)
{
	struct netmem_rxq *q = try_q(prov, ifname, 0);

	if (!q && errno == EAFNOSUPPORT)
		SKIP("the kernel has no AF_XDP: %s", netmem_last_error());
	if (!q)
		fprintf(stderr, "open: %s\n", netmem_last_error());
	REQUIRE(q);
	return q;
}

/* The next packet, within 2 s; its payload bytes copied to data. */
static void next_pkt(struct netmem_rxq *q, struct netmem_rx_pkt *p, uint8_t *data,
		     uint64_t *token)
{
	double t0 = xu_now();
	int n;

	while ((n = netmem_rxq_recv(q, p, 1)) == 0 && xu_now() - t0 < 2)
		netmem_xsk_wait(netmem_xsk_of(q), 10);
	REQUIRE(n == 1);
	*token = 0;
	if (p->nr_frags) {
		REQUIRE(p->frag[0].addr);
		memcpy(data, p->frag[0].addr, p->frag[0].len);
		*token = p->frag[0].token;
	}
}

/* A UDP datagram whose IP length is ip_tot, with `n` bytes of payload,
 * padded to 60 bytes as a NIC sends it; received into p (payload in data). */
static void padded_udp(struct netmem_rxq *q, uint16_t ip_tot, const char *payload, size_t n,
		       struct netmem_rx_pkt *p, uint8_t *data, uint64_t *tok)
{
	uint8_t f[64];
	size_t o;

	memset(f, 0xee, sizeof(f));
	o = ip4(f, 5, ip_tot, IPPROTO_UDP, 0);
	o += udp(f + o, (uint16_t)(8 + n));
	memcpy(f + o, payload, n);
	send_raw(f, 60);
	next_pkt(q, p, data, tok);
}

static void frames(struct netmem_rxq *q)
{
	uint8_t f[256], data[256];
	struct netmem_rx_pkt p;
	uint32_t flow0;
	uint64_t tok;
	size_t o;

	/* UDP, no payload, padded to 60. */
	padded_udp(q, 28, "", 0, &p, data, &tok);
	CHECK_EQ(p.hdr_len, 42);
	CHECK_EQ(p.len, 42);
	CHECK_EQ(p.nr_frags, 0);

	/* An IP length that ends inside the UDP header (4 of its 8 bytes):
	 * the packet ends there, the rest is padding. */
	padded_udp(q, 24, "", 0, &p, data, &tok);
	CHECK_EQ(p.hdr_len, 38);
	CHECK_EQ(p.len, 38);
	CHECK_EQ(p.nr_frags, 0);

	/* UDP, 5 bytes, padded to 60. */
	padded_udp(q, 33, "hello", 5, &p, data, &tok);
	CHECK_EQ(p.hdr_len, 42);
	CHECK_EQ(p.len, 47);
	CHECK_EQ(p.nr_frags, 1);
	if (p.nr_frags) {
		CHECK_EQ(p.frag[0].len, 5);
		CHECK(!memcmp(data, "hello", 5));
		CHECK_EQ(netmem_rxq_release(q, &tok, 1), 1);
	}

	/* IPv4 fragments of one UDP datagram: 8 + 16 bytes, then 10 more. */
	o = ip4(f, 5, 20 + 24, IPPROTO_UDP, 0x2000 /* MF, offset 0 */);
	o += udp(f + o, 8 + 26);
	memset(f + o, 'a', 16);
	send_raw(f, o + 16);
	next_pkt(q, &p, data, &tok);
	flow0 = p.flow;
	CHECK_EQ(p.hdr_len, 34);
	CHECK_EQ(p.nr_frags, 1);
	if (p.nr_frags) {
		CHECK_EQ(p.frag[0].len, 24);
		CHECK(data[0] == 0x30 && data[1] == 0x39); /* the UDP header */
		CHECK_EQ(netmem_rxq_release(q, &tok, 1), 1);
	}
	o = ip4(f, 5, 20 + 10, IPPROTO_UDP, 3 /* offset 24 bytes */);
	memset(f + o, 'b', 10);
	send_raw(f, o + 10);
	next_pkt(q, &p, data, &tok);
	CHECK_EQ(p.flow, flow0);
	CHECK_EQ(p.hdr_len, 34);
	if (p.nr_frags) {
		CHECK_EQ(p.frag[0].len, 10);
		CHECK_EQ(netmem_rxq_release(q, &tok, 1), 1);
	}

	/* IPv4 and TCP with 40 bytes of options each, 100 bytes of data. */
	o = ip4(f, 15, 60 + 60 + 100, IPPROTO_TCP, 0);
	memset(f + o, 0, 60);
	f[o + 12] = 15 << 4;
	for (int i = 20; i < 60; i++)
		f[o + i] = 1;
	o += 60;
	memset(f + o, 'c', 100);
	send_raw(f, o + 100);
	next_pkt(q, &p, data, &tok);
	CHECK_EQ(p.hdr_len, 134);
	if (p.nr_frags) {
		CHECK_EQ(p.frag[0].len, 100);
		CHECK(data[0] == 'c' && data[99] == 'c');
		CHECK_EQ(netmem_rxq_release(q, &tok, 1), 1);
	}
}

static void forked_child(struct netmem_provider *prov)
{
	struct netmem_rxq *q0 = open_q(prov, if_2q);
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct netmem_rxq *q;

		close_range(3, ~0U, 0);
		q = try_q(prov, if_2q, 1);
		if (q || errno != EBUSY) {
			fprintf(stderr, "child: queue 1: %s (%s)\n", q ? "opened" : strerror(errno),
				q ? "" : netmem_last_error());
			_exit(1);
		}
		_exit(0);
	}
	REQUIRE(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(netmem_rxq_destroy(q0), 0);
}

enum heard { BY_RECV, BY_WAIT, BY_ENDLESS_WAIT };

static void iface_removed(struct netmem_provider *prov, enum heard how)
{
	struct netmem_rxq *q = open_q(prov, if_q);
	struct netmem_xsk *x = netmem_xsk_of(q);
	struct netmem_xsk_stats st;
	struct netmem_rx_pkt p;
	uint8_t f[128], data[128];
	char cmd[64];
	uint64_t tok;
	int r = 0;
	size_t o;

	/* One packet whose token the application keeps. */
	o = ip4(f, 5, 20 + 8 + 50, IPPROTO_UDP, 0);
	o += udp(f + o, 58);
	memset(f + o, 'd', 50);
	send_raw(f, o + 50);
	next_pkt(q, &p, data, &tok);
	REQUIRE(p.nr_frags == 1);

	snprintf(cmd, sizeof(cmd), "ip link del %s", if_q);
	REQUIRE(sh(cmd) == 0);
	if (how == BY_RECV) {
		/* A busy loop that never waits: recv checks every few
		 * thousand empty calls, refill then answers. */
		for (int i = 0; i < 100000 && r >= 0; i++) {
			CHECK(netmem_rxq_recv(q, &p, 1) == 0);
			r = netmem_rxq_refill(q);
		}
	} else if (how == BY_WAIT) {
		/* The first wait may sleep its whole timeout. */
		for (int i = 0; i < 3 && r == 0; i++)
			r = netmem_xsk_wait(x, 50);
	} else {
		alarm(10); /* a wait that never returns fails the test */
		r = netmem_xsk_wait(x, -1);
		alarm(0);
	}
	CHECK_EQ(r, -ENODEV);
	CHECK_EQ(netmem_xsk_wait(x, 50), -ENODEV);
	CHECK_EQ(netmem_rxq_refill(q), -ENODEV);
	CHECK_EQ(netmem_rxq_recv(q, &p, 1), 0);
	CHECK_EQ(netmem_xsk_fd(x), -ENODEV);
	CHECK_EQ(netmem_xsk_stats(x, &st), 0);
	CHECK_EQ(st.posted_now, 0);
	CHECK_EQ(netmem_rxq_release(q, &tok, 1), 1);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
}

int main(int argc, char **argv)
{
	struct netmem_provider *prov;
	struct netmem_rxq *q;
	const char *why;

	(void)argc;
	xu_enter_netns(argv, &why);
	if (why)
		SKIP("%s", why);
	REQUIRE(xu_setns(getenv("NETMEM_XSK_NS_RX")) == 0);
	make_pairs();
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	q = open_q(prov, if_q);
	frames(q);
	forked_child(prov);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	iface_removed(prov, BY_RECV);
	remake_q_pair();
	iface_removed(prov, BY_WAIT);
	remake_q_pair();
	iface_removed(prov, BY_ENDLESS_WAIT);
	netmem_provider_destroy(prov);
	return t_done();
}
#endif
