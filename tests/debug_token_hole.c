/* SPDX-License-Identifier: MIT */
/*
 * A releaser held between reserving its place in the queue's release ring
 * and filling it (debug-build hook) hides the tokens released after it. The
 * owner, short of tokens, drops the packets the device completes meanwhile:
 * counted as drop_no_token and reported to the sim's drop callback, so every
 * frame is still delivered or dropped, never neither. Once the releaser
 * goes on, delivery resumes and nothing is lost.
 */
#include <pthread.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define FRAMES 64

extern void (*_netmem_rxq_debug_reserved)(void);

static struct netmem_rxq *rxq;
static unsigned char state[FRAMES]; /* 1 delivered, 2 dropped */
static unsigned long both, no_token_seen;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int parked, go;
static _Thread_local int park_me;

static void on_drop(void *arg, unsigned q, uint64_t seq, enum netmem_sim_drop why)
{
	(void)arg;
	(void)q;
	if (seq >= FRAMES || state[seq]) {
		both++;
		return;
	}
	state[seq] = 2;
	no_token_seen += why == NETMEM_SIM_DROP_NO_TOKEN;
}

static void deliver(const struct netmem_rx_pkt *p)
{
	if (p->seq >= FRAMES || state[p->seq])
		both++;
	else
		state[p->seq] = 1;
}

static void hook(void)
{
	if (!park_me)
		return;
	pthread_mutex_lock(&lock);
	parked = 1;
	pthread_cond_broadcast(&cond);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void *stalled_releaser(void *arg)
{
	uint64_t t = *(uint64_t *)arg;

	park_me = 1;
	CHECK_EQ(netmem_rxq_release(rxq, &t, 1), 1);
	return NULL;
}

static void *releaser(void *arg)
{
	CHECK_EQ(netmem_rxq_release(rxq, arg, 2), 2);
	return NULL;
}

/* Receive until n packets or nothing more comes; returns how many. */
static int recv_some(struct netmem_rx_pkt *pkts, int n)
{
	int got = 0;

	for (int tries = 0; got < n && tries < 100; tries++) {
		int k = netmem_rxq_recv(rxq, pkts + got, (unsigned)(n - got));

		REQUIRE(k >= 0);
		for (int i = 0; i < k; i++)
			deliver(&pkts[got + i]);
		got += k;
	}
	return got;
}

int main(void)
{
	static const uint32_t size = 1500;
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_sim_params sp;
	struct netmem_rx_pkt pkts[8];
	struct netmem_rxq_stats st;
	struct netmem_sim *sim;
	uint64_t tok[4], later[2];
	pthread_t a, b;
	int n;

	REQUIRE(prov);
	_netmem_rxq_debug_reserved = hook;
	netmem_sim_params_init(&sp, prov);
	sp.sizes = &size;
	sp.nr_sizes = 1;
	sp.payload_order = 0;  /* 4 KiB chunks: two 2 KiB buffers each */
	sp.payload_chunks = 2; /* four buffers, four tokens */
	sp.max_frames = FRAMES;
	sp.on_drop = on_drop;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	rxq = netmem_sim_rxq(sim, 0);

	/* Every token out: t0, t1 of one chunk, t2, t3 of the other. */
	REQUIRE(recv_some(pkts, 4) == 4);
	for (int i = 0; i < 4; i++) {
		REQUIRE(pkts[i].nr_frags == 1);
		tok[i] = pkts[i].frag[0].token;
	}
	/* t0's releaser stops between its reservation and its store... */
	REQUIRE(pthread_create(&a, NULL, stalled_releaser, &tok[0]) == 0);
	pthread_mutex_lock(&lock);
	while (!parked)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	/* ... while t2 and t3 go back whole from another thread: their chunk
	 * is the device's again, their slots are behind the hole. */
	REQUIRE(pthread_create(&b, NULL, releaser, &tok[2]) == 0);
	pthread_join(b, NULL);
	/* One poll: the device completes two frames into them. */
	n = netmem_rxq_recv(rxq, pkts, 2);
	REQUIRE(n >= 0);
	for (int i = 0; i < n; i++)
		deliver(&pkts[i]);
	REQUIRE(netmem_rxq_stats(rxq, &st) == 0);
	printf("with the releaser held: %d delivered, drop_no_token %" PRIu64
	       ", %lu reported to on_drop\n",
	       n, st.drop_no_token, no_token_seen);
	CHECK_EQ(n, 0);
	CHECK(st.drop_no_token >= 1);
	CHECK_EQ(no_token_seen, st.drop_no_token);
	CHECK_EQ(st.generated, st.packets + st.drops);

	/* The releaser goes on: its slot and the two behind it are free. */
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(a, NULL);
	n = recv_some(pkts, 2);
	CHECK_EQ(n, 2);
	for (int i = 0; i < n; i++)
		later[i] = pkts[i].frag[0].token;
	CHECK_EQ(netmem_rxq_release(rxq, later, (unsigned)n), n);
	CHECK_EQ(netmem_rxq_release(rxq, &tok[1], 1), 1);

	REQUIRE(netmem_rxq_stats(rxq, &st) == 0);
	CHECK_EQ(st.tokens_held, 0);
	CHECK_EQ(st.generated, st.packets + st.drops);
	CHECK_EQ(both, 0);
	for (uint64_t s = 0; s < st.generated; s++)
		CHECK(state[s] != 0); /* delivered or dropped, never neither */
	CHECK_EQ(netmem_sim_destroy(sim), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
