/*
 * AF_XDP end to end: a sender in one network namespace sends N UDP packets
 * (4 flows, sizes 24..1472 bytes, sequence numbers and payload checksums) to
 * the other, where the xsk driver receives them through the receive API.
 * Every packet must arrive, in order per flow, with its payload intact, for
 * each way of running the queue: software header split (parsed, fixed),
 * no split (the whole frame as one zero-copy fragment), need-wakeup, busy
 * poll; on host memory and on a shareable memfd area as the UMEM. Tokens
 * are released in batches, some from another thread. At the
 * end: every token back, every fragment accounted for, the UMEM's area
 * unmapped once the queue is destroyed.
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

#include <fcntl.h>
#include <pthread.h>

#include "netmem/netmem.h"
#include "netmem/xsk.h"
#include "xsk_util.h"

#define N_PKTS 12000
#define N_FLOWS 4

/* A second thread releasing tokens handed over through a small locked
 * queue: the receive API's any-thread release path under real traffic.
 * Small: a releaser kept off the CPU must not sit on so many tokens that
 * the UMEM runs dry and the kernel drops (the receiver then releases
 * itself). */
#define REL_BACKLOG 512

struct releaser {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t tok[REL_BACKLOG];
	unsigned n;
	int stop;
	struct netmem_rxq *q;
	int bad;
};

static void *releaser_main(void *arg)
{
	struct releaser *r = arg;
	uint64_t batch[REL_BACKLOG];

	pthread_mutex_lock(&r->lock);
	for (;;) {
		unsigned n;

		while (!r->n && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		n = r->n;
		memcpy(batch, r->tok, n * sizeof(*batch));
		r->n = 0;
		if (!n && r->stop)
			break;
		pthread_mutex_unlock(&r->lock);
		if (n && netmem_rxq_release(r->q, batch, n) != (int)n)
			r->bad++;
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Hand tokens to the releaser; returns how many it took (0 when full). */
static unsigned releaser_give(struct releaser *r, const uint64_t *t, unsigned n)
{
	pthread_mutex_lock(&r->lock);
	if (r->n + n > sizeof(r->tok) / sizeof(r->tok[0])) {
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	memcpy(r->tok + r->n, t, n * sizeof(*t));
	r->n += n;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return n;
}

struct variant {
	const char *name;
	int hdr_split;
	uint32_t want_hdr;
	unsigned flags;
	int remote_release;
	const char *provider; /* payload memory spec; NULL = host */
	uint32_t frame_size;  /* 0: the driver's default */
};

static void run(const struct variant *v)
{
	const char *ifname = getenv("NETMEM_XSK_IF_RX");
	const char *spec = v->provider ? v->provider : "host";
	struct netmem_provider *prov = netmem_provider_create(spec);
	struct netmem_xsk_params xp;
	struct netmem_rx_pkt pkts[64];
	struct netmem_rxq_stats rs;
	struct netmem_xsk_stats xs;
	struct xu_check_state chk;
	struct xu_shared *sh = xu_shared_new();
	struct releaser rel = { .lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER };
	pthread_t rel_thread;
	uint64_t hold[256];
	unsigned nhold = 0;
	struct netmem_rxq *q;
	struct netmem_xsk *x;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), crossing = 0;
	pid_t pid;
	double t0;

	REQUIRE(prov && sh);
	netmem_xsk_params_init(&xp);
	xp.ifname = ifname;
	xp.provider = prov;
	xp.hdr_split = v->hdr_split;
	xp.flags = v->flags;
	xp.fill_size = 512;
	xp.rx_size = 512;
	xp.frame_size = v->frame_size;
	q = netmem_xsk_rxq_create(&xp);
	if (!q && errno == EAFNOSUPPORT)
		SKIP("the kernel has no AF_XDP: %s", netmem_last_error());
	if (!q)
		fprintf(stderr, "%s: %s\n", v->name, netmem_last_error());
	REQUIRE(q);
	x = netmem_xsk_of(q);
	REQUIRE(x);
	printf("%s: %s, mode %s, frame %u\n", v->name, spec, netmem_xsk_mode(x),
	       netmem_xsk_frame_size(x));
	CHECK(!strcmp(netmem_xsk_mode(x), "copy") || !strcmp(netmem_xsk_mode(x), "zerocopy"));
	/* A program the process execs must not inherit the socket. */
	CHECK(fcntl(netmem_xsk_fd(x), F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(netmem_provider_nr_areas(prov), 1 + 0);
	rel.q = q;

	xu_check_init(&chk, 1, v->want_hdr);
	{
		struct xu_sender_cfg c = { .ns = getenv("NETMEM_XSK_NS_TX"),
					   .dst = getenv("NETMEM_XSK_ADDR_RX"),
					   .flows = N_FLOWS, .count = N_PKTS, .window = 256,
					   .batch = 16, .seconds = 15 };

		pid = xu_sender_start(&c, sh);
		REQUIRE(pid > 0);
	}
	/* After the fork: the sender child is single-threaded. */
	if (v->remote_release)
		REQUIRE(pthread_create(&rel_thread, NULL, releaser_main, &rel) == 0);
	t0 = xu_now();
	while (chk.good < N_PKTS && xu_now() - t0 < 15) {
		int n = netmem_rxq_recv(q, pkts, 64);

		REQUIRE(n >= 0);
		if (n == 0) {
			netmem_xsk_wait(x, 5);
			continue;
		}
		for (int i = 0; i < n; i++) {
			xu_check_pkt(&chk, q, &pkts[i]);
			for (unsigned f = 0; f < pkts[i].nr_frags; f++) {
				const struct netmem_rx_frag *fr = &pkts[i].frag[f];

				/* No frame crosses a page, whatever its size. */
				crossing += fr->len && fr->offset / page != (fr->offset + fr->len - 1) / page;
				/* Hold up to 256 tokens across recv calls, then
				 * give them back as one batch. */
				hold[nhold++] = pkts[i].frag[f].token;
				if (nhold == 256) {
					if (v->remote_release && releaser_give(&rel, hold, nhold))
						nhold = 0;
					else if (netmem_rxq_release(q, hold, nhold) == (int)nhold)
						nhold = 0;
					else
						REQUIRE(!"release failed");
				}
			}
		}
		atomic_store(&sh->received, chk.good + chk.other);
	}
	atomic_store(&sh->stop, 1);
	CHECK_EQ(xu_sender_wait(pid), 0);
	CHECK_EQ(netmem_rxq_release(q, hold, nhold), nhold);
	if (v->remote_release) {
		pthread_mutex_lock(&rel.lock);
		rel.stop = 1;
		pthread_cond_signal(&rel.cond);
		pthread_mutex_unlock(&rel.lock);
		pthread_join(rel_thread, NULL);
		CHECK_EQ(rel.bad, 0);
	}

	REQUIRE(netmem_xsk_stats(x, &xs) == 0);
	REQUIRE(netmem_rxq_stats(q, &rs) == 0);
	printf("%s: good %" PRIu64 " other %" PRIu64 " in %.2fs; kernel dropped %" PRIu64
	       " fill-empty %" PRIu64 " ring-full %" PRIu64 "\n",
	       v->name, chk.good, chk.other, xu_now() - t0, xs.rx_dropped,
	       xs.rx_fill_ring_empty_descs, xs.rx_ring_full);
	CHECK_EQ(chk.good, N_PKTS);
	CHECK_EQ(crossing, 0);
	CHECK_EQ(chk.bad_csum, 0);
	CHECK_EQ(chk.bad_order, 0);
	CHECK_EQ(chk.gaps, 0);
	CHECK_EQ(chk.bad_split, 0);
	/* Conservation: every frame the kernel completed was delivered, every
	 * token came back, and what is not delivered is still posted. */
	CHECK_EQ(rs.packets, xs.rx_frames);
	CHECK_EQ(rs.tokens_held, 0);
	CHECK_EQ(rs.tokens_issued, rs.tokens_released);
	CHECK_EQ(rs.bad_release, 0);
	CHECK_EQ(xs.posted_now, xs.fill_posted - xs.rx_frames);
	CHECK_EQ(rs.posted, xs.posted_now);
	CHECK_EQ(xs.rx_invalid_descs, 0);
	if (v->hdr_split)
		CHECK_EQ(rs.hdr_only, 0);

	/* Destroy with nothing held: the pool goes at once, and with it the
	 * area that was the UMEM. */
	CHECK_EQ(netmem_rxq_destroy(q), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	munmap(sh, sizeof(*sh));
}

int main(int argc, char **argv)
{
	const char *why;
	static const struct variant v[] = {
		{ "split-auto", NETMEM_XSK_SPLIT_AUTO, XU_L2L4, 0, 0, NULL, 0 },
		{ "no-split+need-wakeup", 0, 0, NETMEM_XSK_NEED_WAKEUP, 1, NULL, 0 },
		{ "split-42+busy-poll", XU_L2L4, XU_L2L4, NETMEM_XSK_BUSY_POLL, 0, NULL, 0 },
		{ "split-auto+copy+need-wakeup", NETMEM_XSK_SPLIT_AUTO, XU_L2L4,
		  NETMEM_XSK_COPY | NETMEM_XSK_NEED_WAKEUP, 1, NULL, 0 },
		/* A shareable memfd area as the UMEM. */
		{ "split-auto+memfd", NETMEM_XSK_SPLIT_AUTO, XU_L2L4, NETMEM_XSK_NEED_WAKEUP, 1,
		  "memfd", 0 },
		/* A frame size that does not divide the page. */
		{ "no-split+frame-3072", 0, 0, 0, 0, NULL, 3072 },
	};

	(void)argc;
	xu_enter_netns(argv, &why);
	if (why)
		SKIP("%s", why);
	REQUIRE(xu_setns(getenv("NETMEM_XSK_NS_RX")) == 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		run(&v[i]);
	return t_done();
}
#endif
