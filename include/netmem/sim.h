/* SPDX-License-Identifier: MIT */
/*
 * sim: a software NIC, the project's netdevsim. It needs no hardware and is
 * what the tests, `netmem rx` and `netmem bench rx` run on.
 *
 * The device has N receive queues. Its traffic generator sends frames of
 * `nr_flows` flows; RSS (a hash of the flow's addresses and ports through a
 * 128-entry indirection table) picks each flow's queue. Each queue has two
 * descriptor rings refilled from two pools it owns: a header ring of
 * buffers from a host pool and a payload ring of `buf_size`-byte fragments
 * of the payload provider's pool. A frame is split at `hdr_split` bytes: the
 * first part is copied into a header buffer, the rest written into one or
 * more payload buffers through the provider's device-side write operation
 * (the one netmem_dev_write calls), the only access the library makes to
 * payload memory.
 *
 * Driving model: the device runs inside netmem_rxq_recv() on the queue's
 * owner thread: it posts free buffers, generates up to the batch's worth of
 * frames (fewer when rate-limited), writes them into posted buffers and
 * completes them. No thread of its own.
 *
 * Frames. Every frame starts with Ethernet, IPv4 and UDP headers followed by
 * a 16-byte sim header: sequence number (64-bit, per queue, from 0), flow
 * id, payload checksum; NETMEM_SIM_HDR_LEN bytes in all. The payload (the
 * frame after those 58 bytes) is pseudo-random and its checksum is
 * netmem_sim_csum() of it. Received packets carry seq and csum in their
 * metadata too (NETMEM_RX_HAS_SEQ, NETMEM_RX_HAS_CSUM), so an application
 * can check every byte end to end whatever the split.
 *
 * Faults, in parts per million of frames: dropped on the wire (drop_ppm),
 * a device write cut short (trunc_ppm: dropped and counted as
 * drop_truncated, or delivered flagged NETMEM_RX_TRUNCATED with
 * NETMEM_SIM_DELIVER_ERRORS), and completion ring overflow (overflow_ppm:
 * the frame was written, its completion lost, its buffers recycled).
 */
#ifndef NETMEM_SIM_H
#define NETMEM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "rx.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_sim;

#define NETMEM_SIM_HDR_LEN    58 /* Ethernet + IPv4 + UDP + sim header */
#define NETMEM_SIM_MAX_QUEUES 64
#define NETMEM_SIM_MAX_SPLIT  256 /* largest header split */
#define NETMEM_SIM_MIN_FRAME  64
#define NETMEM_SIM_MAX_FRAME  9216

/* Flags. */
#define NETMEM_SIM_DELIVER_ERRORS 0x1 /* deliver truncated frames, flagged */
#define NETMEM_SIM_INJECT_ONLY	  0x2 /* no generator: only injected frames arrive */

/* netmem_sim_inject(): pick the queue by RSS over the frame's headers. */
#define NETMEM_SIM_INJECT_RSS (~0u)
/* Most injected frames waiting per queue. */
#define NETMEM_SIM_INJECT_MAX 64

/* Why a frame was dropped (on_drop's reason). */
enum netmem_sim_drop {
	NETMEM_SIM_DROP_NO_BUF = 1, /* no posted buffer (back-pressure) */
	NETMEM_SIM_DROP_REVOKED,    /* payload or header provider revoked */
	NETMEM_SIM_DROP_FAULT,	    /* injected drop */
	NETMEM_SIM_DROP_OVERFLOW,   /* completion ring overflow */
	NETMEM_SIM_DROP_TRUNCATED,  /* short write, not delivered */
	NETMEM_SIM_DROP_NO_TOKEN,   /* delivered by the device, no free token
				     * (drop_no_token; counted by the queue) */
};

struct netmem_sim_params {
	size_t size;			 /* sizeof(struct netmem_sim_params) */
	struct netmem_provider *payload; /* required: payload memory */
	struct netmem_provider *header;	 /* header memory; NULL: host */
	unsigned nr_queues;		 /* 1..NETMEM_SIM_MAX_QUEUES */
	unsigned ring_size;		 /* descriptors per ring, power of 2 up to 4096 */
	uint32_t hdr_split;		 /* 0..NETMEM_SIM_MAX_SPLIT; 0: no header buffer */
	uint32_t buf_size;		 /* payload buffer bytes, multiple of 64, <= chunk */
	uint32_t payload_chunks;	 /* chunks in each queue's payload pool: at
					  * most 2^24 buffers of buf_size (one token
					  * each), enough for the largest frame */
	int payload_order;		 /* chunk order, NETMEM_ORDER_DEFAULT: provider's */
	const uint32_t *sizes;		 /* frame sizes, cycled; copied at create.
					  * Each must fit NETMEM_RX_MAX_FRAGS and
					  * ring_size buffers (unless INJECT_ONLY) */
	unsigned nr_sizes;		 /* 0: every frame 1500 bytes */
	unsigned nr_flows;		 /* 1..65536 */
	uint64_t rate_pps;		 /* frames per second per queue; 0: unlimited */
	uint64_t max_frames;		 /* per queue, then the generator stops; 0: no end */
	uint32_t drop_ppm;
	uint32_t trunc_ppm;
	uint32_t overflow_ppm;
	unsigned flags; /* NETMEM_SIM_* */
	uint64_t seed;	/* generator and fault randomness */
	/* Called on the queue's owner thread for every dropped frame. */
	void (*on_drop)(void *arg, unsigned queue, uint64_t seq, enum netmem_sim_drop why);
	void *on_drop_arg;
};

/* Defaults: 1 queue, 256-entry rings, split at NETMEM_SIM_HDR_LEN,
 * 2048-byte payload buffers, 1024 payload chunks of the provider's order,
 * 1500-byte frames, 64 flows, unlimited rate, no faults. */
void netmem_sim_params_init(struct netmem_sim_params *p, struct netmem_provider *payload);

/*
 * Create a sim NIC with its queues and pools. The calling thread owns every
 * queue (hand one to a worker with netmem_rxq_set_owner). Returns NULL and
 * sets errno: EINVAL (bad params; netmem_last_error() says which), ENODEV
 * (provider revoked), ENOMEM, or what pool creation reports.
 */
struct netmem_sim *netmem_sim_create(const struct netmem_sim_params *params);

/* Queue i of the device (0-based), or NULL (bad device or index). */
struct netmem_rxq *netmem_sim_rxq(struct netmem_sim *sim, unsigned i);

/* Number of queues, 0 on NULL. */
unsigned netmem_sim_nr_queues(const struct netmem_sim *sim);

/*
 * Destroy the device: netmem_rxq_destroy() on every queue (from the calling
 * thread, which must be each queue's owner or the queues' workers must have
 * stopped and the caller taken them back with netmem_rxq_set_owner), then
 * the device. Tokens still held stay releasable. Returns the number of
 * tokens still held over all queues, or -EINVAL (NULL, or a queue owned by
 * another thread: then nothing is destroyed).
 */
int netmem_sim_destroy(struct netmem_sim *sim);

/*
 * Hand the device a frame of the caller's (any bytes, 1..NETMEM_SIM_MAX_FRAME
 * long): it arrives at `queue`, or with NETMEM_SIM_INJECT_RSS at the queue
 * RSS picks from its IPv4 header (one VLAN tag allowed): addresses, and the
 * ports of an unfragmented UDP or TCP datagram (every fragment of one hashes
 * its addresses alone); queue 0 for a frame that is not IPv4,
 * at that queue's next netmem_rxq_recv(), before generated frames, split and
 * written like them, with the same fault injection. A well-formed sim frame
 * (as the generator builds) is delivered with its sequence number and
 * checksum (NETMEM_RX_HAS_SEQ | NETMEM_RX_HAS_CSUM, and NETMEM_RX_CSUM_BAD
 * when the payload does not match); other frames with neither. The frame is
 * copied. Owner thread of the target queue (with NETMEM_SIM_INJECT_RSS, of
 * the queue RSS picks: netmem_sim_rss_queue() tells which beforehand).
 * Returns the queue index, or -EINVAL (NULL, length out of range, more
 * payload than NETMEM_RX_MAX_FRAGS buffers, than the ring or than the
 * payload pool holds, no such queue, the caller does not own the queue;
 * nothing queued), -ENOSPC (NETMEM_SIM_INJECT_MAX frames already waiting),
 * -ENOMEM.
 */
int netmem_sim_inject(struct netmem_sim *sim, unsigned queue, const void *frame, size_t len);

/*
 * The queue RSS picks for a frame, as netmem_sim_inject() with
 * NETMEM_SIM_INJECT_RSS would (from a dispatcher thread, to hand the frame
 * to that queue's owner). Any thread. Returns the queue index, or -EINVAL
 * (NULL, length 0 or above NETMEM_SIM_MAX_FRAME).
 */
int netmem_sim_rss_queue(const struct netmem_sim *sim, const void *frame, size_t len);

/* Checksum of a sim payload, computed in pieces: start with
 * netmem_sim_csum_init(), feed every fragment in order, then _final(). */
struct netmem_sim_csum {
	uint64_t h, xp;
};
void netmem_sim_csum_init(struct netmem_sim_csum *c);
void netmem_sim_csum_update(struct netmem_sim_csum *c, const void *buf, size_t len);
uint32_t netmem_sim_csum_final(const struct netmem_sim_csum *c);

/*
 * Check one received sim packet end to end: its header bytes and payload
 * (read through netmem_rxq_frag_read, so device memory works too) must be
 * the frame that was sent: right length, sequence number and payload
 * checksum. Any thread holding the packet's tokens, before the next recv
 * on the queue or its destroy (the header bytes are valid until then).
 * Returns 0 (good), -EBADMSG (bytes differ, truncated or flagged), -EINVAL,
 * -ENODEV (revoked), -EOPNOTSUPP (payload unreadable and no device read).
 */
int netmem_sim_verify(struct netmem_rxq *q, const struct netmem_rx_pkt *pkt);

#ifdef __cplusplus
}
#endif
#endif
