/* SPDX-License-Identifier: MIT */
/*
 * Tokens released from other threads than the receiving one, concurrently
 * with receive, some of them released twice on purpose (racing releasers:
 * exactly one wins), and some after the device is destroyed. Conservation at
 * the end: nothing held, nothing leaked, every area gone.
 */
#include <pthread.h>
#include <sched.h>

#include "harness.h"
#include "netmem/netmem.h"
#include "netmem/sim.h"

#define NREL   3
#define FRAMES 60000
#define QCAP   4096

/* A bounded mutex-protected hand-off queue of tokens (the test's plumbing,
 * not under test). */
struct handoff {
	pthread_mutex_t lock;
	uint64_t t[QCAP];
	unsigned head, tail;
	int done;
};

static struct handoff hq[NREL];
static struct netmem_rxq *rxq;
static _Atomic long released, refused;

static int push(struct handoff *h, uint64_t t)
{
	int ok;

	pthread_mutex_lock(&h->lock);
	ok = h->tail - h->head < QCAP;
	if (ok)
		h->t[h->tail++ % QCAP] = t;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static void *releaser(void *arg)
{
	struct handoff *h = arg;
	uint64_t batch[32];

	for (;;) {
		unsigned n = 0;
		int done;

		pthread_mutex_lock(&h->lock);
		while (n < 32 && h->head != h->tail)
			batch[n++] = h->t[h->head++ % QCAP];
		done = h->done && h->head == h->tail;
		pthread_mutex_unlock(&h->lock);
		if (n) {
			/* One token at a time: the race for a duplicate is per token. */
			for (unsigned i = 0; i < n; i++) {
				if (netmem_rxq_release(rxq, &batch[i], 1) == 1)
					atomic_fetch_add(&released, 1);
				else
					atomic_fetch_add(&refused, 1);
			}
		} else if (done) {
			return NULL;
		} else {
			sched_yield();
		}
	}
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("host");
	struct netmem_sim_params sp;
	struct netmem_sim *sim;
	struct netmem_rx_pkt pkts[32];
	struct netmem_rxq_stats st;
	pthread_t thr[NREL];
	uint64_t late[64];
	unsigned nlate = 0;
	long dup = 0, issued = 0;
	int held;

	REQUIRE(prov);
	netmem_sim_params_init(&sp, prov);
	sp.payload_chunks = 256;
	sp.max_frames = FRAMES;
	sim = netmem_sim_create(&sp);
	REQUIRE(sim);
	rxq = netmem_sim_rxq(sim, 0);
	for (int i = 0; i < NREL; i++) {
		pthread_mutex_init(&hq[i].lock, NULL);
		REQUIRE(pthread_create(&thr[i], NULL, releaser, &hq[i]) == 0);
	}
	for (unsigned k = 0;;) {
		int n;

		/* Let the releasers catch up rather than drop most frames. */
		REQUIRE(netmem_rxq_stats(rxq, &st) == 0);
		if (st.tokens_held > 100) {
			sched_yield();
			continue;
		}
		n = netmem_rxq_recv(rxq, pkts, 32);
		REQUIRE(n >= 0);
		REQUIRE(netmem_rxq_stats(rxq, &st) == 0);
		if (n == 0 && st.generated == FRAMES)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t t = pkts[i].frag[0].token;

			issued++;
			if (nlate < 64 && pkts[i].seq % 997 == 0) {
				late[nlate++] = t;
				continue;
			}
			/* Every 7th token also goes to a second releaser. */
			if (pkts[i].seq % 7 == 0 && push(&hq[(k + 1) % NREL], t))
				dup++;
			while (!push(&hq[k % NREL], t))
				sched_yield();
			k++;
		}
	}
	for (int i = 0; i < NREL; i++) {
		pthread_mutex_lock(&hq[i].lock);
		hq[i].done = 1;
		pthread_mutex_unlock(&hq[i].lock);
		pthread_join(thr[i], NULL);
	}
	REQUIRE(netmem_rxq_stats(rxq, &st) == 0);
	printf("issued %ld, released %ld by other threads, %ld duplicates refused, %u held\n",
	       issued, atomic_load(&released), atomic_load(&refused), nlate);
	CHECK_EQ(atomic_load(&released), issued - nlate);
	CHECK_EQ(atomic_load(&refused), dup);
	CHECK_EQ(st.bad_release, dup);
	CHECK_EQ(st.tokens_held, nlate);
	CHECK(nlate > 0);

	/* Destroy with tokens out; release them later from another thread. */
	held = netmem_sim_destroy(sim);
	CHECK_EQ(held, nlate);
	CHECK(netmem_provider_nr_areas(prov) == 1);
	{
		struct handoff *h = &hq[0];

		h->head = h->tail = 0;
		h->done = 1;
		for (unsigned i = 0; i < nlate; i++)
			push(h, late[i]);
		atomic_store(&released, 0);
		REQUIRE(pthread_create(&thr[0], NULL, releaser, h) == 0);
		pthread_join(thr[0], NULL);
		CHECK_EQ(atomic_load(&released), nlate);
	}
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
