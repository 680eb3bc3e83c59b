/* Every registered provider refuses bad specs (unknown key, bad order,
 * size 0) with -EINVAL and a message; dmabuf refuses every descriptor that
 * is not a dma-buf with -EBADF; area-level refusals (memfd's size limit,
 * huge pages where there are none) say why. No failure leaves a file
 * descriptor, a mapping or an area behind. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

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
	return n - 1; /* opendir's own */
}

/* Mappings of memfds (memfd, devsim) in this process. */
static int count_memfd_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "/memfd:") != NULL;
	fclose(f);
	return n;
}

static int base_fds, base_maps;

#define NOTHING_BEHIND()                                      \
	do {                                                  \
		CHECK_EQ(count_fds(), base_fds);              \
		CHECK_EQ(count_memfd_maps(), base_maps);      \
	} while (0)

/* spec must be refused with err and a message. */
static void refused(const char *spec, int err)
{
	struct netmem_provider *p;

	netmem_set_error("%s", "");
	errno = 0;
	p = netmem_provider_create(spec);
	CHECK(p == NULL);
	if (p)
		netmem_provider_destroy(p);
	if (errno != err)
		fprintf(stderr, "'%s': errno %d, want %d\n", spec, errno, err);
	CHECK_EQ(errno, err);
	CHECK(netmem_last_error()[0] != 0);
	printf("  %-28s -> %s: %s\n", spec, strerror(errno), netmem_last_error());
	NOTHING_BEHIND();
}

static void each_type(const struct netmem_provider_ops *ops, void *arg)
{
	static const char *const bad[] = { "bogus=1", "order=10", "order=-1", "order=x",
					   "order=", "size=0", "order=1,bogus=2" };
	char spec[96];

	(void)arg;
	printf("%s:\n", ops->name);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(spec, sizeof(spec), "%s:%s", ops->name, bad[i]);
		refused(spec, EINVAL);
	}
}

/* dmabuf:fd=fd must be refused with EBADF. */
static void not_dmabuf(int fd, const char *what)
{
	char spec[64];

	printf("%s:\n", what);
	snprintf(spec, sizeof(spec), "dmabuf:fd=%d", fd);
	refused(spec, EBADF);
	CHECK(strstr(netmem_last_error(), "not") != NULL);
}

int main(void)
{
	struct netmem_provider *p;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	int fd, pfd[2], sv[2];
	char path[] = "/tmp/netmem-specs-XXXXXX";

	base_fds = count_fds();
	base_maps = count_memfd_maps();
	REQUIRE(base_fds > 0 && base_maps >= 0);

	netmem_provider_foreach(each_type, NULL);

	/* dmabuf: the fd key, then descriptors of every other kind. */
	printf("dmabuf fd values:\n");
	refused("dmabuf", EINVAL);
	refused("dmabuf:order=2", EINVAL);
	refused("dmabuf:fd=abc", EINVAL);
	refused("dmabuf:fd=-1", EINVAL);
	refused("dmabuf:fd=3,map=2", EINVAL);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	unlink(path);
	REQUIRE(write(fd, "0123456789", 10) == 10);
	base_fds++;
	not_dmabuf(fd, "a regular file");
	close(fd);
	base_fds--;
	REQUIRE(pipe(pfd) == 0);
	base_fds += 2;
	not_dmabuf(pfd[0], "a pipe");
	close(pfd[0]);
	close(pfd[1]);
	base_fds -= 2;
	fd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	REQUIRE(fd >= 0 && ftruncate(fd, 4096) == 0);
	base_fds++;
	not_dmabuf(fd, "a memfd");
	close(fd);
	base_fds--;
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	base_fds += 2;
	not_dmabuf(sv[0], "a socket");
	close(sv[0]);
	close(sv[1]);
	base_fds -= 2;
	fd = open("/dev/null", O_RDWR);
	REQUIRE(fd >= 0);
	close(fd); /* now a closed descriptor number */
	not_dmabuf(fd, "a closed descriptor");
	not_dmabuf(1000000, "a descriptor number never opened");

	/* memfd: an area beyond size= is refused; the instance stays usable. */
	printf("memfd size limit:\n");
	p = netmem_provider_create("memfd:size=64K");
	REQUIRE(p);
	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 32; /* 128 KiB */
	errno = 0;
	pool = netmem_pool_create(&pp);
	CHECK(pool == NULL && errno == ENOSPC);
	printf("  32 x 4 KiB -> %s: %s\n", strerror(errno), netmem_last_error());
	CHECK(strstr(netmem_last_error(), "size") != NULL);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	NOTHING_BEHIND();
	pp.nr_chunks = 16; /* exactly 64 KiB */
	pool = netmem_pool_create(&pp);
	CHECK(pool != NULL);
	pp.nr_chunks = 1;
	errno = 0;
	CHECK(netmem_pool_create(&pp) == NULL && errno == ENOSPC);
	if (pool)
		CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(p);
	NOTHING_BEHIND();

	/* memfd:huge=1 works where the system has huge pages, and says why
	 * where it does not. */
	printf("memfd huge pages:\n");
	errno = 0;
	p = netmem_provider_create("memfd:huge=1");
	if (!p) {
		CHECK_EQ(errno, ENODEV);
		printf("  create -> %s\n", netmem_last_error());
	} else {
		netmem_pool_params_init(&pp, p);
		pp.nr_chunks = 4;
		errno = 0;
		pool = netmem_pool_create(&pp);
		if (pool) {
			netmem_t h = netmem_pool_alloc_direct(pool);

			printf("  huge page pool created\n");
			CHECK(h != 0);
			CHECK_EQ(netmem_dev_write(h, 0, "x", 1), 0);
			netmem_put(h);
			CHECK_EQ(netmem_pool_destroy(pool), 0);
		} else {
			printf("  pool -> %s: %s\n", strerror(errno), netmem_last_error());
			CHECK(errno != 0);
			CHECK(strstr(netmem_last_error(), "huge") != NULL);
		}
		CHECK_EQ(netmem_provider_nr_areas(p), 0);
		netmem_provider_destroy(p);
	}
	NOTHING_BEHIND();

	/* Good specs of every built-in provider still work after all that. */
	{
		static const char *const good[] = { "memfd", "memfd:order=3,size=1M",
						    "devsim:order=1" };

		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			p = netmem_provider_create(good[i]);
			CHECK(p != NULL);
			netmem_provider_destroy(p);
		}
	}
	NOTHING_BEHIND();
	return t_done();
}
