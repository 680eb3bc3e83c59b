/* cuda: GPU memory behind a pool. Chunks are unreadable, their device
 * addresses are CUdeviceptrs, device-side write and read round-trip through
 * cuMemcpy, and where the driver allows, the area exports as a dma-buf that
 * the dmabuf provider imports. Skips with the reason where there is no CUDA
 * build, driver or GPU. */
#include <sys/vfs.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR 64
#define ORDER 4
#define CHUNK (4096u << ORDER)

static struct netmem_pool *pool_of(struct netmem_provider *p, uint32_t nr)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = nr;
	return netmem_pool_create(&pp);
}

static void pattern(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(seed * 31 + i * 3);
}

/* Import the GPU area's dma-buf with the dmabuf provider. */
static void import(int fd, struct netmem_pool *gpu)
{
	char spec[48];
	struct netmem_provider *p;
	struct netmem_pool *pool;
	struct statfs sfs;
	unsigned char out[256], in[256];
	netmem_t h;
	uint64_t dma = 0;

	CHECK(fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == 0x444d4142);
	snprintf(spec, sizeof(spec), "dmabuf:fd=%d,order=%d", fd, ORDER);
	p = netmem_provider_create(spec);
	close(fd);
	if (!p) {
		fprintf(stderr, "import of the GPU dma-buf failed: %s\n", netmem_last_error());
		t_failures++;
		return;
	}
	pool = pool_of(p, NR);
	REQUIRE(pool);
	h = netmem_pool_alloc_direct(pool);
	REQUIRE(h);
	CHECK_EQ(netmem_dma_addr(h, &dma), 0);
	/* the first area is placed at offset 0 of the buffer */
	CHECK_EQ(dma, netmem_area_offset(h));
	printf("imported GPU dma-buf: %s\n",
	       netmem_is_readable(h) ? "exporter allows mmap (readable)"
				     : "exporter refuses mmap (unreadable)");
	if (netmem_is_readable(h)) {
		/* written through the dma-buf, read back through CUDA from the
		 * GPU chunk at the same offset */
		netmem_t g[NR];
		unsigned n = netmem_pool_alloc_bulk_direct(gpu, g, NR);
		int seen = 0;

		pattern(in, sizeof(in), 99);
		CHECK_EQ(netmem_dev_write(h, 0, in, sizeof(in)), 0);
		for (unsigned i = 0; i < n; i++)
			if (netmem_area_offset(g[i]) == dma) {
				CHECK_EQ(netmem_dev_read(g[i], 0, out, sizeof(out)), 0);
				CHECK(!memcmp(in, out, sizeof(in)));
				seen = 1;
			}
		CHECK(seen);
		netmem_put_bulk(g, n);
	} else {
		CHECK_EQ(netmem_dev_write(h, 0, in, sizeof(in)), -EOPNOTSUPP);
	}
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(p);
}

int main(void)
{
	struct netmem_provider *p;
	struct netmem_pool *pool, *fpool;
	unsigned char in[CHUNK], out[CHUNK];
	netmem_t h[NR];
	uint64_t base = 0;
	int fd;

	if (!netmem_provider_lookup("cuda"))
		SKIP("the cuda provider is not built (no CUDA toolkit at build time)");
	errno = 0;
	p = netmem_provider_create("cuda:device=0,order=4");
	if (!p) {
		CHECK_EQ(errno, ENODEV);
		CHECK(netmem_last_error()[0] != 0);
		if (t_failures)
			return t_done();
		SKIP("%s", netmem_last_error());
	}
	errno = 0;
	CHECK(netmem_provider_create("cuda:device=4096") == NULL && errno == ENODEV);
	printf("device 4096: %s\n", netmem_last_error());

	pool = pool_of(p, NR);
	REQUIRE(pool);
	for (unsigned i = 0; i < NR; i++) {
		uint64_t dma = 0;

		h[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(h[i]);
		CHECK(!netmem_is_readable(h[i]) && netmem_address(h[i]) == NULL);
		CHECK_EQ(netmem_dma_addr(h[i], &dma), 0);
		CHECK(dma != 0 && dma % CHUNK == 0);
		if (i == 0)
			base = dma - netmem_area_offset(h[i]);
		CHECK_EQ(dma - netmem_area_offset(h[i]), base);
		pattern(in, CHUNK, i);
		CHECK_EQ(netmem_dev_write(h[i], 0, in, CHUNK), 0);
	}
	printf("GPU area at device address 0x%" PRIx64 "\n", base);
	for (unsigned i = 0; i < NR; i++) {
		pattern(in, CHUNK, i);
		memset(out, 0, sizeof(out));
		CHECK_EQ(netmem_dev_read(h[i], 0, out, CHUNK), 0);
		CHECK(!memcmp(in, out, CHUNK));
	}
	/* fragments work the same on GPU memory (a pool of their own: every
	 * chunk of `pool` is out, and the export below wants them whole) */
	fpool = pool_of(p, 4);
	REQUIRE(fpool);
	for (unsigned i = 0; i < 100; i++) {
		uint32_t off;
		netmem_t f = netmem_pool_alloc_frag_direct(fpool, 1500, &off);

		REQUIRE(f);
		pattern(in, 1500, 1000 + i);
		CHECK_EQ(netmem_dev_write(f, off, in, 1500), 0);
		CHECK_EQ(netmem_dev_read(f, off, out, 1500), 0);
		CHECK(!memcmp(in, out, 1500));
		netmem_put(f);
	}
	CHECK_EQ(netmem_pool_destroy(fpool), 0);
	netmem_put_bulk(h, NR);

	fd = netmem_pool_area_fd(pool);
	if (fd >= 0)
		import(fd, pool);
	else
		printf("dma-buf export not available here: %s\n", netmem_last_error());

	h[0] = netmem_pool_alloc_direct(pool);
	REQUIRE(h[0]);
	CHECK_EQ(netmem_provider_revoke(p), 0);
	CHECK_EQ(netmem_dev_write(h[0], 0, in, 16), -ENODEV);
	netmem_put(h[0]);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
	return t_done();
}
