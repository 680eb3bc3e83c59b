/* SPDX-License-Identifier: MIT */
/*
 * Revoke the payload provider mid-run, from another thread: no crash,
 * payload delivery stops (drops counted as drop_revoked), header-only frames
 * still arrive, held tokens can still be released and read back as revoked,
 * and once they are back every area of the provider is gone.
 */
#include <pthread.h>
#include <sched.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define NQ   2
#define HOLD 40

static struct netmem_provider *prov;
static _Atomic int go;

static void *revoker(void *arg)
{
	(void)arg;
	while (!atomic_load(&go))
		sched_yield();
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	return NULL;
}

static void run(const char *spec)
{
	static const uint32_t sizes[] = {1500, 64, 3000};
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rx_pkt pkts[32];
	static struct netmem_rx_frag held[NQ][HOLD * 2];
	unsigned nheld[NQ] = {0};
	struct netmem_rxq_stats st;
	uint64_t payload_after[NQ] = {0}, hdr_after[NQ] = {0};
	pthread_t thr;
	long polls = 0;

	atomic_store(&go, 0);
	prov = netmem_provider_create(spec);
	REQUIRE(prov);
	printf("%s:\n", spec);
	netmem_sim_params_init(&sp, prov);
	sp.nr_queues = NQ;
	sp.nr_flows = 16;
	sp.hdr_split = 64; /* 64-byte frames are header-only */
	sp.sizes = sizes;
	sp.nr_sizes = 3;
	sp.payload_chunks = 64;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	CHECK_EQ(netmem_provider_nr_areas(prov), NQ);
	REQUIRE(pthread_create(&thr, NULL, revoker, NULL) == 0);

	for (;; polls++) {
		int all_noticed = 1;

		for (unsigned qi = 0; qi < NQ; qi++) {
			struct netmem_rxq *q = netmem_sim_rxq(sim, qi);
			int n, noticed;

			REQUIRE(netmem_rxq_stats(q, &st) == 0);
			noticed = st.revoked;
			n = netmem_rxq_recv(q, pkts, 32);
			REQUIRE(n >= 0);
			for (int i = 0; i < n; i++) {
				struct netmem_rx_pkt *p = &pkts[i];

				if (noticed) {
					payload_after[qi] += p->nr_frags > 0;
					hdr_after[qi] += p->nr_frags == 0;
				}
				if (p->nr_frags && nheld[qi] + p->nr_frags <= HOLD) {
					for (unsigned j = 0; j < p->nr_frags; j++)
						held[qi][nheld[qi]++] = p->frag[j];
				} else {
					CHECK_EQ(netmem_rxq_release_pkt(q, p), p->nr_frags);
				}
			}
			REQUIRE(netmem_rxq_stats(q, &st) == 0);
			all_noticed &= st.revoked && hdr_after[qi] > 10;
		}
		if (polls == 200)
			atomic_store(&go, 1);
		if (all_noticed && polls > 200)
			break;
		REQUIRE(polls < 10000000);
	}
	pthread_join(thr, NULL);
	for (unsigned qi = 0; qi < NQ; qi++) {
		struct netmem_rxq *q = netmem_sim_rxq(sim, qi);
		char b[16];

		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		printf("q%u: %" PRIu64 " delivered, %" PRIu64 " dropped as revoked, %" PRIu64
		       " header-only after, held %u\n",
		       qi, st.packets, st.drop_revoked, hdr_after[qi], nheld[qi]);
		CHECK(st.revoked);
		CHECK(st.drop_revoked > 0);
		CHECK_EQ(payload_after[qi], 0);
		CHECK_EQ(st.posted, 0);
		CHECK_EQ(st.packets + st.drops, st.generated);
		CHECK(nheld[qi] > 0);
		/* A held fragment of revoked memory reads as gone, not as garbage. */
		if (nheld[qi])
			CHECK_EQ(netmem_rxq_frag_read(q, &held[qi][0], 0, b, sizeof(b)), -ENODEV);
	}
	/* Memory stays while tokens are out... */
	CHECK_EQ(netmem_provider_nr_areas(prov), NQ);
	for (unsigned qi = 0; qi < NQ; qi++) {
		struct netmem_rxq *q = netmem_sim_rxq(sim, qi);

		for (unsigned j = 0; j < nheld[qi]; j++)
			CHECK_EQ(netmem_rxq_release(q, &held[qi][j].token, 1), 1);
		/* ... a second release is refused and changes nothing. */
		CHECK_EQ(netmem_rxq_release(q, &held[qi][0].token, 1), -EINVAL);
	}
	/* ... and goes once they are back, before the device is destroyed. */
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	netmem_provider_destroy(prov);
}

struct reader {
	struct netmem_rxq *q;
	struct netmem_rx_frag f;
	_Atomic long good;
	_Atomic int revoke_returned; /* set by the revoking thread */
	long gone, bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char b[64];

	/* Until the revoke shows: a read is whole or -ENODEV, never a fault,
	 * and once gone it stays gone. However long the revoking thread is
	 * kept off the CPU; bounded once its revoke has returned. */
	for (long after = 0; !r->gone && after < 1000000;) {
		int ret = netmem_rxq_frag_read(r->q, &r->f, 0, b,
					       r->f.len < sizeof(b) ? r->f.len : sizeof(b));

		if (ret == 0)
			atomic_fetch_add_explicit(&r->good, 1, memory_order_relaxed);
		else if (ret == -ENODEV)
			r->gone++;
		else
			r->bad++;
		after += atomic_load(&r->revoke_returned);
	}
	for (int i = 0; i < 1000; i++)
		if (netmem_rxq_frag_read(r->q, &r->f, 0, b, 1) != -ENODEV)
			r->bad++;
	return NULL;
}

/* A token's reader on one thread, the revoke on another. */
static void read_during_revoke(const char *spec)
{
	static const uint32_t size = 1500;
	struct netmem_sim_params sp;
	struct netmem_rx_pkt pkts[1];
	struct reader r = {0};
	struct netmem_sim *sim;
	pthread_t thr;
	int n = 0;

	prov = netmem_provider_create(spec);
	REQUIRE(prov);
	netmem_sim_params_init(&sp, prov);
	sp.sizes = &size;
	sp.nr_sizes = 1;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	r.q = netmem_sim_rxq(sim, 0);
	for (int tries = 0; n == 0 && tries < 1000000; tries++)
		n = netmem_rxq_recv(r.q, pkts, 1);
	REQUIRE(n == 1 && pkts[0].nr_frags > 0);
	r.f = pkts[0].frag[0];
	REQUIRE(pthread_create(&thr, NULL, reader_main, &r) == 0);
	while (atomic_load(&r.good) < 1000)
		sched_yield();
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	atomic_store(&r.revoke_returned, 1);
	pthread_join(thr, NULL);
	printf("%s: reads during the revoke: %ld whole, %ld gone, %ld wrong\n", spec,
	       atomic_load(&r.good), r.gone, r.bad);
	CHECK(r.gone > 0);
	CHECK_EQ(r.bad, 0);
	CHECK_EQ(netmem_rxq_release_pkt(r.q, &pkts[0]), pkts[0].nr_frags);
	/* The queue notices at its next refill and gives its posted buffers
	 * back: then nothing of the provider is left. */
	CHECK_EQ(netmem_rxq_refill(r.q), -ENODEV);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	netmem_provider_destroy(prov);
}

/*
 * The header memory's provider revoked: the payload's own (same provider
 * for both) or a separate one. Frames that need a header buffer drop as
 * revoked, no header pointer into revoked memory is ever delivered, and
 * once the held headers are back no area of the header provider is left.
 */
static void header_revoked(const char *hspec, const char *pspec)
{
	static const uint32_t sizes[] = {64, 1500};
	struct netmem_provider *hprov = netmem_provider_create(hspec);
	struct netmem_provider *pprov = pspec ? netmem_provider_create(pspec) : hprov;
	struct netmem_sim_params sp;
	struct netmem_rx_pkt pkts[16];
	struct netmem_rxq_stats st;
	struct netmem_sim *sim;
	struct netmem_rxq *q;
	uint64_t after = 0, before;

	REQUIRE(hprov && pprov);
	netmem_sim_params_init(&sp, pprov);
	sp.header = hprov;
	sp.hdr_split = 64; /* every frame has header bytes; 64-byte ones only those */
	sp.sizes = sizes;
	sp.nr_sizes = 2;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	q = netmem_sim_rxq(sim, 0);
	for (int i = 0; i < 4; i++) {
		int n = netmem_rxq_recv(q, pkts, 16);

		REQUIRE(n > 0);
		for (int j = 0; j < n; j++)
			CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[j]), pkts[j].nr_frags);
	}
	REQUIRE(netmem_rxq_stats(q, &st) == 0);
	before = st.packets;
	CHECK_EQ(netmem_provider_revoke(hprov), 0);
	for (int i = 0; i < 200; i++) {
		int n = netmem_rxq_recv(q, pkts, 16);

		REQUIRE(n >= 0);
		after += (unsigned)n;
		for (int j = 0; j < n; j++)
			CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[j]), pkts[j].nr_frags);
	}
	REQUIRE(netmem_rxq_stats(q, &st) == 0);
	printf("header on %s, payload on %s: %" PRIu64 " delivered before the revoke, %" PRIu64
	       " after, %" PRIu64 " dropped as revoked\n",
	       hspec, pspec ? pspec : hspec, before, after, st.drop_revoked);
	CHECK_EQ(after, 0);
	CHECK(st.drop_revoked >= 200 * 16);
	CHECK_EQ(st.packets + st.drops, st.generated);
	CHECK_EQ(st.tokens_held, 0);
	/* The payload provider is untouched when it is another one. */
	CHECK_EQ(st.revoked, !pspec);
	CHECK_EQ(netmem_provider_nr_areas(hprov), 0);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(pprov), 0);
	if (pspec)
		netmem_provider_destroy(pprov);
	netmem_provider_destroy(hprov);
}

int main(void)
{
	/* devsim too where it is built in: its device-side writes race the
	 * revoke from the other thread. */
	static const char *const specs[] = { "host", "devsim", "memfd" };

	for (unsigned i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if (!netmem_provider_lookup(specs[i])) {
			printf("%s: not built in, skipped\n", specs[i]);
			continue;
		}
		run(specs[i]);
		read_during_revoke(specs[i]);
	}
	header_revoked("host", NULL);
	header_revoked("memfd", "host");
	return t_done();
}
