/* SPDX-License-Identifier: MIT */
/*
 * The generic receive queue: token table, header-buffer lifetimes, counters
 * and the threading contract of include/netmem/rx.h. Drivers plug in through
 * src/rx_internal.h.
 *
 * Token table. Slot i holds one payload reference (h) and its live token
 * (tag), 0 when free. A token is qtag << 52 | generation << slot_bits | i:
 * qtag is a 12-bit number no other live queue has (while fewer than 4096
 * exist), never 0, so 0 is never a token and a token of another queue never
 * matches a slot of this one, whatever the sizes of their tables; the
 * generation keeps its 52 - slot_bits low bits. The owner takes free slots
 * from a private stack; a release claims a slot by a compare-and-swap of
 * tag from the token to 0 (so a double or stale release fails there and
 * touches nothing), then puts the reference and returns the slot index:
 * onto the owner's stack when the owner itself releases, otherwise into a bounded multi-producer ring the
 * owner drains. Each index is in exactly one place (stack, ring, or live), so
 * the ring, as large as the table, can never overflow. The owner drains the
 * ring in order, so a releaser that reserved an entry and has not filled it
 * yet hides the entries after it until it does (drain_ring_wait()).
 *
 * Lifetime. q->refs is 1 for the creator plus one per token held. A release
 * drops its batch's count after its last access to the queue; whoever drops
 * it to zero frees the queue, so tokens may outlive netmem_rxq_destroy().
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "rx_internal.h"

#define RX_RELEASE_BATCH 64

struct rx_slot {
	_Atomic uint64_t tag; /* live token, 0 when free */
	_Atomic netmem_t h;   /* payload reference; tag's release/acquire orders it */
};

struct netmem_rxq {
	/* Owner-only state. */
	const struct netmem_rx_driver_ops *ops;
	void *priv;
	const void *_Atomic owner; /* read by releasers to pick the local path */
	struct rx_slot *slot;
	uint64_t *gen;	    /* generation of the last token per slot */
	uint64_t tag_bits;  /* qtag << RX_QTAG_SHIFT */
	uint32_t slot_mask; /* nr_tokens - 1 */
	unsigned slot_bits; /* log2(nr_tokens) */
	uint16_t qtag;
	uint32_t *free_idx; /* owner's stack of free slots */
	uint32_t nr_free;
	uint32_t nr_tokens; /* power of 2 */
	uint64_t ring_cons; /* owner's ring index */
	netmem_t hdr_hold[NETMEM_RX_MAX_BATCH];
	unsigned nr_hdr_hold;
	bool destroyed;
	uint64_t packets;
	uint64_t bytes;
	uint64_t hdr_only;
	uint64_t truncated;
	uint64_t issued;
	uint64_t drop_no_token;

	/* Written by any thread. */
	_Atomic long refs __cacheline_aligned; /* 1 + tokens held */
	_Atomic uint64_t bad_release;
	_Atomic uint64_t released; /* tokens given back, counted apart from
				    * refs so that the two can be checked */
	_Atomic uint64_t ring_prod __cacheline_aligned; /* releasers reserve here */
	_Atomic uint32_t *ring;				/* slot index + 1, 0 when empty */
};

_Static_assert(offsetof(struct netmem_rxq, refs) % NETMEM_CACHELINE == 0,
	       "shared counters on their own line");
_Static_assert(offsetof(struct netmem_rxq, ring_prod) - offsetof(struct netmem_rxq, refs) >=
		   NETMEM_CACHELINE,
	       "ring producer index on its own line");

static _Atomic uint32_t next_queue_seed = 1;

/* Queue tags: how many live queues use each (1..4095; 0 is never one).
 * A new queue takes an unused tag, the next after the last one given, so
 * that a tag comes back as late as possible; past 4095 live queues it
 * shares the least used, and then only the generation tells their tokens
 * apart. */
#define RX_QTAG_BITS  12
#define RX_QTAG_SHIFT 52
#define RX_QTAGS      (1u << RX_QTAG_BITS)
#define RX_GEN_MASK   ((UINT64_C(1) << RX_QTAG_SHIFT) - 1)
static pthread_mutex_t qtag_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t qtag_users[RX_QTAGS];
static unsigned qtag_next = 1;

static uint16_t qtag_get(void)
{
	unsigned t;

	pthread_mutex_lock(&qtag_lock);
	t = qtag_next;
	for (unsigned k = 0; k < RX_QTAGS - 1; k++) {
		unsigned c = 1 + (qtag_next - 1 + k) % (RX_QTAGS - 1);

		if (qtag_users[c] < qtag_users[t])
			t = c;
		if (!qtag_users[t])
			break;
	}
	qtag_users[t]++;
	qtag_next = t % (RX_QTAGS - 1) + 1;
	pthread_mutex_unlock(&qtag_lock);
	return (uint16_t)t;
}

static void qtag_put(uint16_t t)
{
	pthread_mutex_lock(&qtag_lock);
	qtag_users[t]--;
	pthread_mutex_unlock(&qtag_lock);
}

struct netmem_rxq *_netmem_rxq_create(const struct netmem_rx_driver_ops *ops, void *priv,
				      uint32_t nr_tokens)
{
	struct netmem_rxq *q;
	uint32_t n = 1, seed;
	unsigned bits = 0;

	if (!ops || ops->size < sizeof(*ops) || !ops->recv || !ops->destroy || !ops->name ||
	    nr_tokens == 0 || nr_tokens > _NETMEM_RX_MAX_TOKENS) {
		errno = -_netmem_err(EINVAL, "rxq: bad driver table or token count %u", nr_tokens);
		return NULL;
	}
	while (n < nr_tokens) {
		n <<= 1;
		bits++;
	}
	q = aligned_alloc(NETMEM_CACHELINE, sizeof(*q));
	if (!q) {
		errno = -_netmem_err(ENOMEM, "rxq: out of memory");
		return NULL;
	}
	memset(q, 0, sizeof(*q));
	q->slot = calloc(n, sizeof(*q->slot));
	q->gen = malloc(n * sizeof(*q->gen));
	q->free_idx = malloc(n * sizeof(*q->free_idx));
	q->ring = calloc(n, sizeof(*q->ring));
	if (!q->slot || !q->gen || !q->free_idx || !q->ring) {
		free(q->slot);
		free(q->gen);
		free(q->free_idx);
		free((void *)q->ring);
		free(q);
		errno = -_netmem_err(ENOMEM, "rxq: no memory for %u tokens", n);
		return NULL;
	}
	/* The tag tells queues apart; generations also start far apart, for
	 * queues that share a tag. */
	q->qtag = qtag_get();
	q->slot_mask = n - 1;
	q->slot_bits = bits;
	q->tag_bits = (uint64_t)q->qtag << RX_QTAG_SHIFT;
	seed = atomic_fetch_add_explicit(&next_queue_seed, 1, memory_order_relaxed) *
	       UINT32_C(0x9e3779b1);
	for (uint32_t i = 0; i < n; i++) {
		atomic_init(&q->slot[i].tag, 0);
		atomic_init(&q->slot[i].h, 0);
		q->gen[i] = seed;
		q->free_idx[i] = n - 1 - i;
	}
	q->nr_free = n;
	q->nr_tokens = n;
	q->ops = ops;
	q->priv = priv;
	atomic_init(&q->owner, _netmem_self());
	atomic_init(&q->refs, 1);
	atomic_init(&q->bad_release, 0);
	atomic_init(&q->released, 0);
	atomic_init(&q->ring_prod, 0);
	return q;
}

void *_netmem_rxq_priv(const struct netmem_rxq *q)
{
	return q->priv;
}

bool _netmem_rxq_is_owner(const struct netmem_rxq *q)
{
	return atomic_load_explicit(&q->owner, memory_order_relaxed) == _netmem_self() &&
	       !q->destroyed;
}

int _netmem_rxq_hold_hdr(struct netmem_rxq *q, netmem_t h)
{
	if (q->nr_hdr_hold == NETMEM_RX_MAX_BATCH) {
		netmem_put(h);
		return -ENOSPC;
	}
	q->hdr_hold[q->nr_hdr_hold++] = h;
	return 0;
}

void _netmem_rxq_hold_hdrs(struct netmem_rxq *q, const netmem_t *h, unsigned n)
{
	unsigned room = NETMEM_RX_MAX_BATCH - q->nr_hdr_hold, k = n < room ? n : room;

	memcpy(q->hdr_hold + q->nr_hdr_hold, h, k * sizeof(*h));
	q->nr_hdr_hold += k;
	if (k < n)
		netmem_put_bulk(h + k, n - k);
}

static void put_held_headers(struct netmem_rxq *q)
{
	netmem_put_bulk(q->hdr_hold, q->nr_hdr_hold);
	q->nr_hdr_hold = 0;
}

static void rxq_free(struct netmem_rxq *q)
{
	qtag_put(q->qtag);
	free(q->slot);
	free(q->gen);
	free(q->free_idx);
	free((void *)q->ring);
	free(q);
}

/* Drop n references; the last frees the queue. The caller's last access. */
static void rxq_unref(struct netmem_rxq *q, long n)
{
	/* acq_rel: whoever frees sees every releaser's accesses to the queue. */
	if (n && atomic_fetch_sub_explicit(&q->refs, n, memory_order_acq_rel) == n)
		rxq_free(q);
}

/* Owner: move released slot indices from the ring to the stack. */
static void drain_ring(struct netmem_rxq *q)
{
	uint32_t mask = q->nr_tokens - 1;
	uint64_t c = q->ring_cons;

	for (;;) {
		_Atomic uint32_t *e = &q->ring[c & mask];
		/* acquire: pairs with the releaser's release store, so its
		 * claim of the slot (tag = 0) happened before we reuse it. */
		uint32_t v = atomic_load_explicit(e, memory_order_acquire);

		if (!v)
			break;
		/* relaxed: only this thread reads the entry again, after a
		 * releaser refilled it, which the ring's reservation orders. */
		atomic_store_explicit(e, 0, memory_order_relaxed);
		q->free_idx[q->nr_free++] = v - 1;
		c++;
	}
	q->ring_cons = c;
}

/*
 * Owner, short of free tokens: a releaser between its reservation and its
 * store leaves a hole that stops drain_ring(), and every slot released after
 * it waits behind the hole. The releaser is a store away from filling it:
 * give it a moment (bounded; a releaser kept off the CPU longer costs
 * drop_no_token, counted) before the packet is dropped.
 */
static void drain_ring_wait(struct netmem_rxq *q, unsigned need)
{
	for (int i = 0; i < 64 && need > q->nr_free &&
			atomic_load_explicit(&q->ring_prod, memory_order_relaxed) > q->ring_cons;
	     i++) {
		sched_yield();
		drain_ring(q);
	}
}

#ifdef NETMEM_DEBUG
/* Debug builds: called by a releaser between reserving ring entries and
 * filling them, so that a test can hold one there. */
void (*_netmem_rxq_debug_reserved)(void);
#endif

/* Any thread: hand n claimed slot indices back to the owner. */
static void ring_push(struct netmem_rxq *q, const uint32_t *idx, unsigned n)
{
	uint32_t mask = q->nr_tokens - 1;
	/* relaxed: the index space cannot overflow (see the file comment), so
	 * the reservation needs no ordering; the entries carry it. */
	uint64_t head = atomic_fetch_add_explicit(&q->ring_prod, n, memory_order_relaxed);

#ifdef NETMEM_DEBUG
	if (_netmem_rxq_debug_reserved)
		_netmem_rxq_debug_reserved();
#endif
	for (unsigned i = 0; i < n; i++) {
		_Atomic uint32_t *e = &q->ring[(head + i) & mask];

		uint32_t zero = 0;

		/* The owner may still be emptying this entry from its previous
		 * lap (it read the value, not yet stored 0): wait for it. The
		 * CAS reads the latest value, so an entry is never overwritten.
		 * release: our claim of the slot happens before the owner's
		 * reuse of it. */
		while (!atomic_compare_exchange_weak_explicit(
		    e, &zero, idx[i] + 1, memory_order_release, memory_order_relaxed)) {
			zero = 0;
			sched_yield();
		}
	}
}

static void put_refs(struct netmem_rxq *q, const netmem_t *h, unsigned n)
{
	if (q->ops->release)
		q->ops->release(q, h, n);
	else
		netmem_put_bulk(h, n);
}

/*
 * Claimed slots idx[0, k) with their references h[0, k): the slots go back
 * first, then the references. In the other order the device could find a
 * buffer back in its pool before the owner finds a free token for it, and
 * drop its packet as drop_no_token; this way a posted buffer always has a
 * token waiting. h[] is a copy, so reuse of the slots does not touch it.
 */
static void release_claimed(struct netmem_rxq *q, const netmem_t *h, const uint32_t *idx,
			    unsigned k, bool local)
{
	if (local) {
		memcpy(q->free_idx + q->nr_free, idx, k * sizeof(*idx));
		q->nr_free += k;
	} else {
		ring_push(q, idx, k);
	}
	put_refs(q, h, k);
}

int netmem_rxq_release(struct netmem_rxq *q, const uint64_t *tokens, unsigned n)
{
	netmem_t h[RX_RELEASE_BATCH];
	uint32_t idx[RX_RELEASE_BATCH];
	unsigned k = 0, bad = 0, done = 0;
	bool local;

	if (!q || (!tokens && n))
		return -EINVAL;
	local = atomic_load_explicit(&q->owner, memory_order_relaxed) == _netmem_self();
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = tokens[i];
		uint32_t s = (uint32_t)t & q->slot_mask;
		struct rx_slot *slot;

		if (!t) { /* s is in range: masked */
			bad++;
			continue;
		}
		slot = &q->slot[s];
		/* acq_rel: acquire pairs with recv's release store of the
		 * token, so h below is the reference it published; the CAS
		 * lets exactly one releaser claim a live token. */
		if (!atomic_compare_exchange_strong_explicit(
			&slot->tag, &t, 0, memory_order_acq_rel, memory_order_relaxed)) {
			bad++;
			continue;
		}
		h[k] = atomic_load_explicit(&slot->h, memory_order_relaxed);
		idx[k++] = s;
		if (k == RX_RELEASE_BATCH || i + 1 == n) {
			release_claimed(q, h, idx, k, local);
			done += k;
			k = 0;
		}
	}
	if (k) { /* the last tokens were bad after some good ones */
		release_claimed(q, h, idx, k, local);
		done += k;
	}
	if (bad)
		atomic_fetch_add_explicit(&q->bad_release, bad, memory_order_relaxed);
	if (done)
		atomic_fetch_add_explicit(&q->released, done, memory_order_relaxed);
	rxq_unref(q, done); /* last access to q */
	return bad ? -EINVAL : (int)done;
}

int netmem_rxq_release_pkt(struct netmem_rxq *q, const struct netmem_rx_pkt *pkt)
{
	uint64_t t[NETMEM_RX_MAX_FRAGS];
	unsigned n;

	if (!q || !pkt || pkt->nr_frags > NETMEM_RX_MAX_FRAGS)
		return -EINVAL;
	n = pkt->nr_frags;
	for (unsigned i = 0; i < n; i++)
		t[i] = pkt->frag[i].token;
	return netmem_rxq_release(q, t, n);
}

/* Owner: give a packet's payload references back without delivering it. */
static void drop_pkt_refs(struct netmem_rx_pkt *p)
{
	for (unsigned i = 0; i < p->nr_frags; i++)
		netmem_put((netmem_t)p->frag[i].token);
	p->nr_frags = 0;
}

int netmem_rxq_recv(struct netmem_rxq *q, struct netmem_rx_pkt *pkts, unsigned max)
{
	unsigned out = 0, issued = 0;
	bool resolved, waited = false;
	int n;

	if (!q || (!pkts && max) || !_netmem_rxq_is_owner(q))
		return -EINVAL;
	put_held_headers(q);
	if (max == 0)
		return 0;
	if (max > NETMEM_RX_MAX_BATCH)
		max = NETMEM_RX_MAX_BATCH;
	n = q->ops->recv(q, pkts, max);
	if (n <= 0)
		return n;
	resolved = q->ops->flags & NETMEM_RXD_RESOLVED;
	for (int i = 0; i < n; i++) {
		struct netmem_rx_pkt *p = &pkts[i];
		unsigned nf = p->nr_frags;

		if (unlikely(nf > q->nr_free)) {
			drain_ring(q);
			if (nf > q->nr_free && !waited) { /* once a call */
				drain_ring_wait(q, nf);
				waited = true;
			}
			if (nf > q->nr_free) {
				drop_pkt_refs(p);
				q->drop_no_token++;
				if (q->ops->dropped)
					q->ops->dropped(q, p);
				continue;
			}
		}
		for (unsigned j = 0; j < nf; j++) {
			struct netmem_rx_frag *f = &p->frag[j];
			netmem_t h = (netmem_t)f->token;
			uint32_t s = q->free_idx[--q->nr_free];

			/* the generation's bits past the tag fall off: it wraps */
			f->token = q->tag_bits | ((++q->gen[s] << q->slot_bits) & RX_GEN_MASK) | s;
			if (!resolved) {
				char *cpu = netmem_address(h);

				f->area_id = netmem_area_id(h);
				f->addr = cpu ? cpu + f->offset : NULL;
				f->offset += netmem_area_offset(h);
			}
			atomic_store_explicit(&q->slot[s].h, h, memory_order_relaxed);
			/* release: a releaser that sees the token also sees h. */
			atomic_store_explicit(&q->slot[s].tag, f->token, memory_order_release);
		}
		issued += nf;
		q->packets++;
		q->bytes += p->len;
		q->hdr_only += nf == 0;
		q->truncated += (p->flags & NETMEM_RX_TRUNCATED) != 0;
		if ((unsigned)i != out)
			pkts[out] = *p;
		out++;
	}
	q->issued += issued;
	/* relaxed: only counts; tokens reach other threads through the
	 * application's own synchronisation, after this add. */
	atomic_fetch_add_explicit(&q->refs, issued, memory_order_relaxed);
	return (int)out;
}

int netmem_rxq_frag_read(struct netmem_rxq *q, const struct netmem_rx_frag *f, size_t off,
			 void *dst, size_t len)
{
	uint32_t s;
	netmem_t h;
	size_t in_chunk;

	if (!q || !f || (!dst && len) || off > f->len || len > f->len - off)
		return -EINVAL;
	s = (uint32_t)f->token & q->slot_mask;
	if (!f->token ||
	    /* acquire: pairs with recv's release store; h is then current. */
	    atomic_load_explicit(&q->slot[s].tag, memory_order_acquire) != f->token)
		return -EINVAL;
	h = atomic_load_explicit(&q->slot[s].h, memory_order_relaxed);
	if (netmem_is_revoked(h))
		return -ENODEV;
	/* The token is checked, the rest of *f is the caller's: keep the read
	 * inside the token's chunk whatever offset and len say. */
	in_chunk = f->offset - netmem_area_offset(h);
	if (f->offset < netmem_area_offset(h) || in_chunk > netmem_size(h) ||
	    off + len > netmem_size(h) - in_chunk)
		return -EINVAL;
	if (netmem_is_readable(h)) {
		/* One load: a revoke between the check above and here makes
		 * the address NULL, and the copy must not follow it. */
		char *cpu = netmem_address(h);

		if (!cpu)
			return -ENODEV;
		memcpy(dst, cpu + in_chunk + off, len);
		return 0;
	}
	return netmem_dev_read(h, in_chunk + off, dst, len);
}

int netmem_rxq_refill(struct netmem_rxq *q)
{
	if (!q || !_netmem_rxq_is_owner(q))
		return -EINVAL;
	return q->ops->refill ? q->ops->refill(q) : 0;
}

int netmem_rxq_set_owner(struct netmem_rxq *q)
{
	int ret = 0;

	if (!q || q->destroyed)
		return -EINVAL;
	if (q->ops->set_owner)
		ret = q->ops->set_owner(q);
	if (ret < 0)
		return ret;
	/* release: the new owner's reads of owner-only state (it calls recv
	 * after the handover, ordered by the caller's own synchronisation). */
	atomic_store_explicit(&q->owner, _netmem_self(), memory_order_release);
	return 0;
}

int netmem_rxq_stats(struct netmem_rxq *q, struct netmem_rxq_stats *st)
{
	long held;

	/* The driver's counters are the owner's, and destroy frees them. */
	if (!q || !st || !_netmem_rxq_is_owner(q))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (q->ops->stats)
		q->ops->stats(q, st);
	st->packets = q->packets;
	st->bytes = q->bytes;
	st->hdr_only = q->hdr_only;
	st->truncated = q->truncated;
	st->tokens_issued = q->issued;
	held = atomic_load_explicit(&q->refs, memory_order_relaxed) - (q->destroyed ? 0 : 1);
	st->tokens_held = held > 0 ? (uint64_t)held : 0;
	st->tokens_released = atomic_load_explicit(&q->released, memory_order_relaxed);
	st->bad_release = atomic_load_explicit(&q->bad_release, memory_order_relaxed);
	st->drop_no_token = q->drop_no_token;
	st->drops = st->drop_no_buf + st->drop_revoked + st->drop_fault + st->drop_overflow +
		    st->drop_truncated + st->drop_no_token;
	return 0;
}

void netmem_rxq_stats_add(struct netmem_rxq_stats *a, const struct netmem_rxq_stats *b)
{
	if (!a || !b)
		return;
	a->packets += b->packets;
	a->bytes += b->bytes;
	a->hdr_only += b->hdr_only;
	a->truncated += b->truncated;
	a->tokens_issued += b->tokens_issued;
	a->tokens_released += b->tokens_released;
	a->tokens_held += b->tokens_held;
	a->bad_release += b->bad_release;
	a->generated += b->generated;
	a->posted += b->posted;
	a->drops += b->drops;
	a->drop_no_buf += b->drop_no_buf;
	a->drop_revoked += b->drop_revoked;
	a->drop_fault += b->drop_fault;
	a->drop_overflow += b->drop_overflow;
	a->drop_truncated += b->drop_truncated;
	a->drop_no_token += b->drop_no_token;
	a->revoked |= b->revoked;
}

int netmem_rxq_stats_json(struct netmem_rxq *q, FILE *out)
{
	struct netmem_rxq_stats s;
	int ret;

	if (!out)
		return -EINVAL;
	ret = netmem_rxq_stats(q, &s);
	if (ret < 0)
		return ret;
#define F(x) "\"" #x "\":%" PRIu64
	ret = fprintf(
	    out,
	    "{\"driver\":\"%s\",\"queue\":%u," F(packets) "," F(bytes) "," F(hdr_only) "," F(truncated) "," F(tokens_issued) "," F(tokens_released) "," F(tokens_held) "," F(
		bad_release) "," F(generated) "," F(posted) "," F(drops) "," F(drop_no_buf) "," F(drop_revoked) "," F(drop_fault) "," F(drop_overflow) "," F(drop_truncated) "," F(drop_no_token) ",\"revoked\":%s}",
	    q->ops->name, s.queue, s.packets, s.bytes, s.hdr_only, s.truncated, s.tokens_issued,
	    s.tokens_released, s.tokens_held, s.bad_release, s.generated, s.posted, s.drops,
	    s.drop_no_buf, s.drop_revoked, s.drop_fault, s.drop_overflow, s.drop_truncated,
	    s.drop_no_token, s.revoked ? "true" : "false");
#undef F
	return ret < 0 || ferror(out) ? -EIO : ret;
}

const char *netmem_rxq_driver(const struct netmem_rxq *q)
{
	return q ? q->ops->name : NULL;
}

int netmem_rxq_destroy(struct netmem_rxq *q)
{
	long left;

	if (!q || !_netmem_rxq_is_owner(q))
		return -EINVAL;
	put_held_headers(q);
	q->ops->destroy(q);
	q->destroyed = true;
	/* From now on every release takes the ring path and netmem_put_bulk;
	 * release: orders destroyed before a releaser's view of owner. */
	atomic_store_explicit(&q->owner, NULL, memory_order_release);
	left = atomic_fetch_sub_explicit(&q->refs, 1, memory_order_acq_rel) - 1;
	if (left == 0)
		rxq_free(q);
	return (int)left;
}
