/* SPDX-License-Identifier: MIT */
/*
 * Shared by the AF_XDP tests and `netmem bench xsk`: entering the network
 * namespaces that tests/xsk_netns.sh (or the bench) made, a UDP sender in
 * the sending namespace (a forked child, sendmmsg), the payload format with
 * sequence numbers and checksums, and parsing of received Ethernet frames.
 *
 * Payload of every datagram: struct xu_hdr, then `len` bytes that are a
 * function of (flow, seq), with their FNV-1a checksum in the header.
 */
#ifndef NETMEM_TESTS_XSK_UTIL_H
#define NETMEM_TESTS_XSK_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XU_MAGIC 0x6e6d7873u /* "nmxs" */
#define XU_DST_PORT 9000
#define XU_SRC_PORT 40000
#define XU_MAX_FLOWS 16
#define XU_MAX_PAYLOAD 1472 /* 1500 MTU - IPv4 - UDP */
#define XU_L2L4 42          /* Ethernet + IPv4 + UDP headers, no options */

struct xu_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
	uint32_t len;  /* data bytes after this header */
	uint32_t csum; /* FNV-1a of them */
};

/* What the sender and the receiver share (MAP_SHARED, across fork). */
struct xu_shared {
	_Atomic uint64_t sent;      /* written by the sender */
	_Atomic uint64_t received;  /* written by the receiver: for the window */
	_Atomic int stop;           /* receiver asks the sender to stop */
	_Atomic int done;           /* sender finished */
	_Atomic uint64_t elapsed_us; /* sender's time from first to last send */
	_Atomic int go;             /* receiver lets a paused sender go on */
};

struct xu_sender_cfg {
	const char *ns;        /* namespace to send from */
	const char *dst;       /* receiver's IPv4 address */
	unsigned flows;        /* 1..XU_MAX_FLOWS, one socket (source port) each */
	uint64_t count;        /* packets in all */
	uint32_t size;         /* data bytes per packet; 0 = varying 0..1448 */
	unsigned window;       /* 0 = no flow control; else sent - received <= window */
	unsigned batch;        /* sendmmsg batch, 1..64 */
	unsigned gap_us;       /* pause between batches */
	double seconds;        /* give up after this long */
	unsigned start_delay_ms;
	int fixed_payload;     /* benchmarks: build the batch once, send it
				* again and again (no per-packet checksum) */
	uint64_t pause_at;     /* 0, or wait for sh->go once this many are sent */
};

static inline double xu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Move the calling thread into network namespace `name` (ip netns). */
static inline int xu_setns(const char *name)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

static inline uint32_t xu_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static inline uint32_t xu_size_of(uint64_t seq, uint32_t fixed)
{
	if (fixed)
		return fixed;
	return (uint32_t)((seq * 373u) % (XU_MAX_PAYLOAD - sizeof(struct xu_hdr) + 1));
}

/* Fill buf with the datagram for (flow, seq); returns its length. */
static inline size_t xu_make(uint8_t *buf, uint32_t flow, uint64_t seq, uint32_t size)
{
	struct xu_hdr h = { .magic = XU_MAGIC, .flow = flow, .seq = seq, .len = size };
	uint8_t *d = buf + sizeof(h);

	for (uint32_t i = 0; i < size; i++)
		d[i] = (uint8_t)(seq * 131u + flow * 7u + i);
	h.csum = xu_fnv(d, size);
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + size;
}

/*
 * Check one received datagram (UDP payload bytes p, n). Returns 0 when it
 * is a well-formed packet of this format with a matching checksum, and
 * stores its flow and seq; -1 otherwise.
 */
static inline int xu_check(const uint8_t *p, size_t n, uint32_t *flow, uint64_t *seq)
{
	struct xu_hdr h;

	if (n < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	if (h.magic != XU_MAGIC || h.len != n - sizeof(h) || h.flow >= XU_MAX_FLOWS)
		return -1;
	if (xu_fnv(p + sizeof(h), h.len) != h.csum)
		return -1;
	*flow = h.flow;
	*seq = h.seq;
	return 0;
}

/*
 * Parse an Ethernet/IPv4/UDP frame to this test's port. Returns the UDP
 * payload offset and stores its length, or -1 for any other frame.
 */
static inline int xu_parse(const uint8_t *f, size_t n, size_t *plen)
{
	size_t ihl;
	uint16_t ulen, dport;

	if (n < XU_L2L4 || f[12] != 0x08 || f[13] != 0x00)
		return -1;
	ihl = (size_t)(f[14] & 0x0f) * 4;
	if (f[14] >> 4 != 4 || ihl < 20 || f[23] != 17 || n < 14 + ihl + 8)
		return -1;
	dport = (uint16_t)(f[14 + ihl + 2] << 8 | f[14 + ihl + 3]);
	ulen = (uint16_t)(f[14 + ihl + 4] << 8 | f[14 + ihl + 5]);
	if (dport != XU_DST_PORT || ulen < 8 || 14 + ihl + ulen > n)
		return -1;
	*plen = ulen - 8u;
	return (int)(14 + ihl + 8);
}

/* The sender's body, in the child. Returns the exit status. */
static inline int xu_sender_main(const struct xu_sender_cfg *c, struct xu_shared *sh)
{
	int fd[XU_MAX_FLOWS];
	uint64_t seq[XU_MAX_FLOWS] = { 0 };
	static uint8_t buf[64][XU_MAX_PAYLOAD];
	struct mmsghdr msg[64];
	struct iovec iov[64];
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(XU_DST_PORT) };
	unsigned batch = c->batch ? c->batch : 16;
	double deadline, t_start;
	uint64_t sent = 0;

	if (batch > 64)
		batch = 64;
	/* Drop what fork() gave us of the receiver (its XDP link, socket,
	 * UMEM): holding them would keep them alive after the receiver
	 * closes them. */
	close_range(3, ~0u, 0);
	if (xu_setns(c->ns)) {
		perror("sender: setns");
		atomic_store(&sh->done, 1); /* the receiver stops waiting */
		return 2;
	}
	inet_pton(AF_INET, c->dst, &dst.sin_addr);
	for (unsigned f = 0; f < c->flows; f++) {
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)(XU_SRC_PORT + f)) };
		int sz = 4 << 20;

		fd[f] = socket(AF_INET, SOCK_DGRAM, 0);
		/* Not connected: an ICMP error from a receiver without a
		 * socket yet must not fail later sends. */
		if (fd[f] < 0 || bind(fd[f], (struct sockaddr *)&src, sizeof(src))) {
			perror("sender: socket");
			atomic_store(&sh->done, 1); /* the receiver stops waiting */
			return 2;
		}
		setsockopt(fd[f], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (c->start_delay_ms)
		usleep(c->start_delay_ms * 1000u);
	t_start = xu_now();
	deadline = t_start + c->seconds;
	while (sent < c->count && !atomic_load(&sh->stop) && xu_now() < deadline) {
		unsigned f = (unsigned)(sent % c->flows), n = 0;

		/* Flow control: never more than `window` packets ahead of
		 * what the receiver has taken, so a slow (sanitized, shared
		 * CPU) receiver sees no drops it did not cause itself. */
		while (c->window && sent - atomic_load(&sh->received) + batch > c->window &&
		       !atomic_load(&sh->stop) && xu_now() < deadline)
			usleep(20);
		while (c->pause_at && sent >= c->pause_at && !atomic_load(&sh->go) &&
		       !atomic_load(&sh->stop) && xu_now() < deadline)
			usleep(100);
		while (n < batch && sent + n < c->count) {
			iov[n].iov_base = buf[n];
			if (!c->fixed_payload || !sent)
				iov[n].iov_len = xu_make(buf[n], f, seq[f] + n,
							 xu_size_of(seq[f] + n, c->size));
			memset(&msg[n], 0, sizeof(msg[n]));
			msg[n].msg_hdr.msg_name = &dst;
			msg[n].msg_hdr.msg_namelen = sizeof(dst);
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			n++;
		}
		int r = sendmmsg(fd[f], msg, n, 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("sender: sendmmsg");
			atomic_store(&sh->done, 1); /* the receiver stops waiting */
			return 2;
		}
		seq[f] += (uint64_t)r;
		sent += (uint64_t)r;
		atomic_store(&sh->sent, sent);
		if (c->gap_us)
			usleep(c->gap_us);
	}
	atomic_store(&sh->elapsed_us, (uint64_t)((xu_now() - t_start) * 1e6) + 1);
	atomic_store(&sh->done, 1);
	return 0;
}

static inline struct xu_shared *xu_shared_new(void)
{
	void *p = mmap(NULL, sizeof(struct xu_shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Fork the sender. Returns its pid, or -1. */
static inline pid_t xu_sender_start(const struct xu_sender_cfg *c, struct xu_shared *sh)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(xu_sender_main(c, sh));
	return pid;
}

/* Wait for the sender; returns its exit status (or 128 + signal). */
static inline int xu_sender_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#ifdef NETMEM_RX_H
/* Receive-side checker: every packet of the test's flows verified, order
 * per flow checked (strict: no gap either). */
struct xu_check_state {
	int64_t last[XU_MAX_FLOWS]; /* last seq seen per flow, -1 none */
	uint64_t good, other, bad_csum, bad_order, gaps, bad_split;
	int strict;
	uint32_t want_hdr;          /* expected hdr_len, 0 = any */
};

static inline void xu_check_init(struct xu_check_state *c, int strict, uint32_t want_hdr)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < XU_MAX_FLOWS; i++)
		c->last[i] = -1;
	c->strict = strict;
	c->want_hdr = want_hdr;
}

/* Check one packet; returns 1 when it was a good packet of the test. */
static inline int xu_check_pkt(struct xu_check_state *c, struct netmem_rxq *q,
			       const struct netmem_rx_pkt *p)
{
	static uint8_t frame[16384];
	size_t n = 0, plen;
	uint32_t flow;
	uint64_t seq;
	int off;

	if (p->len > sizeof(frame) || p->hdr_len > p->len)
		return c->bad_split++, 0;
	if (p->hdr_len)
		memcpy(frame, p->hdr, p->hdr_len);
	n = p->hdr_len;
	for (unsigned i = 0; i < p->nr_frags; i++) {
		const struct netmem_rx_frag *f = &p->frag[i];

		if (n + f->len > sizeof(frame) || netmem_rxq_frag_read(q, f, 0, frame + n, f->len))
			return c->bad_split++, 0;
		n += f->len;
	}
	if (n != p->len)
		return c->bad_split++, 0;
	off = xu_parse(frame, n, &plen);
	if (off < 0)
		return c->other++, 0;
	if (c->want_hdr && p->hdr_len != c->want_hdr)
		c->bad_split++;
	if (xu_check(frame + off, plen, &flow, &seq))
		return c->bad_csum++, 0;
	if ((int64_t)seq <= c->last[flow])
		c->bad_order++;
	else if ((int64_t)seq != c->last[flow] + 1)
		c->gaps++;
	c->last[flow] = (int64_t)seq;
	c->good++;
	return 1;
}
#endif

/*
 * Tests: unless already inside, re-run this program under
 * tests/xsk_netns.sh (found relative to the working directory or in
 * $NETMEM_SRCDIR), which makes the namespaces and removes them whatever
 * happens. Returns only when it could not (with the reason in *why), or
 * when already inside (why = NULL).
 */
static inline void xu_enter_netns(char **argv, const char **why)
{
	char self[4096], script[4096];
	const char *src = getenv("NETMEM_SRCDIR");
	ssize_t n;

	*why = NULL;
	if (getenv("NETMEM_XSK_NS_RX"))
		return;
	if (geteuid() != 0) {
		*why = "needs root (network namespaces, XDP)";
		return;
	}
	snprintf(script, sizeof(script), "%s/tests/xsk_netns.sh", src ? src : ".");
	if (access(script, X_OK)) {
		*why = "tests/xsk_netns.sh not found (run from the source tree or set NETMEM_SRCDIR)";
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		*why = "cannot find this program's path";
		return;
	}
	self[n] = 0;
	argv[0] = self;
	fflush(NULL);
	{
		char *args[16] = { script };
		int i;

		for (i = 0; argv[i] && i < 14; i++)
			args[i + 1] = argv[i];
		args[i + 1] = NULL;
		execv(script, args);
	}
	*why = "cannot run tests/xsk_netns.sh";
}

#endif
