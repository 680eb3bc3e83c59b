/*
 * AF_XDP queue lifecycle under live traffic, over a veth pair in two
 * private network namespaces:
 *   - the receiver starts after the sender: what it gets is verified and in
 *     order per flow (the packets before it started are simply not there);
 *   - back-pressure: the application holds every token, the fill ring runs
 *     dry, the kernel drops and counts; releasing lets delivery resume;
 *   - stopped mid-stream with tokens held: destroy reports them, the area
 *     (the UMEM) stays mapped until they come back and is unmapped then;
 *     the socket fd is closed, the XDP program detached, and a new queue
 *     on the same device queue works at once.
 *
 * Runs under tests/xsk_netns.sh (it re-runs itself there); needs root.
 */
#include "harness.h"

#ifndef NETMEM_HAVE_XDP
int main(void)
{
	SKIP("built without libxdp/libbpf (pkg-config found neither)");
}
#else

#include <dirent.h>

#include "netmem/netmem.h"
#include "netmem/xsk.h"
#include "xsk_util.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Is an XDP program attached to ifname (as `ip link` shows it)? */
static int xdp_attached(const char *ifname)
{
	char cmd[128], line[512];
	int found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip link show dev %s 2>/dev/null", ifname);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, "xdp") != NULL;
	pclose(f);
	return found;
}

static struct netmem_rxq *open_q(struct netmem_provider *prov, uint32_t nr_chunks,
				 uint32_t fill)
{
	struct netmem_xsk_params xp;
	struct netmem_rxq *q;

	netmem_xsk_params_init(&xp);
	xp.ifname = getenv("NETMEM_XSK_IF_RX");
	xp.provider = prov;
	xp.hdr_split = NETMEM_XSK_SPLIT_AUTO;
	xp.nr_chunks = nr_chunks;
	xp.fill_size = fill;
	xp.rx_size = 512;
	q = netmem_xsk_rxq_create(&xp);
	if (!q && errno == EAFNOSUPPORT)
		SKIP("the kernel has no AF_XDP: %s", netmem_last_error());
	if (!q)
		fprintf(stderr, "open: %s\n", netmem_last_error());
	REQUIRE(q);
	return q;
}

static struct xu_sender_cfg sender(uint64_t count, unsigned window, unsigned gap_us,
				   double seconds)
{
	return (struct xu_sender_cfg){ .ns = getenv("NETMEM_XSK_NS_TX"),
				       .dst = getenv("NETMEM_XSK_ADDR_RX"),
				       .flows = 3, .count = count, .window = window,
				       .batch = 8, .gap_us = gap_us, .seconds = seconds };
}

/*
 * Receive until `want` good packets or `secs` pass. Tokens are released at
 * once, except that the last `keep` are kept in held[] (*nheld of them).
 */
static void receive(struct netmem_rxq *q, struct xu_check_state *chk, struct xu_shared *sh,
		    uint64_t want, double secs, uint64_t *held, unsigned keep, unsigned *nheld)
{
	struct netmem_rx_pkt pkts[32];
	double t0 = xu_now();

	while (chk->good < want && xu_now() - t0 < secs) {
		int n = netmem_rxq_recv(q, pkts, 32);

		REQUIRE(n >= 0);
		if (!n) {
			netmem_xsk_wait(netmem_xsk_of(q), 5);
			continue;
		}
		for (int i = 0; i < n; i++) {
			xu_check_pkt(chk, q, &pkts[i]);
			for (unsigned f = 0; f < pkts[i].nr_frags; f++) {
				if (keep && *nheld == keep) {
					CHECK_EQ(netmem_rxq_release(q, held, 1), 1);
					memmove(held, held + 1, (keep - 1) * sizeof(*held));
					(*nheld)--;
				}
				if (keep)
					held[(*nheld)++] = pkts[i].frag[f].token;
				else
					CHECK_EQ(netmem_rxq_release(q, &pkts[i].frag[f].token, 1), 1);
			}
		}
		if (sh)
			atomic_store(&sh->received, chk->good + chk->other);
	}
}

static void receiver_after_sender(struct netmem_provider *prov)
{
	struct xu_shared *sh = xu_shared_new();
	struct xu_sender_cfg c = sender(6000, 0, 400, 10);
	struct xu_check_state chk;
	struct netmem_rxq *q;
	pid_t pid;

	REQUIRE(sh);
	/* The sender sends 500 to nobody, then waits until the queue is
	 * open, however long that takes on a loaded machine. */
	c.pause_at = 500;
	pid = xu_sender_start(&c, sh);
	REQUIRE(pid > 0);
	while (atomic_load(&sh->sent) < 500 && !atomic_load(&sh->done))
		usleep(1000);
	q = open_q(prov, 0, 512);
	atomic_store(&sh->go, 1);
	xu_check_init(&chk, 0, XU_L2L4);
	while (!atomic_load(&sh->done))
		receive(q, &chk, NULL, UINT64_MAX, 0.05, NULL, 0, NULL);
	receive(q, &chk, NULL, UINT64_MAX, 0.2, NULL, 0, NULL); /* drain */
	CHECK_EQ(xu_sender_wait(pid), 0);
	printf("after-sender: sent %" PRIu64 ", received %" PRIu64 ", flows started at a gap %"
	       PRIu64 "\n", atomic_load(&sh->sent), chk.good, chk.gaps);
	CHECK(chk.good > 0);
	CHECK(chk.good < atomic_load(&sh->sent)); /* the first 500 went elsewhere */
	CHECK_EQ(chk.bad_csum, 0);
	CHECK_EQ(chk.bad_order, 0);
	CHECK_EQ(chk.bad_split, 0);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	munmap(sh, sizeof(*sh));
}

static void back_pressure(struct netmem_provider *prov)
{
	/* 8 chunks of 64 KiB: 256 fragments of 2 KiB, fewer than the fill
	 * ring's 512 entries. */
	struct netmem_rxq *q = open_q(prov, 8, 512);
	struct xu_shared *sh = xu_shared_new();
	struct xu_sender_cfg c = sender(1200, 0, 300, 5);
	static uint64_t held[4096];
	struct xu_check_state chk;
	struct netmem_rxq_stats rs;
	unsigned nheld = 0;
	pid_t pid;

	REQUIRE(sh);
	xu_check_init(&chk, 0, XU_L2L4);
	pid = xu_sender_start(&c, sh);
	REQUIRE(pid > 0);
	/* Keep every token: at most 256 packets can be delivered. */
	while (!atomic_load(&sh->done))
		receive(q, &chk, NULL, UINT64_MAX, 0.05, held, 4096, &nheld);
	receive(q, &chk, NULL, UINT64_MAX, 0.2, held, 4096, &nheld);
	CHECK_EQ(xu_sender_wait(pid), 0);
	REQUIRE(netmem_rxq_stats(q, &rs) == 0);
	printf("back-pressure: sent %" PRIu64 ", delivered %" PRIu64 " holding %u tokens, "
	       "dropped for lack of buffers %" PRIu64 "\n",
	       atomic_load(&sh->sent), chk.good, nheld, rs.drop_no_buf);
	CHECK(chk.good <= 256);
	CHECK_EQ(nheld, chk.good);
	CHECK(rs.drop_no_buf > 0);
	CHECK(chk.good + rs.drop_no_buf <= atomic_load(&sh->sent));
	CHECK_EQ(rs.tokens_held, nheld);
	CHECK_EQ(chk.bad_csum + chk.bad_order + chk.bad_split, 0);

	/* Give everything back: delivery resumes. */
	CHECK_EQ(netmem_rxq_release(q, held, nheld), nheld);
	/* Post the freed buffers before the next stream starts. */
	CHECK(netmem_rxq_refill(q) > 0);
	atomic_store(&sh->done, 0);
	c = sender(300, 64, 0, 5);
	pid = xu_sender_start(&c, sh);
	REQUIRE(pid > 0);
	atomic_store(&sh->received, 0);
	{
		struct xu_check_state chk2;

		xu_check_init(&chk2, 0, XU_L2L4);
		receive(q, &chk2, sh, 300, 5, NULL, 0, NULL);
		REQUIRE(netmem_rxq_stats(q, &rs) == 0);
		printf("resumed: %" PRIu64 " good, %" PRIu64 " other, posted %" PRIu64
		       ", drops %" PRIu64 "\n", chk2.good, chk2.other, rs.posted, rs.drops);
		CHECK_EQ(chk2.good, 300);
		CHECK_EQ(chk2.bad_csum + chk2.bad_order + chk2.bad_split, 0);
	}
	atomic_store(&sh->stop, 1);
	CHECK_EQ(xu_sender_wait(pid), 0);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	munmap(sh, sizeof(*sh));
}

static void stop_mid_stream(struct netmem_provider *prov)
{
	const char *ifname = getenv("NETMEM_XSK_IF_RX");
	struct xu_shared *sh = xu_shared_new();
	struct xu_sender_cfg c = sender(1000000, 0, 300, 8);
	static uint64_t held[100];
	struct xu_check_state chk;
	struct netmem_rxq *q;
	int fds0 = count_fds();
	unsigned nheld = 0;
	pid_t pid;

	REQUIRE(sh);
	CHECK_EQ(xdp_attached(ifname), 0);
	{
		/* veth has no zero-copy: requiring it fails and leaves nothing. */
		struct netmem_xsk_params xp;

		netmem_xsk_params_init(&xp);
		xp.ifname = ifname;
		xp.provider = prov;
		xp.flags = NETMEM_XSK_ZEROCOPY;
		CHECK(netmem_xsk_rxq_create(&xp) == NULL);
		CHECK_EQ(errno, EOPNOTSUPP);
		CHECK_EQ(xdp_attached(ifname), 0);
		CHECK_EQ(count_fds(), fds0);
		CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	}
	q = open_q(prov, 0, 512);
	CHECK_EQ(xdp_attached(ifname), 1);
	CHECK(count_fds() > fds0);
	pid = xu_sender_start(&c, sh);
	REQUIRE(pid > 0);
	xu_check_init(&chk, 0, XU_L2L4);
	receive(q, &chk, NULL, 1000, 5, held, 100, &nheld);
	CHECK(chk.good >= 1000); /* the last batch may go past */
	CHECK_EQ(nheld, 100);

	/* Mid-stream: the sender is still sending. */
	CHECK(!atomic_load(&sh->done));
	CHECK_EQ(netmem_rxq_destroy(q), 100);
	CHECK_EQ(netmem_provider_nr_areas(prov), 1); /* held tokens keep it */
	CHECK_EQ(count_fds(), fds0);                  /* socket and UMEM fds closed */
	CHECK_EQ(xdp_attached(ifname), 0);
	usleep(20000); /* traffic keeps coming, to nobody */
	CHECK_EQ(netmem_rxq_release(q, held, nheld), (int)nheld);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0); /* the UMEM's memory is gone */
	CHECK_EQ(chk.bad_csum + chk.bad_order + chk.bad_split, 0);

	/* The device queue is free again: a new socket binds at once and
	 * receives the same stream, still running. */
	q = open_q(prov, 0, 512);
	xu_check_init(&chk, 0, XU_L2L4);
	receive(q, &chk, NULL, 200, 5, NULL, 0, NULL);
	CHECK(chk.good >= 200);
	CHECK_EQ(chk.bad_csum + chk.bad_order + chk.bad_split, 0);
	CHECK(!atomic_load(&sh->done));
	atomic_store(&sh->stop, 1);
	CHECK_EQ(xu_sender_wait(pid), 0);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(count_fds(), fds0);
	munmap(sh, sizeof(*sh));
}

/*
 * The payload provider is revoked mid-stream: the queue stops the device
 * (program and socket gone), drops what it had not delivered, keeps held
 * tokens releasable, and the memory goes once they are back.
 */
static void revoke_mid_stream(void)
{
	const char *ifname = getenv("NETMEM_XSK_IF_RX");
	struct netmem_provider *prov = netmem_provider_create("host");
	struct xu_shared *sh = xu_shared_new();
	struct xu_sender_cfg c = sender(1000000, 0, 300, 8);
	static uint64_t held[50];
	struct netmem_rx_pkt pkts[32];
	struct netmem_rxq_stats rs;
	struct xu_check_state chk;
	struct netmem_rxq *q;
	unsigned nheld = 0;
	pid_t pid;

	REQUIRE(prov && sh);
	q = open_q(prov, 0, 512);
	pid = xu_sender_start(&c, sh);
	REQUIRE(pid > 0);
	xu_check_init(&chk, 0, XU_L2L4);
	receive(q, &chk, NULL, 500, 5, held, 50, &nheld);
	CHECK(chk.good >= 500);
	CHECK_EQ(nheld, 50);
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	usleep(20000);
	CHECK_EQ(netmem_rxq_recv(q, pkts, 32), 0);  /* notices, stops */
	CHECK_EQ(xdp_attached(ifname), 0);
	CHECK_EQ(netmem_rxq_recv(q, pkts, 32), 0);
	CHECK_EQ(netmem_rxq_refill(q), -ENODEV);
	CHECK_EQ(netmem_xsk_wait(netmem_xsk_of(q), 0), -ENODEV);
	REQUIRE(netmem_rxq_stats(q, &rs) == 0);
	printf("revoke: delivered %" PRIu64 ", dropped at revoke %" PRIu64 ", %" PRIu64
	       " tokens held\n", rs.packets, rs.drop_revoked, rs.tokens_held);
	CHECK_EQ(rs.revoked, 1);
	CHECK_EQ(rs.posted, 0);
	CHECK_EQ(rs.tokens_held, 50);
	CHECK_EQ(netmem_rxq_release(q, held, nheld), (int)nheld);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	atomic_store(&sh->stop, 1);
	CHECK_EQ(xu_sender_wait(pid), 0);
	netmem_provider_destroy(prov);
	munmap(sh, sizeof(*sh));
}

/* A revoke on an idle queue: a thread that only waits hears of it. */
static void revoke_idle(void)
{
	const char *ifname = getenv("NETMEM_XSK_IF_RX");
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_rxq *q;

	REQUIRE(prov);
	q = open_q(prov, 0, 64);
	REQUIRE(q);
	CHECK_EQ(netmem_xsk_wait(netmem_xsk_of(q), 10), 0); /* nothing sent */
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	CHECK_EQ(netmem_xsk_wait(netmem_xsk_of(q), 200), -ENODEV);
	CHECK_EQ(xdp_attached(ifname), 0);
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
}

int main(int argc, char **argv)
{
	struct netmem_provider *prov;
	const char *why;

	(void)argc;
	xu_enter_netns(argv, &why);
	if (why)
		SKIP("%s", why);
	REQUIRE(xu_setns(getenv("NETMEM_XSK_NS_RX")) == 0);
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	receiver_after_sender(prov);
	back_pressure(prov);
	stop_mid_stream(prov);
	netmem_provider_destroy(prov);
	revoke_mid_stream();
	revoke_idle();
	return t_done();
}
#endif
