/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the sim NIC's frame input. The input configures a sim
 * device (queues, header split point, payload buffer size, ring and pool
 * sizes, payload provider, fault rates) and then, byte-coded, injects
 * frames (raw bytes, or a well-formed sim frame with mutated bytes:
 * headers, lengths, checksums), receives, releases tokens (also twice, on
 * purpose, and from a helper thread: the release ring), and revokes the
 * payload provider.
 *
 * For every received packet it checks that it is one of the frames injected
 * into that queue, in order, byte for byte (header bytes plus payload read
 * back through the device side), with the header split where configured,
 * sequence number and checksum metadata only for well-formed sim frames and
 * NETMEM_RX_CSUM_BAD exactly when the payload does not match, and that
 * netmem_sim_verify() agrees. Every injected frame is either delivered or
 * counted as a drop; the queue's token counts match the tokens held; after
 * releasing everything the device is destroyed with no token out and the
 * payload provider has no area left.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"
#include "netmem/sim.h"
#include "../tests/sim_frame.h"

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_rx_frames: %s:%d: assertion failed: %s\n", __FILE__, \
				__LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAXQ   4
#define MAXTOK 4096
#define MAXOPS 400

struct input {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t get8(struct input *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static uint16_t get16(struct input *in)
{
	uint16_t v = get8(in);

	return (uint16_t)(v | get8(in) << 8);
}

/* Frames injected and not yet processed, per queue, in order. */
struct frame {
	uint8_t *b;
	uint32_t len;
};

static struct {
	struct frame f[NETMEM_SIM_INJECT_MAX];
	unsigned head, count;
} fifo[MAXQ];

static uint64_t tokens[MAXTOK];
static unsigned nr_tokens;

static const char *const payload_specs[] = {
    "host",
    "host:order=1",
    "fault:wfail=7,short=2,seed=%u",
    "fault:fail=3,every=5,seed=%u,inner=host:order=1",
    "devsim",
    "fault:wfail=11,seed=%u,inner=devsim",
};

static bool spec_ok(const char *spec)
{
	const char *inner = strstr(spec, "inner=");
	char name[16];
	size_t n;

	if (!strncmp(spec, "fault", 5) && !inner)
		inner = "inner=host";
	if (inner)
		spec = inner + 6;
	n = strcspn(spec, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, spec, n);
	name[n] = 0;
	return netmem_provider_lookup(name) != NULL;
}

/* A well-formed sim frame of len >= NETMEM_SIM_HDR_LEN bytes. */
static void build_sim_frame(uint8_t *b, uint32_t len, uint64_t seq, uint32_t flow, uint8_t fill)
{
	for (uint32_t i = NETMEM_SIM_HDR_LEN; i < len; i++)
		b[i] = (uint8_t)(fill + i * 7);
	t_sim_frame_hdr(b, len, seq, flow);
}

/* Is the frame what the sim's parser calls a well-formed sim frame? */
static bool is_sim_frame(const uint8_t *b, uint32_t len)
{
	uint16_t tot, ulen;

	if (len < NETMEM_SIM_HDR_LEN || b[12] != 0x08 || b[13] != 0 || b[14] != 0x45 ||
	    b[23] != 17 || (b[20] & 0x1f) || b[21] || t_ip_csum(b + 14) != 0)
		return false;
	tot = (uint16_t)(b[16] << 8 | b[17]);
	ulen = (uint16_t)(b[38] << 8 | b[39]);
	return tot == len - 14 && ulen == len - 34 && b[36] == 0x23 && b[37] == 0x28;
}

static void fifo_pop(unsigned q)
{
	free(fifo[q].f[fifo[q].head].b);
	fifo[q].f[fifo[q].head].b = NULL;
	fifo[q].head = (fifo[q].head + 1) % NETMEM_SIM_INJECT_MAX;
	fifo[q].count--;
}

/* Reassemble a packet's bytes into out; returns how many the packet has.
 * *all_read is false when some payload could not be read back (revoked, or
 * device memory without a device-side read). */
static uint32_t pkt_bytes(struct netmem_rxq *rxq, const struct netmem_rx_pkt *pkt, uint8_t *out,
			  bool *all_read)
{
	uint32_t at = pkt->hdr_len;

	*all_read = true;
	ASSERT(pkt->hdr_len <= pkt->len && pkt->nr_frags <= NETMEM_RX_MAX_FRAGS);
	ASSERT(!pkt->hdr_len || pkt->hdr);
	if (pkt->hdr_len)
		memcpy(out, pkt->hdr, pkt->hdr_len);
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const struct netmem_rx_frag *f = &pkt->frag[i];
		int ret;

		ASSERT(f->len > 0 && f->len <= pkt->len - at);
		ret = netmem_rxq_frag_read(rxq, f, 0, out + at, f->len);
		ASSERT(ret == 0 || ret == -ENODEV || ret == -EOPNOTSUPP);
		if (ret == 0 && f->addr)
			ASSERT(!memcmp(f->addr, out + at, f->len));
		if (ret)
			*all_read = false;
		at += f->len;
	}
	return at;
}

/*
 * Whether pkt is what the device makes of frame fr: every property the
 * frame fixes. With strict, a property that fails aborts with its name
 * (the check of a matched packet); without, it only answers (the search for
 * the frame a packet came from, which must not pair it with an earlier
 * frame of the same length and first bytes, e.g. when a truncated write
 * left few bytes to compare).
 */
#define EXPECT(c)                                                                                  \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			ASSERT(!strict || (c));                                                    \
			return false;                                                              \
		}                                                                                  \
	} while (0)

static bool pkt_is_frame(struct netmem_rxq *rxq, const struct netmem_rx_pkt *pkt,
			 const struct frame *fr, uint32_t split, bool strict)
{
	static uint8_t got[NETMEM_SIM_MAX_FRAME];
	bool all_read, sim;
	uint32_t n;

	EXPECT(pkt->len == fr->len);
	n = pkt_bytes(rxq, pkt, got, &all_read);
	sim = is_sim_frame(fr->b, fr->len);
	EXPECT(pkt->hdr_len == (fr->len < split ? fr->len : split));
	EXPECT(!memcmp(got, fr->b, pkt->hdr_len));
	if (pkt->flags & NETMEM_RX_TRUNCATED)
		EXPECT(n < fr->len);
	else
		EXPECT(n == fr->len);
	if (all_read)
		EXPECT(!memcmp(got, fr->b, n));
	EXPECT(!!(pkt->flags & NETMEM_RX_HAS_SEQ) == sim);
	EXPECT(!!(pkt->flags & NETMEM_RX_HAS_CSUM) == sim);
	if (sim) {
		struct netmem_sim_csum c;
		uint64_t seq;
		uint32_t csum;

		memcpy(&seq, fr->b + 42, 8);
		memcpy(&csum, fr->b + 54, 4);
		EXPECT(pkt->seq == be64toh(seq));
		EXPECT(pkt->csum == be32toh(csum));
		netmem_sim_csum_init(&c);
		netmem_sim_csum_update(&c, fr->b + NETMEM_SIM_HDR_LEN,
				       fr->len - NETMEM_SIM_HDR_LEN);
		EXPECT(!!(pkt->flags & NETMEM_RX_CSUM_BAD) ==
		       (netmem_sim_csum_final(&c) != be32toh(csum)));
	} else {
		EXPECT(!(pkt->flags & NETMEM_RX_CSUM_BAD));
	}
	return true;
}

static void check_pkt(struct netmem_rxq *rxq, const struct netmem_rx_pkt *pkt,
		      const struct frame *fr, uint32_t split)
{
	bool sim = is_sim_frame(fr->b, fr->len);
	int v;

	pkt_is_frame(rxq, pkt, fr, split, true);
	v = netmem_sim_verify(rxq, pkt);
	ASSERT(v == 0 || v == -EBADMSG || v == -ENODEV || v == -EOPNOTSUPP);
	if (pkt->flags & (NETMEM_RX_CSUM_BAD | NETMEM_RX_TRUNCATED))
		ASSERT(v == -EBADMSG);
	else if (sim)
		ASSERT(v != -EBADMSG);
}

/* Tokens carry no queue: remember which queue each came from. */
static struct netmem_rxq *token_q[MAXTOK];

static void hold_tokens(const struct netmem_rx_pkt *pkt, struct netmem_rxq *rxq)
{
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		if (nr_tokens == MAXTOK) {
			ASSERT(netmem_rxq_release(rxq, &pkt->frag[i].token, 1) == 1);
			continue;
		}
		token_q[nr_tokens] = rxq;
		tokens[nr_tokens++] = pkt->frag[i].token;
	}
}

/* Tokens given back by a thread that owns no queue: through each queue's
 * release ring, drained by its owner (the fuzzer's thread) later. */
struct remote_release {
	uint64_t tok[40];
	struct netmem_rxq *q[40];
	unsigned n, ok;
};

/* One helper thread for the whole run, handed one job at a time. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct remote_release *job; /* set by the fuzzer, cleared when done */
} helper = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL };

static void *remote_release_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&helper.lock);
	for (;;) {
		struct remote_release *rr;

		while (!helper.job)
			pthread_cond_wait(&helper.cond, &helper.lock);
		rr = helper.job;
		pthread_mutex_unlock(&helper.lock);
		for (unsigned i = 0; i < rr->n; i++)
			rr->ok += netmem_rxq_release(rr->q[i], &rr->tok[i], 1) == 1;
		pthread_mutex_lock(&helper.lock);
		helper.job = NULL;
		pthread_cond_broadcast(&helper.cond);
	}
	return NULL;
}

static void start_helper(void)
{
	pthread_t thr;

	ASSERT(pthread_create(&thr, NULL, remote_release_main, NULL) == 0);
	pthread_detach(thr);
}

static void run_remote_release(struct remote_release *rr)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, start_helper);
	pthread_mutex_lock(&helper.lock);
	helper.job = rr;
	pthread_cond_broadcast(&helper.cond);
	while (helper.job)
		pthread_cond_wait(&helper.cond, &helper.lock);
	pthread_mutex_unlock(&helper.lock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size, 0};
	struct netmem_sim_params sp;
	struct netmem_provider *prov;
	struct netmem_sim *sim;
	static struct netmem_rx_pkt pkts[NETMEM_RX_MAX_BATCH];
	static uint8_t frame[NETMEM_SIM_MAX_FRAME + 1];
	uint64_t bad_expected[MAXQ] = {0};
	char spec[96];
	unsigned k, nq, ops = 0, order;
	uint8_t cfg[8];

	for (int i = 0; i < 8; i++)
		cfg[i] = get8(&in);
	k = cfg[0] % (sizeof(payload_specs) / sizeof(payload_specs[0]));
	if (!spec_ok(payload_specs[k]))
		k = 0;
	snprintf(spec, sizeof(spec), payload_specs[k], (unsigned)cfg[7]);
	prov = netmem_provider_create(spec);
	ASSERT(prov);
	order = (unsigned)netmem_provider_default_order(prov);
	netmem_sim_params_init(&sp, prov);
	nq = 1 + cfg[1] % MAXQ;
	sp.nr_queues = nq;
	sp.ring_size = 1u << (cfg[2] % 7);
	sp.hdr_split = cfg[3] & 0x80 ? (cfg[3] & 0x7f) * 2
				     : (uint32_t[]){0, 14, 42, 58, 64, 128, 255, 256}[cfg[3] % 8];
	sp.buf_size = 64 * (1 + cfg[4] % ((4096u << order) / 64));
	sp.payload_chunks = 1 + cfg[5] % 48;
	sp.flags = NETMEM_SIM_INJECT_ONLY | (cfg[6] & 1 ? NETMEM_SIM_DELIVER_ERRORS : 0);
	if (cfg[6] & 2)
		sp.drop_ppm = 100000;
	if (cfg[6] & 4)
		sp.trunc_ppm = 200000;
	if (cfg[6] & 8)
		sp.overflow_ppm = 100000;
	sp.seed = cfg[7];
	sim = netmem_sim_create(&sp);
	if (!sim) {
		fprintf(stderr, "fuzz_rx_frames: sim: %s\n", netmem_last_error());
		ASSERT(sim);
	}

	while (in.i < in.n && ops++ < MAXOPS) {
		uint8_t op = get8(&in) % 8;

		if (op <= 2) { /* inject */
			uint32_t len = get16(&in) % (NETMEM_SIM_MAX_FRAME + 2);
			uint8_t qsel = get8(&in), how = get8(&in);
			unsigned queue = qsel & 0x80 ? NETMEM_SIM_INJECT_RSS : qsel % (nq + 1);
			uint32_t hl = len < sp.hdr_split ? len : sp.hdr_split;
			uint32_t nb = (len - hl + sp.buf_size - 1) / sp.buf_size;
			/* One packet's fragments, and no more than the ring
			 * posts or the payload pool holds. */
			uint32_t pool_bufs = sp.payload_chunks * ((4096u << order) / sp.buf_size);
			bool fits = len >= 1 && len <= NETMEM_SIM_MAX_FRAME &&
				    nb <= NETMEM_RX_MAX_FRAGS && nb <= sp.ring_size &&
				    nb <= pool_bufs;
			int ret;

			if (how & 1 && len >= NETMEM_SIM_HDR_LEN) {
				unsigned nmut = (how >> 1) % 4;

				build_sim_frame(frame, len, get16(&in), get8(&in), how);
				for (unsigned m = 0; m < nmut; m++) {
					uint16_t pos = get8(&in) % 64;

					frame[pos < len ? pos : 0] = get8(&in);
				}
			} else {
				for (uint32_t i = 0; i < len; i++)
					frame[i] = in.i < in.n ? in.d[in.i + i % (in.n - in.i)]
							       : (uint8_t)i;
				in.i += len < 64 ? len : 64;
				if (in.i > in.n)
					in.i = in.n;
			}
			ret = netmem_sim_inject(sim, queue, frame, len);
			if (!fits || (queue != NETMEM_SIM_INJECT_RSS && queue >= nq)) {
				ASSERT(ret == -EINVAL && netmem_last_error()[0]);
				continue;
			}
			if (ret == -ENOSPC) {
				ASSERT(queue == NETMEM_SIM_INJECT_RSS ||
				       fifo[queue].count == NETMEM_SIM_INJECT_MAX);
				continue;
			}
			ASSERT(ret >= 0 && (unsigned)ret < nq);
			ASSERT(queue == NETMEM_SIM_INJECT_RSS || (unsigned)ret == queue);
			ASSERT(fifo[ret].count < NETMEM_SIM_INJECT_MAX);
			{
				struct frame *fr = &fifo[ret].f[(fifo[ret].head + fifo[ret].count) %
								NETMEM_SIM_INJECT_MAX];

				fr->b = malloc(len);
				ASSERT(fr->b);
				memcpy(fr->b, frame, len);
				fr->len = len;
				fifo[ret].count++;
			}
		} else if (op <= 4) { /* receive */
			unsigned q = get8(&in) % nq, max = get8(&in) % 80;
			struct netmem_rxq *rxq = netmem_sim_rxq(sim, q);
			struct netmem_rxq_stats before, after;
			unsigned processed = fifo[q].count < max ? fifo[q].count : max, next = 0;
			int n;

			ASSERT(netmem_rxq_stats(rxq, &before) == 0);
			n = netmem_rxq_recv(rxq, pkts, max);
			ASSERT(n >= 0 && (unsigned)n <= processed);
			ASSERT(netmem_rxq_stats(rxq, &after) == 0);
			ASSERT(after.generated - before.generated == processed);
			ASSERT(after.drops - before.drops == processed - (unsigned)n);
			/* Delivered packets are the processed frames, in order,
			 * minus the dropped ones. */
			for (int i = 0; i < n; i++) {
				while (next < processed &&
				       !pkt_is_frame(
					   rxq, &pkts[i],
					   &fifo[q].f[(fifo[q].head + next) % NETMEM_SIM_INJECT_MAX],
					   sp.hdr_split, false))
					next++;
				ASSERT(next < processed);
				check_pkt(rxq, &pkts[i],
					  &fifo[q].f[(fifo[q].head + next) % NETMEM_SIM_INJECT_MAX],
					  sp.hdr_split);
				next++;
				hold_tokens(&pkts[i], rxq);
			}
			for (unsigned i = 0; i < processed; i++)
				fifo_pop(q);
		} else if (op == 5) { /* release tokens from another thread */
			struct remote_release rr = { .n = 0 };
			unsigned n = get8(&in) % 40;

			for (unsigned i = 0; i < n && nr_tokens; i++) {
				unsigned t = get16(&in) % nr_tokens;

				rr.tok[rr.n] = tokens[t];
				rr.q[rr.n++] = token_q[t];
				tokens[t] = tokens[--nr_tokens];
				token_q[t] = token_q[nr_tokens];
			}
			run_remote_release(&rr);
			ASSERT(rr.ok == rr.n);
		} else if (op <= 6) { /* release tokens, one of each twice */
			unsigned n = get8(&in) % 40;

			for (unsigned i = 0; i < n && nr_tokens; i++) {
				unsigned t = get16(&in) % nr_tokens;
				uint64_t tok = tokens[t];
				struct netmem_rxq *rxq = token_q[t];

				ASSERT(netmem_rxq_release(rxq, &tok, 1) == 1);
				tokens[t] = tokens[--nr_tokens];
				token_q[t] = token_q[nr_tokens];
				if (op == 6) {
					/* the same token again: refused, counted */
					ASSERT(netmem_rxq_release(rxq, &tok, 1) == -EINVAL);
					for (unsigned qq = 0; qq < nq; qq++)
						if (netmem_sim_rxq(sim, qq) == rxq)
							bad_expected[qq]++;
				}
			}
		} else { /* revoke the payload provider */
			if (get8(&in) % 8 == 0)
				ASSERT(netmem_provider_revoke(prov) == 0);
		}
		/* The queues' token accounting matches what we hold. */
		{
			uint64_t held = 0;

			for (unsigned q = 0; q < nq; q++) {
				struct netmem_rxq_stats st;

				ASSERT(netmem_rxq_stats(netmem_sim_rxq(sim, q), &st) == 0);
				/* counted apart: released by the release calls,
				 * held from the queue's reference count */
				ASSERT(st.tokens_issued == st.tokens_released + st.tokens_held);
				ASSERT(st.bad_release == bad_expected[q]);
				held += st.tokens_held;
			}
			ASSERT(held == nr_tokens);
		}
	}

	while (nr_tokens) {
		nr_tokens--;
		ASSERT(netmem_rxq_release(token_q[nr_tokens], &tokens[nr_tokens], 1) == 1);
	}
	ASSERT(netmem_sim_destroy(sim) == 0);
	for (unsigned q = 0; q < MAXQ; q++)
		while (fifo[q].count)
			fifo_pop(q);
	ASSERT(netmem_provider_nr_areas(prov) == 0);
	netmem_provider_destroy(prov);
	return 0;
}
