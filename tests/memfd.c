/* memfd: a child process receives the area's fd over a Unix socket
 * (SCM_RIGHTS), maps it read-only, and sees what the device wrote through
 * the pool, including later writes; it keeps reading after the parent
 * destroyed the pool, whose mapping is then gone from the parent. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR 8
#define CHUNK 4096

struct msg {
	uint64_t off[NR]; /* device address = offset in the memfd */
	uint32_t seq;
};

static bool mapped(uintptr_t addr)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
			found = true;
	}
	fclose(f);
	return found;
}

static void pattern(unsigned char *b, size_t n, unsigned i, uint32_t seq)
{
	for (size_t k = 0; k < n; k++)
		b[k] = (unsigned char)(i * 29 + k * 7 + seq);
}

static int send_fd(int sock, int fd, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == (ssize_t)len ? 0 : -1;
}

static int recv_fd(int sock, void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &mh, 0) != (ssize_t)len)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Child: 0 when every check held, else the number of the failed step. */
static int child(int sock)
{
	struct msg m;
	unsigned char want[CHUNK];
	const unsigned char *map;
	struct stat st;
	uint32_t seq;
	int fd = recv_fd(sock, &m, sizeof(m));

	if (fd < 0)
		return 10;
	if (fstat(fd, &st) < 0 || st.st_size < NR * CHUNK)
		return 11;
	/* The provider sealed it: no writable shared mapping for us. */
	if (mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) !=
	    MAP_FAILED)
		return 12;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 13;
	close(fd);
	for (unsigned i = 0; i < NR; i++) {
		pattern(want, CHUNK, i, m.seq);
		if (memcmp(map + m.off[i], want, CHUNK))
			return 14;
	}
	/* Tell the parent; it writes again, then destroys the pool. */
	if (write(sock, "1", 1) != 1 || read(sock, &seq, sizeof(seq)) != sizeof(seq))
		return 15;
	for (unsigned i = 0; i < NR; i++) {
		pattern(want, CHUNK, i, seq);
		if (memcmp(map + m.off[i], want, CHUNK))
			return 16; /* a later device write is visible: shared, not copied */
	}
	if (write(sock, "2", 1) != 1 || read(sock, &seq, sizeof(seq)) != sizeof(seq))
		return 17;
	/* The parent's pool is gone; our mapping still holds the memory. */
	for (unsigned i = 0; i < NR; i++) {
		pattern(want, CHUNK, i, seq);
		if (memcmp(map + m.off[i], want, CHUNK))
			return 18;
	}
	munmap((void *)map, (size_t)st.st_size);
	return 0;
}

/* size= under contention: one thread keeps asking for a pool that can never
 * fit, another for one that always fits; the second is never refused. */
static struct netmem_provider *limited;
static _Atomic int stop_big;

static void *too_big(void *arg)
{
	struct netmem_pool_params pp;

	(void)arg;
	netmem_pool_params_init(&pp, limited);
	pp.order = 0;
	pp.nr_chunks = 300; /* 1.2 MiB, over the 1 MiB limit */
	while (!atomic_load(&stop_big)) {
		struct netmem_pool *q = netmem_pool_create(&pp);

		CHECK(q == NULL && errno == ENOSPC);
	}
	return NULL;
}

static void limit_contended(void)
{
	struct netmem_pool_params pp;
	pthread_t thr;
	int refused = 0;

	limited = netmem_provider_create("memfd:size=1M");
	REQUIRE(limited);
	REQUIRE(pthread_create(&thr, NULL, too_big, NULL) == 0);
	netmem_pool_params_init(&pp, limited);
	pp.order = 0;
	pp.nr_chunks = 16; /* 64 KiB */
	for (int i = 0; i < 5000; i++) {
		struct netmem_pool *q = netmem_pool_create(&pp);

		if (!q)
			refused++;
		else
			CHECK_EQ(netmem_pool_destroy(q), 0);
	}
	atomic_store(&stop_big, 1);
	pthread_join(thr, NULL);
	printf("64 KiB pools refused while 1.2 MiB ones were tried: %d of 5000\n", refused);
	CHECK_EQ(refused, 0);
	CHECK_EQ(netmem_provider_nr_areas(limited), 0);
	netmem_provider_destroy(limited);
}

/* Chunks are aligned to their size (up to 2 MiB), as host's: a 2 MiB
 * chunk is one huge page's worth, never two halves. */
static void aligned_chunks(void)
{
	for (int order = 0; order <= NETMEM_MAX_ORDER; order++) {
		struct netmem_provider *p = netmem_provider_create("memfd");
		struct netmem_pool_params pp;
		struct netmem_pool *pool;
		size_t sz = (size_t)4096 << order;

		REQUIRE(p);
		netmem_pool_params_init(&pp, p);
		pp.order = order;
		pp.nr_chunks = 3;
		pool = netmem_pool_create(&pp);
		REQUIRE(pool);
		for (int i = 0; i < 3; i++) {
			netmem_t c = netmem_pool_alloc_direct(pool);

			REQUIRE(c);
			if ((uintptr_t)netmem_address(c) % sz)
				fprintf(stderr, "order %d: chunk at %p\n", order, netmem_address(c));
			CHECK_EQ((uintptr_t)netmem_address(c) % sz, 0);
			netmem_pool_put_direct(pool, c);
		}
		CHECK_EQ(netmem_pool_destroy(pool), 0);
		netmem_provider_destroy(p);
	}
}

int main(void)
{
	struct netmem_provider *prov, *host;
	struct netmem_pool_params pp;
	struct netmem_pool *pool, *hpool;
	unsigned char buf[CHUNK];
	netmem_t h[NR];
	struct msg m = { .seq = 1 };
	uintptr_t base;
	uint32_t seq;
	int sv[2], fd, st;
	char ack;
	pid_t pid;

	aligned_chunks();
	/* Providers without a file descriptor say so. */
	host = netmem_provider_create("host");
	REQUIRE(host);
	netmem_pool_params_init(&pp, host);
	pp.nr_chunks = 4;
	hpool = netmem_pool_create(&pp);
	REQUIRE(hpool);
	CHECK_EQ(netmem_pool_area_fd(hpool), -EOPNOTSUPP);
	CHECK(strstr(netmem_last_error(), "host") != NULL);
	CHECK_EQ(netmem_pool_area_fd(NULL), -EINVAL);
	h[0] = netmem_pool_alloc_direct(hpool);
	REQUIRE(h[0]);
	CHECK_EQ(netmem_provider_revoke(host), 0);
	CHECK_EQ(netmem_pool_area_fd(hpool), -ENODEV);
	netmem_put(h[0]);
	CHECK_EQ(netmem_pool_destroy(hpool), 0);
	netmem_provider_destroy(host);
	/* The fault wrapper answers as its inner provider. */
	{
		static const char *const specs[] = {"fault:inner=memfd", "fault:inner=host"};

		for (int i = 0; i < 2; i++) {
			struct netmem_provider *fp = netmem_provider_create(specs[i]);
			struct netmem_pool *fpool;
			struct stat sb;

			REQUIRE(fp);
			netmem_pool_params_init(&pp, fp);
			pp.nr_chunks = 4;
			fpool = netmem_pool_create(&pp);
			REQUIRE(fpool);
			fd = netmem_pool_area_fd(fpool);
			if (i == 0) {
				CHECK(fd >= 0 && fstat(fd, &sb) == 0 &&
				      (size_t)sb.st_size >= 4 * netmem_pool_chunk_size(fpool));
				if (fd >= 0)
					close(fd);
			} else {
				CHECK_EQ(fd, -EOPNOTSUPP);
				CHECK(strstr(netmem_last_error(), "inner host") != NULL);
			}
			/* Once revoked, every provider answers -ENODEV, wrapped
			 * or not, with or without a descriptor. */
			h[0] = netmem_pool_alloc_direct(fpool);
			REQUIRE(h[0]);
			CHECK_EQ(netmem_provider_revoke(fp), 0);
			CHECK_EQ(netmem_pool_area_fd(fpool), -ENODEV);
			netmem_put(h[0]);
			CHECK_EQ(netmem_pool_destroy(fpool), 0);
			netmem_provider_destroy(fp);
		}
	}

	prov = netmem_provider_create("memfd:size=1M");
	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 64;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	for (unsigned i = 0; i < NR; i++) {
		uint64_t dma = 0;

		h[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(h[i]);
		CHECK(netmem_is_readable(h[i]));
		CHECK_EQ(netmem_dma_addr(h[i], &dma), 0);
		CHECK_EQ(dma, netmem_area_offset(h[i]));
		m.off[i] = dma;
		pattern(buf, CHUNK, i, m.seq);
		CHECK_EQ(netmem_dev_write(h[i], 0, buf, CHUNK), 0);
		/* readable memory: the CPU view agrees with the device write */
		CHECK(!memcmp(netmem_address(h[i]), buf, CHUNK));
	}
	base = (uintptr_t)netmem_address(h[0]) - netmem_area_offset(h[0]);
	CHECK(mapped(base));

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(child(sv[1]));
	}
	close(sv[1]);
	fd = netmem_pool_area_fd(pool);
	REQUIRE(fd >= 0);
	REQUIRE(send_fd(sv[0], fd, &m, sizeof(m)) == 0);
	close(fd);
	if (read(sv[0], &ack, 1) != 1 || ack != '1') {
		fprintf(stderr, "child did not verify the first write\n");
		t_failures++;
		goto wait;
	}
	seq = 2;
	for (unsigned i = 0; i < NR; i++) {
		pattern(buf, CHUNK, i, seq);
		CHECK_EQ(netmem_dev_write(h[i], 0, buf, CHUNK), 0);
	}
	REQUIRE(write(sv[0], &seq, sizeof(seq)) == sizeof(seq));
	if (read(sv[0], &ack, 1) != 1 || ack != '2') {
		fprintf(stderr, "child did not see the second write\n");
		t_failures++;
		goto wait;
	}
	/* Our side lets go: the mapping leaves this process. */
	netmem_put_bulk(h, NR);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK(!mapped(base));
	netmem_provider_destroy(prov);
	REQUIRE(write(sv[0], &seq, sizeof(seq)) == sizeof(seq));
wait:
	close(sv[0]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "child failed: %s %d\n", WIFEXITED(st) ? "step" : "signal",
			WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		t_failures++;
	}
	limit_contended();
	return t_done();
}
