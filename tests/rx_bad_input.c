/* SPDX-License-Identifier: MIT */
/*
 * Bad input to the receive API and the sim NIC: NULLs, wrong threads, bogus,
 * double and foreign tokens, bad ranges and bad parameters get their
 * documented errors and change nothing (no reference count moves).
 */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

static struct netmem_rxq *gq;
static struct netmem_sim *gsim;
static uint64_t gtok;
static int thread_recv, thread_refill, thread_destroy, thread_release, thread_sim_destroy;
static int thread_stats, thread_stats_json;
static struct netmem_rxq_stats thread_st;

static void *other_thread(void *arg)
{
	struct netmem_rx_pkt p;

	(void)arg;
	thread_recv = netmem_rxq_recv(gq, &p, 1);
	thread_refill = netmem_rxq_refill(gq);
	thread_stats = netmem_rxq_stats(gq, &thread_st);
	thread_stats_json = netmem_rxq_stats_json(gq, stdout);
	thread_destroy = netmem_rxq_destroy(gq);
	/* Not the queues' owner: the device's destroy refuses, whole. */
	thread_sim_destroy = netmem_sim_destroy(gsim);
	/* Release is any-thread: a bogus one is refused here too. */
	thread_release = netmem_rxq_release(gq, &gtok, 1);
	return NULL;
}

static struct netmem_sim *make(struct netmem_provider *prov)
{
	struct netmem_sim_params sp;

	netmem_sim_params_init(&sp, prov);
	sp.nr_queues = 2;
	sp.nr_flows = 32;
	return netmem_sim_create(&sp);
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rxq *q, *q1;
	struct netmem_rx_pkt pkts[4], p1;
	struct netmem_rxq_stats st;
	uint64_t t, bogus[6];
	uint32_t too_big = NETMEM_SIM_MAX_FRAME + 1, too_small = 10, many = 9000;
	char buf[64];
	pthread_t thr;
	int n;

	REQUIRE(prov);

	/* sim parameters */
	errno = 0;
	CHECK(netmem_sim_create(NULL) == NULL && errno == EINVAL);
#define BAD(field, value)                                                                          \
	do {                                                                                       \
		netmem_sim_params_init(&sp, prov);                                                 \
		sp.field = value;                                                                  \
		errno = 0;                                                                         \
		CHECK(netmem_sim_create(&sp) == NULL);                                             \
		CHECK_EQ(errno, EINVAL);                                                           \
		printf("%-16s %s\n", #field, netmem_last_error());                                 \
	} while (0)
	BAD(size, 3);
	BAD(size, offsetof(struct netmem_sim_params, on_drop) + 4); /* half a pointer */
	BAD(payload, NULL);
	BAD(nr_queues, 0);
	BAD(nr_queues, NETMEM_SIM_MAX_QUEUES + 1);
	BAD(ring_size, 0);
	BAD(ring_size, 100);
	BAD(ring_size, 8192);
	BAD(hdr_split, NETMEM_SIM_MAX_SPLIT + 1);
	BAD(buf_size, 0);
	BAD(buf_size, 100);
	BAD(buf_size, 8192); /* above the 4 KiB chunk */
	BAD(payload_chunks, 0);
	BAD(payload_order, 10);
	BAD(payload_order, -2);
	BAD(nr_flows, 0);
	BAD(nr_flows, 70000);
	BAD(nr_sizes, 2); /* sizes NULL */
	BAD(drop_ppm, 1000001);
	BAD(trunc_ppm, 2000000);
	BAD(overflow_ppm, 1000001);
	netmem_sim_params_init(&sp, prov);
	sp.sizes = &too_big;
	sp.nr_sizes = 1;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	sp.sizes = &too_small;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	sp.sizes = &many;
	sp.buf_size = 64; /* 9000 bytes in 64-byte buffers: too many fragments */
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	/* The default 1500-byte frames are checked too: in 64-byte buffers
	 * they would need 23 fragments. */
	netmem_sim_params_init(&sp, prov);
	sp.buf_size = 64;
	errno = 0;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	/* 9000 bytes in 2 KiB buffers take 5: more than a 4-entry ring posts. */
	netmem_sim_params_init(&sp, prov);
	sp.sizes = &many;
	sp.nr_sizes = 1;
	sp.ring_size = 4;
	errno = 0;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	printf("%-16s %s\n", "ring_size", netmem_last_error());
	sp.ring_size = 8;
	sim = netmem_sim_create(&sp);
	CHECK(sim != NULL);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	/* ... and more than a payload pool of 2 chunks (4 buffers) holds. */
	sp.payload_chunks = 2;
	errno = 0;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	printf("%-16s %s\n", "payload_chunks", netmem_last_error());
	sp.payload_chunks = 3;
	sim = netmem_sim_create(&sp);
	CHECK(sim != NULL);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	/* One token per payload buffer, at most 2^24: 2^18 + 1 chunks of 4 KiB
	 * in 64-byte buffers are 64 too many (and 2^32 + 32768 for 2 MiB
	 * chunks, which must not wrap to a small table). */
	netmem_sim_params_init(&sp, prov);
	sp.buf_size = 64;
	sp.payload_chunks = (1u << 18) + 1;
	sp.flags = NETMEM_SIM_INJECT_ONLY; /* no generated sizes to fit */
	errno = 0;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	printf("%-16s %s\n", "payload_chunks", netmem_last_error());
	sp.payload_order = 9;
	sp.payload_chunks = (1u << 17) + 1;
	errno = 0;
	CHECK(netmem_sim_create(&sp) == NULL && errno == EINVAL);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_sim_params_init(NULL, prov);

	/* NULLs */
	CHECK_EQ(netmem_rxq_recv(NULL, pkts, 4), -EINVAL);
	CHECK_EQ(netmem_rxq_release(NULL, &t, 1), -EINVAL);
	CHECK_EQ(netmem_rxq_release_pkt(NULL, pkts), -EINVAL);
	CHECK_EQ(netmem_rxq_refill(NULL), -EINVAL);
	CHECK_EQ(netmem_rxq_set_owner(NULL), -EINVAL);
	CHECK_EQ(netmem_rxq_stats(NULL, &st), -EINVAL);
	CHECK_EQ(netmem_rxq_stats_json(NULL, stdout), -EINVAL);
	CHECK_EQ(netmem_rxq_destroy(NULL), -EINVAL);
	CHECK_EQ(netmem_rxq_frag_read(NULL, &pkts[0].frag[0], 0, buf, 1), -EINVAL);
	CHECK(netmem_rxq_driver(NULL) == NULL);
	CHECK(netmem_sim_rxq(NULL, 0) == NULL);
	CHECK_EQ(netmem_sim_nr_queues(NULL), 0);
	CHECK_EQ(netmem_sim_destroy(NULL), -EINVAL);
	CHECK_EQ(netmem_sim_verify(NULL, pkts), -EINVAL);
	netmem_rxq_stats_add(NULL, &st);

	sim = make(prov);
	REQUIRE(sim);
	CHECK_EQ(netmem_sim_nr_queues(sim), 2);
	CHECK(netmem_sim_rxq(sim, 2) == NULL);
	q = netmem_sim_rxq(sim, 0);
	q1 = netmem_sim_rxq(sim, 1);
	REQUIRE(q && q1);
	CHECK(!strcmp(netmem_rxq_driver(q), "sim"));
	CHECK_EQ(netmem_rxq_recv(q, NULL, 4), -EINVAL);
	CHECK_EQ(netmem_rxq_recv(q, NULL, 0), 0);
	CHECK_EQ(netmem_rxq_release(q, NULL, 1), -EINVAL);
	CHECK_EQ(netmem_rxq_release(q, NULL, 0), 0);
	CHECK_EQ(netmem_rxq_stats(q, NULL), -EINVAL);
	CHECK_EQ(netmem_rxq_stats_json(q, NULL), -EINVAL);
	{
		FILE *full = t_failed_stream();

		REQUIRE(full);
		CHECK_EQ(netmem_rxq_stats_json(q, full), -EIO);
		fclose(full);
	}
	CHECK_EQ(netmem_sim_verify(q, NULL), -EINVAL);

	n = netmem_rxq_recv(q, pkts, 4);
	REQUIRE(n == 4);
	REQUIRE(netmem_rxq_recv(q1, &p1, 1) == 1);
	REQUIRE(pkts[0].nr_frags == 1 && p1.nr_frags == 1);

	/* Bogus tokens: 0, a slot never issued, wrong generation, another queue's. */
	t = pkts[0].frag[0].token;
	bogus[0] = 0;
	bogus[1] = (t & ~UINT64_C(0xffffffff)) | 0xfffffff0u;
	bogus[2] = t + (UINT64_C(1) << 32);
	bogus[3] = t - (UINT64_C(1) << 32);
	bogus[4] = p1.frag[0].token; /* belongs to q1 */
	bogus[5] = UINT64_MAX;
	for (int i = 0; i < 6; i++)
		CHECK_EQ(netmem_rxq_release(q, &bogus[i], 1), -EINVAL);
	REQUIRE(netmem_rxq_stats(q, &st) == 0);
	CHECK_EQ(st.bad_release, 6);
	CHECK_EQ(st.tokens_held, 4);
	/* frag_read: bad ranges and tokens. */
	{
		struct netmem_rx_frag f = pkts[0].frag[0];

		CHECK_EQ(netmem_rxq_frag_read(q, &f, 0, NULL, 1), -EINVAL);
		CHECK_EQ(netmem_rxq_frag_read(q, &f, f.len, buf, 1), -EINVAL);
		CHECK_EQ(netmem_rxq_frag_read(q, &f, 1, buf, f.len), -EINVAL);
		CHECK_EQ(netmem_rxq_frag_read(q, &f, f.len + 1, buf, 0), -EINVAL);
		CHECK_EQ(netmem_rxq_frag_read(q, &f, 0, buf, 16), 0);
		/* A live token with an offset or length edited to leave its
		 * chunk: refused, not read. */
		f.offset += 1u << 20;
		CHECK_EQ(netmem_rxq_frag_read(q, &f, 0, buf, 16), -EINVAL);
		f = pkts[0].frag[0];
		f.offset -= f.offset ? 1 : 0;
		f.len = 1u << 20;
		CHECK_EQ(netmem_rxq_frag_read(q, &f, (1u << 20) - 16, buf, 16), -EINVAL);
		f.offset = pkts[0].frag[0].offset - 4096 * 4; /* before the chunk */
		CHECK_EQ(netmem_rxq_frag_read(q, &f, 0, buf, 16), -EINVAL);
		f = pkts[0].frag[0];
		f.token = bogus[2];
		CHECK_EQ(netmem_rxq_frag_read(q, &f, 0, buf, 16), -EINVAL);
		CHECK_EQ(netmem_rxq_frag_read(q1, &pkts[0].frag[0], 0, buf, 16), -EINVAL);
	}
	/* A batch with good and bad tokens: good ones released, -EINVAL. */
	{
		uint64_t mix[3] = {pkts[0].frag[0].token, bogus[1], pkts[1].frag[0].token};

		CHECK_EQ(netmem_rxq_release(q, mix, 3), -EINVAL);
		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		CHECK_EQ(st.tokens_held, 2);
		CHECK_EQ(st.bad_release, 7);
		/* double release of both, and of the packet */
		CHECK_EQ(netmem_rxq_release(q, mix, 1), -EINVAL);
		CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[1]), -EINVAL);
		REQUIRE(netmem_rxq_stats(q, &st) == 0);
		CHECK_EQ(st.tokens_held, 2);
		CHECK_EQ(st.bad_release, 9);
	}
	{
		struct netmem_rx_pkt bad = pkts[2];

		bad.nr_frags = NETMEM_RX_MAX_FRAGS + 1;
		CHECK_EQ(netmem_rxq_release_pkt(q, &bad), -EINVAL);
		bad = pkts[2];
		bad.flags |= NETMEM_RX_TRUNCATED;
		CHECK_EQ(netmem_sim_verify(q, &bad), -EBADMSG);
		bad = pkts[2];
		bad.csum ^= 1;
		CHECK_EQ(netmem_sim_verify(q, &bad), -EBADMSG);
		bad = pkts[2];
		bad.len--;
		CHECK_EQ(netmem_sim_verify(q, &bad), -EBADMSG);
		CHECK_EQ(netmem_sim_verify(q, &pkts[2]), 0);
	}

	/* Owner-only calls from another thread. */
	gq = q;
	gsim = sim;
	gtok = bogus[2];
	REQUIRE(pthread_create(&thr, NULL, other_thread, NULL) == 0);
	pthread_join(thr, NULL);
	CHECK_EQ(thread_recv, -EINVAL);
	CHECK_EQ(thread_refill, -EINVAL);
	CHECK_EQ(thread_stats, -EINVAL);
	CHECK_EQ(thread_stats_json, -EINVAL);
	CHECK_EQ(thread_destroy, -EINVAL);
	CHECK_EQ(thread_sim_destroy, -EINVAL);
	CHECK(netmem_sim_rxq(sim, 0) == q && netmem_sim_rxq(sim, 1) == q1);
	CHECK_EQ(thread_release, -EINVAL);

	/* Nothing moved: the good tokens still release exactly once. */
	CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[2]), 1);
	CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[3]), 1);
	CHECK_EQ(netmem_rxq_release_pkt(q1, &p1), 1);
	REQUIRE(netmem_rxq_stats(q, &st) == 0);
	CHECK_EQ(st.tokens_held, 0);
	CHECK_EQ(st.tokens_released, 4);
	CHECK_EQ(netmem_rxq_release_pkt(q, &pkts[2]), -EINVAL);

	/* A queue destroyed on its own is skipped by the device's destroy. */
	CHECK_EQ(netmem_rxq_destroy(q1), 0);
	CHECK(netmem_sim_rxq(sim, 1) == NULL);
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
