/* SPDX-License-Identifier: MIT */
/*
 * sim: the software NIC (see include/netmem/sim.h for what it models).
 *
 * Per queue: a header ring and a payload ring of posted buffers, each a
 * fragment of the queue's own pools (the queue's owner thread is the pools'
 * owner, so posting and recycling take the pools' lock-free fast paths). The
 * device runs inside recv: refill, generate, write, complete. Frames the
 * application injects (netmem_sim_inject()) wait in a small per-queue queue
 * and are received first, on a path of their own out of the generator's.
 *
 * Payload bytes of frame (queue, seq) are pattern[o, o + len) for an offset o
 * derived from seq, so the generator never computes a checksum byte by byte:
 * the checksum is a polynomial hash sum(b[i] * X^i) mod 2^64, and with the
 * prefix sums P[k] = sum(pattern[j] * X^j, j < k) the hash of any window is
 * (P[o + len] - P[o]) * X^-o (X is odd, so invertible mod 2^64).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../rx_internal.h"
#include "netmem/sim.h"

#define SIM_X	       UINT64_C(0x9e3779b97f4a7c15) /* odd multiplier of the checksum */
#define PATTERN_WINDOW 65536			    /* distinct payload start offsets */
#define PATTERN_LEN    (PATTERN_WINDOW + NETMEM_SIM_MAX_FRAME)
#define INDIR_SIZE     128

/* Frame layout offsets. */
#define OFF_ETH 0
#define OFF_IP	14
#define OFF_UDP 34
#define OFF_SIM 42 /* seq (8, BE), flow (4, BE), csum (4, BE) */

struct sim_slot {
	netmem_t h;
	uint32_t off;
	/* Taken at posting, so completion reads no descriptor: the CPU
	 * address of the buffer (header ring) or its byte offset in the
	 * area (payload ring). */
	uint64_t at;
};

/* A ring of posted buffers: [head, tail) are posted, oldest first. */
struct sim_ring {
	struct sim_slot *s;
	uint32_t mask;
	uint32_t head;
	uint32_t tail;
};

struct sim_flow {
	uint8_t tmpl[64]; /* the frame's header with length, id, checksums and seq 0 */
	uint32_t hash;
	uint32_t ip_sum; /* one's-complement sum of the IPv4 header's fixed words */
	uint16_t sport, dport;
	uint32_t saddr, daddr;
};

struct sim_queue {
	struct netmem_sim *sim;
	struct netmem_rxq *rxq;
	unsigned index;
	struct netmem_pool *hpool, *ppool;
	struct netmem_area *parea; /* the payload pool's area: device writes go here */
	char *pcpu;		   /* its CPU address, NULL when unreadable */
	struct sim_ring hring, pring;
	uint32_t hdr_buf; /* header buffer bytes */
	bool revoked;	  /* payload provider revoke noticed */
	bool hdr_revoked; /* header provider revoke noticed */
	/* generator */
	uint32_t *flows; /* flow ids whose RSS queue is this one */
	unsigned nr_flows;
	unsigned flow_cur;
	unsigned size_cur;
	uint64_t seq;
	uint64_t rng;
	uint64_t t0_ns;
	/* counters */
	uint64_t generated;
	uint64_t drop_no_buf, drop_revoked, drop_fault, drop_overflow, drop_truncated;
	/* frames injected by the application, received before generated ones */
	struct sim_inj {
		uint8_t *data;
		uint32_t len;
	} inj[NETMEM_SIM_INJECT_MAX];
	unsigned inj_head, inj_count;
};

/* What the device knows of an injected frame besides its bytes. */
struct frame_info {
	uint64_t seq;
	uint32_t flow, hash, csum;
	uint16_t flags;
};

struct netmem_sim {
	struct netmem_sim_params p;
	uint32_t *sizes;
	struct netmem_provider *hprov;
	bool own_hprov;
	struct sim_flow *flows;
	unsigned nr_queues;
	uint32_t pool_bufs; /* payload buffers in each queue's pool */
	struct sim_queue *q[NETMEM_SIM_MAX_QUEUES];
	uint8_t *pattern;
	uint64_t *prefix; /* PATTERN_LEN + 1 */
	uint64_t *invpow; /* PATTERN_WINDOW */
};

static const uint32_t default_size = 1500;

/* ---- checksum ---------------------------------------------------------- */

void netmem_sim_csum_init(struct netmem_sim_csum *c)
{
	if (c) {
		c->h = 0;
		c->xp = 1;
	}
}

void netmem_sim_csum_update(struct netmem_sim_csum *c, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint64_t h, xp;

	if (!c || !buf)
		return;
	h = c->h;
	xp = c->xp;
	for (size_t i = 0; i < len; i++) {
		h += b[i] * xp;
		xp *= SIM_X;
	}
	c->h = h;
	c->xp = xp;
}

static inline uint32_t fold(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

uint32_t netmem_sim_csum_final(const struct netmem_sim_csum *c)
{
	return c ? fold(c->h) : 0;
}

/* Checksum of pattern[o, o + len) in O(1). */
static inline uint32_t window_csum(const struct netmem_sim *sim, uint32_t o, uint32_t len)
{
	return fold((sim->prefix[o + len] - sim->prefix[o]) * sim->invpow[o]);
}

static int pattern_init(struct netmem_sim *sim)
{
	uint64_t s = sim->p.seed | 1, xp = 1, inv = SIM_X, ip = 1;

	sim->pattern = malloc(PATTERN_LEN);
	sim->prefix = malloc((PATTERN_LEN + 1) * sizeof(*sim->prefix));
	sim->invpow = malloc(PATTERN_WINDOW * sizeof(*sim->invpow));
	if (!sim->pattern || !sim->prefix || !sim->invpow)
		return -ENOMEM;
	/* Newton's iteration doubles the correct low bits each step. */
	for (int i = 0; i < 6; i++)
		inv *= 2 - SIM_X * inv;
	sim->prefix[0] = 0;
	for (size_t i = 0; i < PATTERN_LEN; i++) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		sim->pattern[i] = (uint8_t)((s * UINT64_C(2685821657736338717)) >> 56);
		sim->prefix[i + 1] = sim->prefix[i] + sim->pattern[i] * xp;
		xp *= SIM_X;
		if (i < PATTERN_WINDOW) {
			sim->invpow[i] = ip;
			ip *= inv;
		}
	}
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* True with probability ppm / 10^6. */
static inline bool chance(uint64_t *s, uint32_t ppm)
{
	return ppm && (rng_next(s) >> 32) % 1000000u < ppm;
}

static uint32_t mix32(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return (uint32_t)x;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint32_t ring_count(const struct sim_ring *r)
{
	return r->tail - r->head;
}

static void ring_flush(struct sim_ring *r)
{
	while (r->head != r->tail) {
		netmem_put(r->s[r->head & r->mask].h);
		r->head++;
	}
}

static void drop(struct sim_queue *q, uint64_t seq, enum netmem_sim_drop why)
{
	const struct netmem_sim_params *p = &q->sim->p;

	switch (why) {
	case NETMEM_SIM_DROP_NO_BUF:
		q->drop_no_buf++;
		break;
	case NETMEM_SIM_DROP_REVOKED:
		q->drop_revoked++;
		break;
	case NETMEM_SIM_DROP_FAULT:
		q->drop_fault++;
		break;
	case NETMEM_SIM_DROP_OVERFLOW:
		q->drop_overflow++;
		break;
	case NETMEM_SIM_DROP_TRUNCATED:
		q->drop_truncated++;
		break;
	case NETMEM_SIM_DROP_NO_TOKEN: /* the queue's, not the device's */
		break;
	}
	if (p->on_drop)
		p->on_drop(p->on_drop_arg, q->index, seq, why);
}

/* The payload provider is gone: give every posted payload buffer back. */
static void queue_revoked(struct sim_queue *q)
{
	q->revoked = true;
	ring_flush(&q->pring);
}

/* The header provider is gone: the same for the header ring, which is not
 * refilled again. Frames that need a header buffer drop as revoked. */
static void hdr_revoked(struct sim_queue *q)
{
	q->hdr_revoked = true;
	ring_flush(&q->hring);
}

/* Why a frame that found too few posted buffers is dropped. */
static inline enum netmem_sim_drop no_buf_reason(const struct sim_queue *q, uint32_t hl,
						 uint32_t nps)
{
	return (nps && q->revoked) || (hl && q->hdr_revoked) ? NETMEM_SIM_DROP_REVOKED
							     : NETMEM_SIM_DROP_NO_BUF;
}

/* ---- the device ------------------------------------------------------- */

static int sim_refill(struct netmem_rxq *rxq)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);
	uint32_t size = q->hring.mask + 1, buf = q->sim->p.buf_size;

	/* Every time: the pool empties its cache to the provider only when
	 * its owner polls it after the revoke. */
	if (netmem_pool_poll(q->ppool) == -ENODEV && !q->revoked)
		queue_revoked(q);
	if (q->hdr_buf && !q->hdr_revoked && netmem_pool_poll(q->hpool) == -ENODEV)
		hdr_revoked(q);
	while (q->hdr_buf && !q->hdr_revoked && ring_count(&q->hring) < size) {
		struct sim_slot *s = &q->hring.s[q->hring.tail & q->hring.mask];
		char *base;

		s->h = netmem_pool_alloc_frag_direct(q->hpool, q->hdr_buf, &s->off);
		if (!s->h) {
			if (errno == ENODEV)
				hdr_revoked(q);
			break;
		}
		/* NULL once revoked: the fragment fast path does not look. */
		base = netmem_address(s->h);
		if (!base) {
			netmem_put(s->h);
			hdr_revoked(q);
			break;
		}
		s->at = (uint64_t)(uintptr_t)(base + s->off);
		q->hring.tail++;
	}
	while (!q->revoked && ring_count(&q->pring) < size) {
		struct sim_slot *s = &q->pring.s[q->pring.tail & q->pring.mask];

		s->h = netmem_pool_alloc_frag_direct(q->ppool, buf, &s->off);
		if (!s->h) {
			if (errno == ENODEV)
				queue_revoked(q);
			break;
		}
		s->at = netmem_area_offset(s->h) + s->off;
		q->pring.tail++;
	}
	return q->revoked ? -ENODEV : (int)ring_count(&q->pring);
}

/*
 * The device's write of payload bytes at byte `at` of the payload area: the
 * provider's write operation, as netmem_dev_write() makes it, without that
 * call's per-call handle and bounds checks (the buffer was posted by this
 * device from its own pool, so both hold by construction). The revoke check
 * stays, per write.
 */
static inline int dev_write(const struct sim_queue *q, uint64_t at, const void *src, uint32_t len)
{
	struct netmem_area *a = q->parea;

	/* acquire: as netmem_is_revoked(); pairs with the revoke's release. */
	if (unlikely(atomic_load_explicit(&a->hdr.revoked, memory_order_acquire)))
		return -ENODEV;
	return a->prov->ops->write(a->prov, &a->spec, (size_t)at, src, len);
}

/*
 * Copy frame bytes [from, from + len) (the frame is hdr[0, NETMEM_SIM_HDR_LEN)
 * then pl[...]) to byte `off` of buffer s: a memcpy for header memory, the
 * provider's device-side write for payload memory.
 */
static int frame_copy(const struct sim_queue *q, const struct sim_slot *s, uint32_t off, bool dev,
		      const uint8_t *hdr, const uint8_t *pl, uint32_t from, uint32_t len)
{
	while (len) {
		const uint8_t *src;
		uint32_t n;
		int ret;

		if (from < NETMEM_SIM_HDR_LEN) {
			src = hdr + from;
			n = NETMEM_SIM_HDR_LEN - from;
		} else {
			src = pl + (from - NETMEM_SIM_HDR_LEN);
			n = len;
		}
		if (n > len)
			n = len;
		if (dev) {
			ret = dev_write(q, s->at + off, src, n);
			if (ret < 0)
				return ret;
		} else {
			memcpy((char *)(uintptr_t)s->at + off, src, n);
		}
		off += n;
		from += n;
		len -= n;
	}
	return 0;
}

static uint16_t ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The header bytes of flow f that do not change from frame to frame, into
 * the flow's 64-byte template (the rest of it zero). */
static void build_tmpl(struct sim_flow *f, uint32_t flow)
{
	static const uint8_t eth[14] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00};
	uint8_t *b = f->tmpl;
	uint16_t v16;
	uint32_t v32;

	memset(b, 0, sizeof(f->tmpl));
	memcpy(b + OFF_ETH, eth, sizeof(eth));
	b[OFF_IP + 0] = 0x45;
	b[OFF_IP + 6] = 0x40; /* don't fragment */
	b[OFF_IP + 8] = 64;
	b[OFF_IP + 9] = 17; /* UDP */
	v32 = htobe32(f->saddr);
	memcpy(b + OFF_IP + 12, &v32, 4);
	v32 = htobe32(f->daddr);
	memcpy(b + OFF_IP + 16, &v32, 4);
	v16 = htobe16(f->sport);
	memcpy(b + OFF_UDP, &v16, 2);
	v16 = htobe16(f->dport);
	memcpy(b + OFF_UDP + 2, &v16, 2);
	v32 = htobe32(flow);
	memcpy(b + OFF_SIM + 8, &v32, 4);
}

/* Build the 58 header bytes of a frame into b, which has room for 64 (the
 * template is copied whole; bytes 58..63 are zeros the caller may
 * overwrite): the flow's template, then the per-frame fields. */
static inline void build_hdr(uint8_t *b, const struct sim_flow *f, uint32_t size, uint64_t seq,
			     uint32_t csum)
{
	/* The fixed words are summed once per flow; add length and id. */
	uint32_t sum = f->ip_sum + (uint16_t)(size - 14) + (uint16_t)seq;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	memcpy(b, f->tmpl, sizeof(f->tmpl));
	v16 = htobe16((uint16_t)(size - 14));
	memcpy(b + OFF_IP + 2, &v16, 2);
	v16 = htobe16((uint16_t)seq);
	memcpy(b + OFF_IP + 4, &v16, 2);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	v16 = htobe16((uint16_t)~sum);
	memcpy(b + OFF_IP + 10, &v16, 2);
	v16 = htobe16((uint16_t)(size - OFF_UDP));
	memcpy(b + OFF_UDP + 4, &v16, 2);
	v64 = htobe64(seq);
	memcpy(b + OFF_SIM, &v64, 8);
	v32 = htobe32(csum);
	memcpy(b + OFF_SIM + 12, &v32, 4);
}

/* Payload start in the pattern for frame seq of queue qi. Consecutive
 * frames start one byte apart (so every alignment occurs), which keeps the
 * checksum tables' reads sequential: a new cache line every 8 frames. */
static inline uint32_t pattern_off(unsigned qi, uint64_t seq)
{
	return (uint32_t)((seq + qi * 977u) & (PATTERN_WINDOW - 1));
}

/*
 * The payload fragments of a delivered frame, NETMEM_RXD_RESOLVED: area and
 * address recorded at posting. Buffers the device wrote nothing into (a
 * truncated write) go back to the pool instead.
 */
static inline __attribute__((always_inline)) void
fill_frags(struct sim_queue *q, struct netmem_rx_pkt *pkt, const struct sim_slot *ps,
	   uint32_t nps, uint32_t buf, uint32_t ptotal, uint32_t written)
{
	pkt->nr_frags = 0;
	for (uint32_t j = 0; j < nps; j++) {
		uint32_t at = j * buf, len = ptotal - at < buf ? ptotal - at : buf;

		if (at >= written) {
			netmem_put(ps[j].h);
			continue;
		}
		if (len > written - at)
			len = written - at;
		pkt->frag[pkt->nr_frags++] =
		    (struct netmem_rx_frag){.token = ps[j].h,
					    .offset = ps[j].at,
					    .area_id = q->parea->hdr.id,
					    .len = len,
					    .addr = q->pcpu ? q->pcpu + ps[j].at : NULL};
	}
}

/* Put back the buffers of a frame that will not be delivered. */
static void put_frame(struct sim_slot *hs, const struct sim_slot *ps, unsigned nps)
{
	if (hs)
		netmem_put(hs->h);
	for (unsigned j = 0; j < nps; j++)
		netmem_put(ps[j].h);
}

/* Payload buffers a frame of len bytes takes, and the most a frame may take:
 * one packet's fragments, and no more than the ring can have posted. */
static uint32_t frame_bufs(const struct netmem_sim_params *p, uint32_t len)
{
	uint32_t hl = len < p->hdr_split ? len : p->hdr_split;

	return (len - hl + p->buf_size - 1) / p->buf_size;
}

static uint32_t max_frame_bufs(const struct netmem_sim_params *p)
{
	return p->ring_size < NETMEM_RX_MAX_FRAGS ? p->ring_size : NETMEM_RX_MAX_FRAGS;
}

/* ---- injected frames ---------------------------------------------------- */

/*
 * Parse an injected frame as the device's RSS and checksum offload would:
 * Ethernet (an 802.1Q tag allowed), IPv4, UDP or TCP. Fills the RSS hash
 * (0 when the frame is not IPv4 with a whole header) and, for a well-formed
 * sim frame (UDP to port 9000 with the sim header, lengths consistent),
 * its sequence number, flow and checksum, with NETMEM_RX_CSUM_BAD when the
 * payload does not match. Every read is bounds-checked against len.
 */
static void parse_frame(const struct netmem_sim *sim, const uint8_t *f, uint32_t len,
			struct frame_info *fi)
{
	uint32_t l3 = 14, ihl, tot, l4, saddr, daddr;
	uint16_t type, sport = 0, dport = 0, v16;
	uint32_t v32;
	uint64_t v64;

	*fi = (struct frame_info){0};
	if (len < 14)
		return;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x8100) { /* VLAN tag */
		if (len < 18)
			return;
		type = (uint16_t)(f[16] << 8 | f[17]);
		l3 = 18;
	}
	if (type != 0x0800 || len - l3 < 20 || f[l3] >> 4 != 4)
		return;
	ihl = (uint32_t)(f[l3] & 0xf) * 4;
	tot = (uint32_t)(f[l3 + 2] << 8 | f[l3 + 3]);
	if (ihl < 20 || ihl > len - l3 || tot < ihl || tot > len - l3)
		return;
	memcpy(&v32, f + l3 + 12, 4);
	saddr = be32toh(v32);
	memcpy(&v32, f + l3 + 16, 4);
	daddr = be32toh(v32);
	l4 = l3 + ihl;
	/* Ports only from an unfragmented UDP or TCP datagram: every
	 * fragment of one (the first has the ports, the others not) hashes
	 * its addresses alone and lands on the same queue, as on a NIC. */
	if ((f[l3 + 9] == 17 || f[l3 + 9] == 6) && !(f[l3 + 6] & 0x3f) && !f[l3 + 7] &&
	    tot - ihl >= 4) {
		sport = (uint16_t)(f[l4] << 8 | f[l4 + 1]);
		dport = (uint16_t)(f[l4 + 2] << 8 | f[l4 + 3]);
	}
	fi->hash =
	    mix32((uint64_t)saddr << 32 ^ daddr ^ ((uint64_t)sport << 16 | dport) ^ sim->p.seed);
	/* A sim frame: the layout netmem_sim_verify() checks. */
	if (l3 != OFF_IP || ihl != 20 || f[l3 + 9] != 17 || dport != 9000 ||
	    len < NETMEM_SIM_HDR_LEN || tot != len - 14 || ip_csum(f + OFF_IP) != 0)
		return;
	memcpy(&v16, f + OFF_UDP + 4, 2);
	if (be16toh(v16) != len - OFF_UDP)
		return;
	memcpy(&v64, f + OFF_SIM, 8);
	fi->seq = be64toh(v64);
	memcpy(&v32, f + OFF_SIM + 8, 4);
	fi->flow = be32toh(v32);
	memcpy(&v32, f + OFF_SIM + 12, 4);
	fi->csum = be32toh(v32);
	fi->flags = NETMEM_RX_HAS_SEQ | NETMEM_RX_HAS_CSUM;
	{
		struct netmem_sim_csum c;

		netmem_sim_csum_init(&c);
		netmem_sim_csum_update(&c, f + NETMEM_SIM_HDR_LEN, len - NETMEM_SIM_HDR_LEN);
		if (netmem_sim_csum_final(&c) != fi->csum)
			fi->flags |= NETMEM_RX_CSUM_BAD;
	}
}

static uint32_t flow_queue(const struct netmem_sim *sim, uint32_t hash)
{
	return (hash % INDIR_SIZE) % sim->nr_queues;
}

static void inj_pop(struct sim_queue *q)
{
	free(q->inj[q->inj_head].data);
	q->inj[q->inj_head].data = NULL;
	q->inj_head = (q->inj_head + 1) % NETMEM_SIM_INJECT_MAX;
	q->inj_count--;
}

int netmem_sim_rss_queue(const struct netmem_sim *sim, const void *frame, size_t len)
{
	struct frame_info fi;

	if (!sim || !frame || len < 1 || len > NETMEM_SIM_MAX_FRAME)
		return _netmem_err(EINVAL, "sim rss: NULL device or frame, or length out of range");
	parse_frame(sim, frame, (uint32_t)len, &fi);
	return (int)flow_queue(sim, fi.hash);
}

int netmem_sim_inject(struct netmem_sim *sim, unsigned queue, const void *frame, size_t len)
{
	const struct netmem_sim_params *p;
	struct frame_info fi;
	struct sim_queue *q;
	struct sim_inj *in;

	if (!sim || (!frame && len))
		return _netmem_err(EINVAL, "sim inject: NULL device or frame");
	p = &sim->p;
	if (len < 1 || len > NETMEM_SIM_MAX_FRAME)
		return _netmem_err(EINVAL, "sim inject: frame of %zu bytes, want 1..%d", len,
				   NETMEM_SIM_MAX_FRAME);
	if (frame_bufs(p, (uint32_t)len) > max_frame_bufs(p) ||
	    frame_bufs(p, (uint32_t)len) > sim->pool_bufs)
		return _netmem_err(EINVAL,
				   "sim inject: %zu bytes need %u buffers of %u, more than %u (packet "
				   "fragments, ring size or payload pool)",
				   len, frame_bufs(p, (uint32_t)len), p->buf_size,
				   max_frame_bufs(p) < sim->pool_bufs ? max_frame_bufs(p)
								      : sim->pool_bufs);
	if (queue == NETMEM_SIM_INJECT_RSS) {
		parse_frame(sim, frame, (uint32_t)len, &fi);
		queue = flow_queue(sim, fi.hash);
	}
	if (queue >= sim->nr_queues || !sim->q[queue])
		return _netmem_err(EINVAL, "sim inject: no queue %u", queue);
	q = sim->q[queue];
	/* The waiting frames are the owner's, read by its recv unlocked. */
	if (!_netmem_rxq_is_owner(q->rxq))
		return _netmem_err(EINVAL, "sim inject: the calling thread does not own queue %u",
				   queue);
	if (q->inj_count == NETMEM_SIM_INJECT_MAX)
		return _netmem_err(ENOSPC, "sim inject: queue %u holds %d frames already", queue,
				   NETMEM_SIM_INJECT_MAX);
	in = &q->inj[(q->inj_head + q->inj_count) % NETMEM_SIM_INJECT_MAX];
	in->data = malloc(len);
	if (!in->data)
		return _netmem_err(ENOMEM, "sim inject: out of memory");
	memcpy(in->data, frame, len);
	in->len = (uint32_t)len;
	q->inj_count++;
	return (int)queue;
}

/*
 * The device receives injected frame f[0, size) into *pkt: split, written
 * and faulted as generated frames are (frame_copy() reads bytes below
 * NETMEM_SIM_HDR_LEN from its hdr argument and the rest from pl, so one
 * contiguous frame is both). Returns 1 when delivered, its header buffer (if
 * any) added to held[*nh]; 0 when dropped (counted).
 */
static int inject_frame(struct sim_queue *q, struct netmem_rxq *rxq, struct netmem_rx_pkt *pkt,
			const uint8_t *f, uint32_t size, const struct frame_info *fi,
			netmem_t *held, unsigned *nh)
{
	const struct netmem_sim_params *p = &q->sim->p;
	uint32_t split = p->hdr_split, buf = p->buf_size;
	uint32_t hl = size < split ? size : split;
	uint32_t ptotal = size - hl, nps = (ptotal + buf - 1) / buf, written = ptotal;
	const uint8_t *pl = size > NETMEM_SIM_HDR_LEN ? f + NETMEM_SIM_HDR_LEN : f;
	struct sim_slot *hs = NULL, ps[NETMEM_RX_MAX_FRAGS];
	bool trunc = false;
	int ret = 0;

	q->generated++;
	if (chance(&q->rng, p->drop_ppm)) {
		drop(q, fi->seq, NETMEM_SIM_DROP_FAULT);
		return 0;
	}
	if (nps && q->revoked) {
		drop(q, fi->seq, NETMEM_SIM_DROP_REVOKED);
		return 0;
	}
	if ((hl && ring_count(&q->hring) == 0) || ring_count(&q->pring) < nps) {
		/* The driver refills mid-poll once before giving up. */
		sim_refill(rxq);
		if ((hl && ring_count(&q->hring) == 0) || ring_count(&q->pring) < nps) {
			drop(q, fi->seq, no_buf_reason(q, hl, nps));
			return 0;
		}
	}
	if (hl) {
		hs = &q->hring.s[q->hring.head++ & q->hring.mask];
		frame_copy(q, hs, 0, false, f, pl, 0, hl);
	}
	if (nps && chance(&q->rng, p->trunc_ppm)) {
		trunc = true;
		written = (uint32_t)(rng_next(&q->rng) % ptotal);
	}
	for (uint32_t j = 0; j < nps; j++) {
		uint32_t at = j * buf, len = ptotal - at < buf ? ptotal - at : buf;

		ps[j] = q->pring.s[q->pring.head++ & q->pring.mask];
		if (at >= written)
			continue;
		if (len > written - at)
			len = written - at;
		if (ret == 0)
			ret = frame_copy(q, &ps[j], 0, true, f, pl, hl + at, len);
	}
	if (ret < 0) {
		/* The provider went away under the write, or the write failed. */
		put_frame(hs, ps, nps);
		drop(q, fi->seq, ret == -ENODEV ? NETMEM_SIM_DROP_REVOKED : NETMEM_SIM_DROP_FAULT);
		if (ret == -ENODEV && !q->revoked) {
			queue_revoked(q);
			netmem_pool_poll(q->ppool);
		}
		return 0;
	}
	if (chance(&q->rng, p->overflow_ppm)) {
		put_frame(hs, ps, nps);
		drop(q, fi->seq, NETMEM_SIM_DROP_OVERFLOW);
		return 0;
	}
	if (trunc && !(p->flags & NETMEM_SIM_DELIVER_ERRORS)) {
		put_frame(hs, ps, nps);
		drop(q, fi->seq, NETMEM_SIM_DROP_TRUNCATED);
		return 0;
	}
	pkt->hdr = hs ? (const char *)(uintptr_t)hs->at : NULL;
	pkt->hdr_len = hl;
	pkt->len = size;
	pkt->seq = fi->seq;
	pkt->flow = fi->flow;
	pkt->hash = fi->hash;
	pkt->csum = fi->csum;
	pkt->flags = fi->flags | (trunc ? NETMEM_RX_TRUNCATED : 0);
	fill_frags(q, pkt, ps, nps, buf, ptotal, written);
	if (hs)
		held[(*nh)++] = hs->h;
	return 1;
}

static int sim_recv(struct netmem_rxq *rxq, struct netmem_rx_pkt *pkts, unsigned max);

/*
 * sim_recv() with injected frames waiting or the generator off: the oldest
 * injected frames first (up to max), then, unless NETMEM_SIM_INJECT_ONLY,
 * generated ones in the room left. Returns how many were delivered. Out of
 * line, so the generator's loop in sim_recv() compiles as it would without
 * injection.
 */
static __attribute__((noinline, cold)) int recv_injected(struct netmem_rxq *rxq,
							 struct netmem_rx_pkt *pkts, unsigned max)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);
	netmem_t held[NETMEM_SIM_INJECT_MAX];
	unsigned k = q->inj_count < max ? q->inj_count : max, out = 0, nh = 0;
	int ret;

	if (k) {
		sim_refill(rxq);
		for (unsigned i = 0; i < k; i++) {
			const struct sim_inj *in = &q->inj[q->inj_head];
			struct frame_info fi;

			parse_frame(q->sim, in->data, in->len, &fi);
			out += inject_frame(q, rxq, &pkts[out], in->data, in->len, &fi, held, &nh);
			inj_pop(q);
		}
		_netmem_rxq_hold_hdrs(rxq, held, nh);
	}
	if ((q->sim->p.flags & NETMEM_SIM_INJECT_ONLY) || k == max)
		return (int)out;
	/* inj_count is 0 now: this runs the generator only. */
	ret = sim_recv(rxq, pkts + out, max - k);
	return ret < 0 ? ret : (int)out + ret;
}

static int sim_recv(struct netmem_rxq *rxq, struct netmem_rx_pkt *pkts, unsigned max)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);
	struct netmem_sim *sim = q->sim;
	const struct netmem_sim_params *p = &sim->p;
	uint32_t split = p->hdr_split, buf = p->buf_size;
	/* In locals: the stores into pkts could alias p for the compiler. */
	const uint32_t drop_ppm = p->drop_ppm, trunc_ppm = p->trunc_ppm;
	const uint32_t overflow_ppm = p->overflow_ppm;
	const bool deliver_errors = p->flags & NETMEM_SIM_DELIVER_ERRORS;
	unsigned n = max, out = 0, nh = 0;
	netmem_t held[NETMEM_RX_MAX_BATCH];
	uint8_t hdr[64];

	/* One test for injection on the generator's path. */
	if (unlikely(q->inj_count || (p->flags & NETMEM_SIM_INJECT_ONLY)))
		return recv_injected(rxq, pkts, max);
	if (!q->nr_flows)
		return 0;
	/* Generated frames are counted by seq: generated counts injected ones too. */
	if (p->max_frames && n > p->max_frames - q->seq)
		n = (unsigned)(p->max_frames - q->seq);
	if (p->rate_pps && n) {
		uint64_t t = now_ns(), allowed;

		if (!q->t0_ns)
			q->t0_ns = t;
		allowed = (uint64_t)((double)(t - q->t0_ns) * (double)p->rate_pps / 1e9) + 1;
		allowed = allowed > q->seq ? allowed - q->seq : 0;
		if (n > allowed)
			n = (unsigned)allowed;
	}
	if (!n)
		return 0;
	sim_refill(rxq);

	for (unsigned i = 0; i < n; i++) {
		uint32_t size = sim->sizes[q->size_cur];
		uint32_t fid = q->flows[q->flow_cur];
		const struct sim_flow *f = &sim->flows[fid];
		uint64_t seq = q->seq++;
		uint32_t hl = size < split ? size : split;
		uint32_t ptotal = size - hl, written = ptotal;
		/* No division for the common one-buffer frame. */
		uint32_t nps = ptotal <= buf ? ptotal != 0 : (ptotal + buf - 1) / buf;
		uint32_t po = pattern_off(q->index, seq);
		const uint8_t *pl = sim->pattern + po;
		uint32_t csum = window_csum(sim, po, size - NETMEM_SIM_HDR_LEN);
		struct sim_slot *hs = NULL, ps[NETMEM_RX_MAX_FRAGS];
		struct netmem_rx_pkt *pkt;
		bool trunc = false;
		int ret = 0;

		if (++q->size_cur == p->nr_sizes)
			q->size_cur = 0;
		if (++q->flow_cur == q->nr_flows)
			q->flow_cur = 0;
		q->generated++;

		if (unlikely(chance(&q->rng, drop_ppm))) {
			drop(q, seq, NETMEM_SIM_DROP_FAULT);
			continue;
		}
		if (unlikely(nps && q->revoked)) {
			drop(q, seq, NETMEM_SIM_DROP_REVOKED);
			continue;
		}
		if (unlikely((hl && ring_count(&q->hring) == 0) || ring_count(&q->pring) < nps)) {
			/* The driver refills mid-poll once before giving up. */
			sim_refill(rxq);
			if ((hl && ring_count(&q->hring) == 0) || ring_count(&q->pring) < nps) {
				drop(q, seq, no_buf_reason(q, hl, nps));
				continue;
			}
		}
		if (hl >= NETMEM_SIM_HDR_LEN) {
			/* Straight into the header buffer: it has room for 64
			 * bytes (hdr_buf is the split rounded up to 64). */
			uint8_t *hb;

			hs = &q->hring.s[q->hring.head++ & q->hring.mask];
			hb = (uint8_t *)(uintptr_t)hs->at;
			build_hdr(hb, f, size, seq, csum);
			if (hl > NETMEM_SIM_HDR_LEN)
				memcpy(hb + NETMEM_SIM_HDR_LEN, pl, hl - NETMEM_SIM_HDR_LEN);
		} else {
			/* Split inside the headers: the rest goes to payload. */
			build_hdr(hdr, f, size, seq, csum);
			if (hl) {
				hs = &q->hring.s[q->hring.head++ & q->hring.mask];
				frame_copy(q, hs, 0, false, hdr, pl, 0, hl);
			}
		}
		if (unlikely(nps && chance(&q->rng, trunc_ppm))) {
			trunc = true;
			written = (uint32_t)(rng_next(&q->rng) % ptotal);
		}
		for (uint32_t j = 0; j < nps; j++) {
			uint32_t at = j * buf, len = ptotal - at < buf ? ptotal - at : buf;

			ps[j] = q->pring.s[q->pring.head++ & q->pring.mask];
			/* The chunk's descriptor, cold since posting, is read
			 * when the application gives the token back: start
			 * fetching it now, behind the write. */
			__builtin_prefetch(_netmem_desc(ps[j].h));
			if (at >= written)
				continue;
			if (len > written - at)
				len = written - at;
			if (ret)
				continue;
			if (hl >= NETMEM_SIM_HDR_LEN)
				ret = dev_write(q, ps[j].at, pl + (hl - NETMEM_SIM_HDR_LEN) + at, len);
			else
				ret = frame_copy(q, &ps[j], 0, true, hdr, pl, hl + at, len);
		}
		if (unlikely(ret < 0)) {
			/* The provider went away under the write, or the
			 * write failed. */
			put_frame(hs, ps, nps);
			drop(q, seq,
			     ret == -ENODEV ? NETMEM_SIM_DROP_REVOKED : NETMEM_SIM_DROP_FAULT);
			if (ret == -ENODEV && !q->revoked) {
				queue_revoked(q);
				netmem_pool_poll(q->ppool);
			}
			continue;
		}
		if (unlikely(chance(&q->rng, overflow_ppm))) {
			put_frame(hs, ps, nps);
			drop(q, seq, NETMEM_SIM_DROP_OVERFLOW);
			continue;
		}
		if (unlikely(trunc && !deliver_errors)) {
			put_frame(hs, ps, nps);
			drop(q, seq, NETMEM_SIM_DROP_TRUNCATED);
			continue;
		}
		pkt = &pkts[out++];
		pkt->hdr = hs ? (const char *)(uintptr_t)hs->at : NULL;
		pkt->hdr_len = hl;
		pkt->len = size;
		pkt->seq = seq;
		pkt->flow = fid;
		pkt->hash = f->hash;
		pkt->csum = csum;
		pkt->flags =
		    NETMEM_RX_HAS_SEQ | NETMEM_RX_HAS_CSUM | (trunc ? NETMEM_RX_TRUNCATED : 0);
		fill_frags(q, pkt, ps, nps, buf, ptotal, written);
		if (hs)
			held[nh++] = hs->h;
	}
	_netmem_rxq_hold_hdrs(rxq, held, nh);
	return (int)out;
}

static void sim_stats(struct netmem_rxq *rxq, struct netmem_rxq_stats *st)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);

	st->generated = q->generated;
	st->posted = ring_count(&q->pring);
	st->drop_no_buf = q->drop_no_buf;
	st->drop_revoked = q->drop_revoked;
	st->drop_fault = q->drop_fault;
	st->drop_overflow = q->drop_overflow;
	st->drop_truncated = q->drop_truncated;
	st->revoked = q->revoked || netmem_provider_is_revoked(netmem_pool_provider(q->ppool)) == 1;
	st->queue = q->index;
}

static int sim_set_owner(struct netmem_rxq *rxq)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);
	int ret = netmem_pool_set_owner(q->hpool);

	return ret < 0 ? ret : netmem_pool_set_owner(q->ppool);
}

static void queue_free(struct sim_queue *q)
{
	free(q->hring.s);
	free(q->pring.s);
	free(q->flows);
	free(q);
}

static void sim_destroy(struct netmem_rxq *rxq)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);

	ring_flush(&q->hring);
	ring_flush(&q->pring);
	while (q->inj_count)
		inj_pop(q);
	netmem_pool_destroy(q->hpool);
	netmem_pool_destroy(q->ppool);
	q->sim->q[q->index] = NULL;
	queue_free(q);
}

/* The generic layer dropped a completed packet (no free token): counted
 * there; the drop callback hears of it like of the device's own drops. */
static void sim_dropped(struct netmem_rxq *rxq, const struct netmem_rx_pkt *pkt)
{
	struct sim_queue *q = _netmem_rxq_priv(rxq);
	const struct netmem_sim_params *p = &q->sim->p;

	if (p->on_drop)
		p->on_drop(p->on_drop_arg, q->index, pkt->seq, NETMEM_SIM_DROP_NO_TOKEN);
}

static const struct netmem_rx_driver_ops sim_ops = {
    .size = sizeof(struct netmem_rx_driver_ops),
    .name = "sim",
    .recv = sim_recv,
    .refill = sim_refill,
    .stats = sim_stats,
    .set_owner = sim_set_owner,
    .destroy = sim_destroy,
    .dropped = sim_dropped,
    .flags = NETMEM_RXD_RESOLVED,
};

/* ---- create / destroy ----------------------------------------------------- */

void netmem_sim_params_init(struct netmem_sim_params *p, struct netmem_provider *payload)
{
	if (!p)
		return;
	*p = (struct netmem_sim_params){
	    .size = sizeof(*p),
	    .payload = payload,
	    .nr_queues = 1,
	    .ring_size = 256,
	    .hdr_split = NETMEM_SIM_HDR_LEN,
	    .buf_size = 2048,
	    .payload_chunks = 1024,
	    .payload_order = NETMEM_ORDER_DEFAULT,
	    .nr_flows = 64,
	    .seed = 1,
	};
}

static int is_pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

/* Payload buffers of buf_size in a queue's pool of chunk-byte chunks. */
static uint64_t pool_bufs(const struct netmem_sim_params *p, uint32_t chunk)
{
	return (uint64_t)p->payload_chunks * (chunk / p->buf_size);
}

/*
 * The payload pool's buffers (one token each): at most 2^24, and enough for
 * the largest generated frame, which otherwise would always drop as if
 * under back-pressure.
 */
static int check_pool_bufs(const struct netmem_sim_params *p)
{
	int order = p->payload_order == NETMEM_ORDER_DEFAULT
			? netmem_provider_default_order(p->payload)
			: p->payload_order;
	uint32_t chunk = 4096u << order;
	uint64_t bufs;

	if (p->buf_size > chunk) /* the pool says so, with its message */
		return 0;
	bufs = pool_bufs(p, chunk);
	if (bufs > _NETMEM_RX_MAX_TOKENS)
		return _netmem_err(EINVAL,
				   "sim: %u payload chunks of %u bytes hold %" PRIu64
				   " buffers of %u, more than 2^24 (one token each)",
				   p->payload_chunks, chunk, bufs, p->buf_size);
	for (unsigned i = 0; i < p->nr_sizes && !(p->flags & NETMEM_SIM_INJECT_ONLY); i++)
		if (frame_bufs(p, p->sizes[i]) > bufs)
			return _netmem_err(EINVAL,
					   "sim: frame size %u needs %u buffers of %u bytes, the payload "
					   "pool holds %" PRIu64 " (payload_chunks)",
					   p->sizes[i], frame_bufs(p, p->sizes[i]), p->buf_size, bufs);
	return 0;
}

static int check_params(const struct netmem_sim_params *p)
{
	if (!p->payload)
		return _netmem_err(EINVAL, "sim: no payload provider");
	if (p->nr_queues < 1 || p->nr_queues > NETMEM_SIM_MAX_QUEUES)
		return _netmem_err(EINVAL, "sim: %u queues, want 1..%d", p->nr_queues,
				   NETMEM_SIM_MAX_QUEUES);
	if (!is_pow2(p->ring_size) || p->ring_size > 4096)
		return _netmem_err(EINVAL, "sim: ring_size %u is not a power of 2 up to 4096",
				   p->ring_size);
	if (p->hdr_split > NETMEM_SIM_MAX_SPLIT)
		return _netmem_err(EINVAL, "sim: hdr_split %u above %d", p->hdr_split,
				   NETMEM_SIM_MAX_SPLIT);
	if (p->buf_size < 64 || p->buf_size % 64 || p->buf_size > (4096u << NETMEM_MAX_ORDER))
		return _netmem_err(EINVAL, "sim: buf_size %u is not a multiple of 64 in 64..2M",
				   p->buf_size);
	if (p->payload_chunks == 0 || p->payload_chunks > (1u << 24))
		return _netmem_err(EINVAL, "sim: payload_chunks %u not in 1..2^24",
				   p->payload_chunks);
	if (p->payload_order < NETMEM_ORDER_DEFAULT || p->payload_order > NETMEM_MAX_ORDER)
		return _netmem_err(EINVAL, "sim: payload_order %d", p->payload_order);
	if (p->nr_flows < 1 || p->nr_flows > 65536)
		return _netmem_err(EINVAL, "sim: nr_flows %u, want 1..65536", p->nr_flows);
	if (p->nr_sizes && !p->sizes)
		return _netmem_err(EINVAL, "sim: nr_sizes without sizes");
	for (unsigned i = 0; i < p->nr_sizes; i++) {
		uint32_t s = p->sizes[i];

		if (s < NETMEM_SIM_MIN_FRAME || s > NETMEM_SIM_MAX_FRAME)
			return _netmem_err(EINVAL, "sim: frame size %u not in %d..%d", s,
					   NETMEM_SIM_MIN_FRAME, NETMEM_SIM_MAX_FRAME);
		/* More than the ring: the frame could never find its buffers
		 * posted and every one would drop as if under back-pressure.
		 * No generator, no generated sizes: injected frames are
		 * checked at netmem_sim_inject(). */
		if (!(p->flags & NETMEM_SIM_INJECT_ONLY) && frame_bufs(p, s) > max_frame_bufs(p))
			return _netmem_err(EINVAL,
					   "sim: frame size %u needs %u buffers of %u bytes, more than "
					   "%u (packet fragments or ring size)",
					   s, frame_bufs(p, s), p->buf_size, max_frame_bufs(p));
	}
	if (p->drop_ppm > 1000000 || p->trunc_ppm > 1000000 || p->overflow_ppm > 1000000)
		return _netmem_err(EINVAL, "sim: fault rates are parts per million, at most 10^6");
	return check_pool_bufs(p);
}

static struct sim_queue *queue_create(struct netmem_sim *sim, unsigned qi)
{
	const struct netmem_sim_params *p = &sim->p;
	struct netmem_pool_params pp;
	struct sim_queue *q;
	uint32_t chunk;
	int err = ENOMEM;

	q = calloc(1, sizeof(*q));
	if (!q)
		goto nomem;
	q->sim = sim;
	q->index = qi;
	q->rng = mix32(p->seed + qi) | (uint64_t)mix32(p->seed ^ (qi + 77)) << 32 | 1;
	q->hring.s = calloc(p->ring_size, sizeof(*q->hring.s));
	q->pring.s = calloc(p->ring_size, sizeof(*q->pring.s));
	q->flows = malloc(p->nr_flows * sizeof(*q->flows));
	if (!q->hring.s || !q->pring.s || !q->flows)
		goto nomem;
	q->hring.mask = q->pring.mask = p->ring_size - 1;
	for (unsigned f = 0; f < p->nr_flows; f++)
		if ((sim->flows[f].hash % INDIR_SIZE) % sim->nr_queues == qi)
			q->flows[q->nr_flows++] = f;

	q->hdr_buf = (p->hdr_split + 63) & ~63u;
	netmem_pool_params_init(&pp, sim->hprov);
	pp.order = 0;
	/* Posted, held until the next recv, and the owner cache's slack. */
	pp.nr_chunks =
	    2 * ((p->ring_size + NETMEM_RX_MAX_BATCH) * (q->hdr_buf ? q->hdr_buf : 64) / 4096 + 1) +
	    NETMEM_CACHE_SIZE;
	q->hpool = netmem_pool_create(&pp);
	if (!q->hpool) {
		err = errno;
		goto fail;
	}
	netmem_pool_params_init(&pp, p->payload);
	pp.order = p->payload_order;
	pp.nr_chunks = p->payload_chunks;
	q->ppool = netmem_pool_create(&pp);
	if (!q->ppool) {
		err = errno;
		goto fail;
	}
	q->parea = q->ppool->area;
	q->pcpu = q->parea->spec.cpu_base;
	chunk = netmem_pool_chunk_size(q->ppool);
	if (p->buf_size > chunk) {
		err = -_netmem_err(EINVAL, "sim: buf_size %u above the payload chunk size %u",
				   p->buf_size, chunk);
		goto fail;
	}
	if (q->hdr_buf) {
		uint32_t off;
		netmem_t h = netmem_pool_alloc_frag_direct(q->hpool, q->hdr_buf, &off);
		bool readable = h && netmem_is_readable(h);

		netmem_put(h);
		if (!readable) {
			err =
			    -_netmem_err(EINVAL, "sim: header memory must be readable by the CPU");
			goto fail;
		}
	}
	/* One token per payload buffer the pool holds (at most 2^24:
	 * check_params). */
	sim->pool_bufs = (uint32_t)pool_bufs(p, chunk);
	q->rxq = _netmem_rxq_create(&sim_ops, q, sim->pool_bufs);
	if (!q->rxq) {
		err = errno;
		goto fail;
	}
	return q;
nomem:
	/* Only the sim's own allocations: a pool's failure keeps the
	 * provider's message (e.g. how to reserve huge pages). */
	_netmem_err(ENOMEM, "sim: out of memory");
fail:
	if (q) {
		if (q->hpool)
			netmem_pool_destroy(q->hpool);
		if (q->ppool)
			netmem_pool_destroy(q->ppool);
		queue_free(q);
	}
	errno = err;
	return NULL;
}

static void sim_free(struct netmem_sim *sim)
{
	if (sim->own_hprov)
		netmem_provider_destroy(sim->hprov);
	free(sim->sizes);
	free(sim->flows);
	free(sim->pattern);
	free(sim->prefix);
	free(sim->invpow);
	free(sim);
}

struct netmem_sim *netmem_sim_create(const struct netmem_sim_params *params)
{
	struct netmem_sim_params p;
	struct netmem_sim *sim;
	int ret;

	/* A size ending before on_drop (no callback) is taken too; none in
	 * between, which would copy half a pointer. */
	if (!params || (params->size != offsetof(struct netmem_sim_params, on_drop) &&
			params->size != sizeof(p))) {
		errno = -_netmem_err(EINVAL, "sim: NULL params or bad size field");
		return NULL;
	}
	netmem_sim_params_init(&p, NULL);
	memcpy(&p, params, params->size);
	p.size = sizeof(p);
	/* The default size before the checks: it must fit the buffers too. */
	if (!p.nr_sizes) {
		p.sizes = &default_size;
		p.nr_sizes = 1;
	}
	ret = check_params(&p);
	if (ret < 0) {
		errno = -ret;
		return NULL;
	}
	if (netmem_provider_is_revoked(p.payload) == 1) {
		errno = -_netmem_err(ENODEV, "sim: payload provider is revoked");
		return NULL;
	}
	sim = calloc(1, sizeof(*sim));
	if (!sim) {
		errno = -_netmem_err(ENOMEM, "sim: out of memory");
		return NULL;
	}
	sim->p = p;
	sim->nr_queues = p.nr_queues;
	sim->sizes = malloc(p.nr_sizes * sizeof(*sim->sizes));
	sim->flows = malloc(p.nr_flows * sizeof(*sim->flows));
	/* The payload pattern is the generator's; injected frames bring theirs. */
	if (!sim->sizes || !sim->flows ||
	    (!(p.flags & NETMEM_SIM_INJECT_ONLY) && pattern_init(sim) < 0)) {
		sim_free(sim);
		errno = -_netmem_err(ENOMEM, "sim: out of memory");
		return NULL;
	}
	memcpy(sim->sizes, p.sizes, p.nr_sizes * sizeof(*sim->sizes));
	sim->p.sizes = sim->sizes;
	for (unsigned f = 0; f < p.nr_flows; f++) {
		struct sim_flow *fl = &sim->flows[f];

		/* 198.18.0.0/15, the benchmarking range. */
		fl->saddr = 0xc6120000u | (f + 2);
		fl->daddr = 0xc6130001u;
		fl->sport = (uint16_t)(1024 + f);
		fl->dport = 9000;
		fl->ip_sum = 0x4500 + 0x4000 + (64 << 8 | 17) + (fl->saddr >> 16) +
			     (fl->saddr & 0xffff) + (fl->daddr >> 16) + (fl->daddr & 0xffff);
		fl->hash = mix32((uint64_t)fl->saddr << 32 ^ fl->daddr ^
				 ((uint64_t)fl->sport << 16 | fl->dport) ^ p.seed);
		build_tmpl(fl, f);
	}
	sim->hprov = p.header;
	if (!sim->hprov) {
		sim->hprov = netmem_provider_create("host");
		if (!sim->hprov) {
			ret = errno;
			sim_free(sim);
			errno = ret;
			return NULL;
		}
		sim->own_hprov = true;
	}
	for (unsigned i = 0; i < sim->nr_queues; i++) {
		sim->q[i] = queue_create(sim, i);
		if (!sim->q[i]) {
			ret = errno;
			netmem_sim_destroy(sim);
			errno = ret;
			return NULL;
		}
	}
	return sim;
}

struct netmem_rxq *netmem_sim_rxq(struct netmem_sim *sim, unsigned i)
{
	if (!sim || i >= sim->nr_queues || !sim->q[i])
		return NULL;
	return sim->q[i]->rxq;
}

unsigned netmem_sim_nr_queues(const struct netmem_sim *sim)
{
	return sim ? sim->nr_queues : 0;
}

int netmem_sim_destroy(struct netmem_sim *sim)
{
	int held = 0;

	if (!sim)
		return -EINVAL;
	/* All or nothing: a queue another thread owns cannot be destroyed,
	 * and the device must outlive its queues. */
	for (unsigned i = 0; i < sim->nr_queues; i++)
		if (sim->q[i] && !_netmem_rxq_is_owner(sim->q[i]->rxq))
			return _netmem_err(EINVAL, "sim destroy: queue %u is owned by another thread",
					   i);
	for (unsigned i = 0; i < sim->nr_queues; i++) {
		int ret;

		if (!sim->q[i])
			continue;
		ret = netmem_rxq_destroy(sim->q[i]->rxq);
		if (ret > 0)
			held += ret;
	}
	sim_free(sim);
	return held;
}

/* ---- verification --------------------------------------------------------- */

int netmem_sim_verify(struct netmem_rxq *q, const struct netmem_rx_pkt *pkt)
{
	uint8_t frame[NETMEM_SIM_MAX_FRAME];
	struct netmem_sim_csum c;
	uint32_t at, v32;
	uint64_t v64;
	uint16_t v16;

	if (!q || !pkt || pkt->nr_frags > NETMEM_RX_MAX_FRAGS)
		return -EINVAL;
	if (pkt->flags & (NETMEM_RX_TRUNCATED | NETMEM_RX_CSUM_BAD))
		return -EBADMSG;
	if (pkt->len < NETMEM_SIM_HDR_LEN || pkt->len > sizeof(frame) || pkt->hdr_len > pkt->len ||
	    (pkt->hdr_len && !pkt->hdr))
		return -EBADMSG;
	if (pkt->hdr_len) /* hdr is NULL without a header split */
		memcpy(frame, pkt->hdr, pkt->hdr_len);
	at = pkt->hdr_len;
	for (unsigned i = 0; i < pkt->nr_frags; i++) {
		const struct netmem_rx_frag *f = &pkt->frag[i];
		int ret;

		if (f->len > pkt->len - at)
			return -EBADMSG;
		ret = netmem_rxq_frag_read(q, f, 0, frame + at, f->len);
		if (ret < 0)
			return ret;
		at += f->len;
	}
	if (at != pkt->len)
		return -EBADMSG;
	memcpy(&v16, frame + OFF_ETH + 12, 2);
	if (be16toh(v16) != 0x0800 || frame[OFF_IP] != 0x45 || frame[OFF_IP + 9] != 17)
		return -EBADMSG;
	memcpy(&v16, frame + OFF_IP + 2, 2);
	if (be16toh(v16) != pkt->len - 14 || ip_csum(frame + OFF_IP) != 0)
		return -EBADMSG;
	memcpy(&v64, frame + OFF_SIM, 8);
	if ((pkt->flags & NETMEM_RX_HAS_SEQ) && be64toh(v64) != pkt->seq)
		return -EBADMSG;
	memcpy(&v32, frame + OFF_SIM + 12, 4);
	if ((pkt->flags & NETMEM_RX_HAS_CSUM) && be32toh(v32) != pkt->csum)
		return -EBADMSG;
	netmem_sim_csum_init(&c);
	netmem_sim_csum_update(&c, frame + NETMEM_SIM_HDR_LEN, pkt->len - NETMEM_SIM_HDR_LEN);
	return netmem_sim_csum_final(&c) == be32toh(v32) ? 0 : -EBADMSG;
}
