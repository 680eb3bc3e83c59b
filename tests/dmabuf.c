/* dmabuf: descriptors that are not dma-bufs are refused with -EBADF (on
 * every machine); where an exporter exists (/dev/udmabuf, a dma-heap),
 * a real dma-buf is imported: device addresses are offsets in the buffer
 * (checked against the exporter's own view of the memory), areas are carved
 * without overlap and cannot outgrow the buffer, map=0 keeps chunks
 * unreadable, and the area's fd is a dma-buf again. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/dma-heap.h>
#include <linux/udmabuf.h>

#include "harness.h"
#include "netmem/netmem.h"

#define BUF_SIZE (1u << 20)

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void refuse(int fd, const char *what)
{
	char spec[48];

	snprintf(spec, sizeof(spec), "dmabuf:fd=%d", fd);
	errno = 0;
	CHECK(netmem_provider_create(spec) == NULL);
	CHECK_EQ(errno, EBADF);
	printf("%s: %s\n", what, netmem_last_error());
}

/* A dma-buf of BUF_SIZE bytes, or -1 with the reason in why. With udmabuf,
 * *cpu is the exporter's memory (the memfd behind it), mapped here. */
static int make_dmabuf(const char **how, char *why, size_t whylen, unsigned char **cpu)
{
	int dev, memfd, fd;
	DIR *d;
	struct dirent *e;

	*cpu = NULL;
	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = BUF_SIZE };

		memfd = memfd_create("netmem-udmabuf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		REQUIRE(memfd >= 0 && ftruncate(memfd, BUF_SIZE) == 0);
		REQUIRE(fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK) == 0); /* udmabuf needs it */
		c.memfd = (uint32_t)memfd;
		fd = ioctl(dev, UDMABUF_CREATE, &c);
		close(dev);
		if (fd >= 0) {
			*cpu = mmap(NULL, BUF_SIZE, PROT_READ, MAP_SHARED, memfd, 0);
			REQUIRE(*cpu != MAP_FAILED);
			close(memfd);
			*how = "udmabuf";
			return fd;
		}
		snprintf(why, whylen, "/dev/udmabuf: UDMABUF_CREATE: %s; ", strerror(errno));
		close(memfd);
	} else {
		snprintf(why, whylen, "/dev/udmabuf: %s; ", strerror(errno));
	}
	d = opendir("/dev/dma_heap");
	if (!d) {
		snprintf(why + strlen(why), whylen - strlen(why), "/dev/dma_heap: %s",
			 strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char path[300];
		struct dma_heap_allocation_data a = { .len = BUF_SIZE,
						      .fd_flags = O_RDWR | O_CLOEXEC };

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/dev/dma_heap/%s", e->d_name);
		dev = open(path, O_RDONLY | O_CLOEXEC);
		if (dev < 0)
			continue;
		if (ioctl(dev, DMA_HEAP_IOCTL_ALLOC, &a) == 0) {
			close(dev);
			closedir(d);
			*how = "dma_heap";
			return (int)a.fd;
		}
		snprintf(why + strlen(why), whylen - strlen(why), "%s: %s; ", path,
			 strerror(errno));
		close(dev);
	}
	closedir(d);
	snprintf(why + strlen(why), whylen - strlen(why), "no usable dma-heap");
	return -1;
}

static struct netmem_pool *pool_of(struct netmem_provider *p, uint32_t nr)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = nr;
	return netmem_pool_create(&pp);
}

int main(void)
{
	char why[512] = "", path[] = "/tmp/netmem-dmabuf-XXXXXX";
	const char *how = NULL;
	unsigned char *cpu, pat[4096], back[4096];
	struct netmem_provider *p, *p2;
	struct netmem_pool *a, *b, *c;
	struct statfs sfs;
	netmem_t h, hb;
	uint64_t dma = 0;
	int fd, pfd[2], base_fds;

	/* Refusals run everywhere. */
	base_fds = count_fds();
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	refuse(fd, "regular file");
	close(fd);
	REQUIRE(pipe(pfd) == 0);
	refuse(pfd[1], "pipe");
	close(pfd[0]);
	close(pfd[1]);
	fd = memfd_create("plain", MFD_CLOEXEC);
	REQUIRE(fd >= 0);
	refuse(fd, "memfd");
	close(fd);
	refuse(fd, "closed fd");
	CHECK_EQ(count_fds(), base_fds);
	if (t_failures)
		return t_done();

	fd = make_dmabuf(&how, why, sizeof(why), &cpu);
	if (fd < 0)
		SKIP("no dma-buf exporter on this machine (%s); refusals checked", why);
	printf("dma-buf of %u bytes from %s\n", BUF_SIZE, how);
	{
		char spec[48];

		snprintf(spec, sizeof(spec), "dmabuf:fd=%d", fd);
		p = netmem_provider_create(spec);
		REQUIRE(p);
		snprintf(spec, sizeof(spec), "dmabuf:fd=%d,map=0", fd);
		p2 = netmem_provider_create(spec);
		REQUIRE(p2);
	}
	close(fd); /* the providers hold their own references */

	/* Pool a at offset 0, pool b after it: offsets in the buffer, no overlap. */
	a = pool_of(p, 64);   /* 256 KiB */
	b = pool_of(p, 128);  /* 512 KiB */
	REQUIRE(a && b);
	h = netmem_pool_alloc_direct(a);
	hb = netmem_pool_alloc_direct(b);
	REQUIRE(h && hb);
	CHECK_EQ(netmem_dma_addr(h, &dma), 0);
	CHECK_EQ(dma, netmem_area_offset(h));
	CHECK_EQ(netmem_dma_addr(hb, &dma), 0);
	CHECK(dma >= 64 * 4096 && dma + 4096 <= BUF_SIZE);
	printf("readable where mmap is allowed: %d\n", netmem_is_readable(h));
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (unsigned char)(i * 13 + 5);
	if (netmem_is_readable(hb)) {
		CHECK_EQ(netmem_dev_write(hb, 0, pat, sizeof(pat)), 0);
		CHECK_EQ(netmem_dev_read(hb, 0, back, sizeof(back)), 0);
		CHECK(!memcmp(pat, back, sizeof(pat)));
		/* the exporter's memory at offset dma holds what the device wrote */
		if (cpu)
			CHECK(!memcmp(cpu + dma, pat, sizeof(pat)));
	} else {
		CHECK_EQ(netmem_dev_write(hb, 0, pat, sizeof(pat)), -EOPNOTSUPP);
	}

	/* 256 KiB are left: 512 KiB do not fit, 2 MiB exceed the buffer. */
	errno = 0;
	CHECK(pool_of(p, 128) == NULL && errno == ENOSPC);
	printf("too big for what is left: %s\n", netmem_last_error());
	errno = 0;
	CHECK(pool_of(p, 512) == NULL && errno == EINVAL);
	printf("larger than the buffer: %s\n", netmem_last_error());
	c = pool_of(p, 64);
	CHECK(c != NULL);

	/* The area's fd is a dma-buf; map=0 keeps the same memory unreadable. */
	fd = netmem_pool_area_fd(b);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == 0x444d4142);
		close(fd);
	}
	{
		struct netmem_pool *u = pool_of(p2, 16);
		netmem_t hu;

		REQUIRE(u);
		hu = netmem_pool_alloc_direct(u);
		REQUIRE(hu);
		CHECK(!netmem_is_readable(hu) && netmem_address(hu) == NULL);
		CHECK_EQ(netmem_dev_write(hu, 0, pat, 16), -EOPNOTSUPP);
		netmem_put(hu);
		CHECK_EQ(netmem_pool_destroy(u), 0);
	}

	/* Freed ranges are reused; revoke stops the device side. */
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(a), 0);
	a = pool_of(p, 64);
	CHECK(a != NULL);
	CHECK_EQ(netmem_provider_revoke(p), 0);
	CHECK_EQ(netmem_dev_write(hb, 0, pat, 16), -ENODEV);
	netmem_put(hb);
	if (a)
		CHECK_EQ(netmem_pool_destroy(a), 0);
	CHECK_EQ(netmem_pool_destroy(b), 0);
	if (c)
		CHECK_EQ(netmem_pool_destroy(c), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
	netmem_provider_destroy(p2);
	if (cpu)
		munmap(cpu, BUF_SIZE);
	CHECK_EQ(count_fds(), base_fds);
	return t_done();
}
