/* hugetlb provider: with no huge pages free, area creation fails with a
 * message that says how to reserve them and leaves nothing behind; with pages
 * reserved (the test reserves them as root in a parent process and restores
 * vm.nr_hugepages whatever happens to the child), areas of 2 MiB chunks and of
 * smaller chunks carved from huge pages work, fragments included. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

#define NR_PATH "/proc/sys/vm/nr_hugepages"
#define NEED 6 /* huge pages the positive checks use at most at once */

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", v) > 0;
	ok &= fclose(f) == 0;
	return ok ? 0 : -1;
}

static long meminfo(const char *key)
{
	char line[128];
	size_t kl = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtol(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static struct netmem_pool *new_pool(struct netmem_provider *p, int order, uint32_t nr)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.order = order;
	pp.nr_chunks = nr;
	return netmem_pool_create(&pp);
}

/* There are fewer free huge pages than the area needs. */
static void check_no_pages(long free_pages)
{
	struct netmem_provider *p = netmem_provider_create("hugetlb");
	struct netmem_pool *pool;

	REQUIRE(p);
	/* more 2 MiB chunks than there are free huge pages */
	pool = new_pool(p, NETMEM_ORDER_DEFAULT, (uint32_t)(free_pages + 1));
	CHECK(pool == NULL);
	CHECK_EQ(errno, ENOMEM);
	printf("no pages: %s\n", netmem_last_error());
	CHECK(strstr(netmem_last_error(), "nr_hugepages") != NULL);
	CHECK(strstr(netmem_last_error(), "hugetlb") != NULL);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	if (pool)
		netmem_pool_destroy(pool);
	netmem_provider_destroy(p);
}

static void check_spec(void)
{
	struct netmem_provider *p = netmem_provider_create("hugetlb");

	REQUIRE(p);
	CHECK_EQ(netmem_provider_default_order(p), 9);
	netmem_provider_destroy(p);
	p = netmem_provider_create("hugetlb:order=4");
	REQUIRE(p);
	CHECK_EQ(netmem_provider_default_order(p), 4);
	netmem_provider_destroy(p);
	errno = 0;
	CHECK(netmem_provider_create("hugetlb:order=10") == NULL && errno == EINVAL);
	CHECK(netmem_provider_create("hugetlb:size=1") == NULL && errno == EINVAL);
}

/* Runs in a child with at least NEED huge pages free. */
static int positive(void)
{
	struct netmem_provider *p = netmem_provider_create("hugetlb");
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	netmem_t h[4], f;
	uint32_t off;
	long before = meminfo("HugePages_Free");

	REQUIRE(p);
	/* 2 MiB chunks, each one huge page */
	pool = new_pool(p, NETMEM_ORDER_DEFAULT, 4);
	REQUIRE(pool);
	CHECK_EQ(netmem_pool_chunk_size(pool), 2u << 20);
	CHECK_EQ(netmem_provider_nr_areas(p), 1);
	for (int i = 0; i < 4; i++) {
		uint64_t dma;

		h[i] = netmem_pool_alloc_direct(pool);
		REQUIRE(h[i]);
		CHECK(netmem_is_readable(h[i]));
		CHECK(((uintptr_t)netmem_address(h[i]) & ((2u << 20) - 1)) == 0);
		CHECK(netmem_dma_addr(h[i], &dma) == 0 && dma == (uintptr_t)netmem_address(h[i]));
		CHECK(netmem_dev_write(h[i], 4096, "huge", 4) == 0);
		CHECK(!memcmp((char *)netmem_address(h[i]) + 4096, "huge", 4));
	}
	/* the pages are reserved by the mapping, so the free count dropped */
	if (before >= 0)
		CHECK(meminfo("HugePages_Free") <= before);
	CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM);
	for (int i = 0; i < 4; i++)
		netmem_pool_put_direct(pool, h[i]);
	/* fragments of a huge page */
	f = netmem_pool_alloc_frag_direct(pool, 1500, &off);
	CHECK(f && off == 0);
	CHECK(netmem_pool_alloc_frag_direct(pool, 1500, &off) == f && off == 1536);
	netmem_put(f);
	netmem_put(f);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);

	/* 64 KiB chunks carved from huge pages: 40 chunks round up to 2 pages */
	pool = new_pool(p, 4, 40);
	REQUIRE(pool);
	CHECK_EQ(netmem_pool_stats(pool, &st), 0);
	CHECK_EQ(st.chunk_size, 65536);
	{
		netmem_t c[40];
		char *base = NULL;

		for (int i = 0; i < 40; i++) {
			c[i] = netmem_pool_alloc_direct(pool);
			REQUIRE(c[i]);
			if (!base)
				base = (char *)netmem_address(c[i]) - netmem_area_offset(c[i]);
			CHECK((char *)netmem_address(c[i]) == base + netmem_area_offset(c[i]));
			CHECK(netmem_area_offset(c[i]) < 40 * 65536);
		}
		CHECK(((uintptr_t)base & ((2u << 20) - 1)) == 0);
		CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM);
		netmem_put_bulk(c, 40);
	}
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
	return t_done();
}

static long saved = -1;

/* Killed by the runner's timeout: put the setting back first. */
static void restore_and_die(int sig)
{
	char buf[32];
	int fd, n;

	if (saved >= 0) {
		n = snprintf(buf, sizeof(buf), "%ld\n", saved);
		fd = open(NR_PATH, O_WRONLY);
		if (fd >= 0) {
			if (write(fd, buf, (size_t)n) < 0)
				n = 0;
			close(fd);
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	long old = read_long(NR_PATH), total, nfree;
	int status, rc;
	pid_t pid;

	check_spec();
	if (t_failures)
		return t_done();
	nfree = meminfo("HugePages_Free");
	if (nfree < 0)
		SKIP("no hugetlb support in this kernel (no HugePages_Free in /proc/meminfo)");

	/* The error path needs no privileges: ask for more than is free. */
	check_no_pages(nfree);
	if (t_failures)
		return t_done();

	/* With nr_hugepages=0 (only where nobody uses huge pages now). */
	total = meminfo("HugePages_Total");
	if (old > 0 && total == nfree && write_long(NR_PATH, 0) == 0) {
		check_no_pages(meminfo("HugePages_Free") > 0 ? meminfo("HugePages_Free") : 0);
		write_long(NR_PATH, old);
	} else if (old == 0) {
		check_no_pages(0);
	}
	if (t_failures)
		return t_done();

	if (meminfo("HugePages_Free") < NEED) {
		if (geteuid() != 0)
			SKIP("%ld huge pages free, %d needed, and not root to reserve them "
			     "(sysctl vm.nr_hugepages=%d)",
			     meminfo("HugePages_Free"), NEED, NEED);
		saved = old;
		signal(SIGTERM, restore_and_die);
		signal(SIGINT, restore_and_die);
		if (old < 0 || write_long(NR_PATH, old + NEED) < 0)
			SKIP("cannot write %s to reserve huge pages", NR_PATH);
		if (meminfo("HugePages_Free") < NEED) {
			write_long(NR_PATH, old);
			SKIP("the kernel could not reserve %d huge pages (memory fragmented?)", NEED);
		}
	}
	/* The checks run in a child so that the setting is restored even if
	 * they crash. */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(positive());
	rc = waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : T_FAIL;
	if (read_long(NR_PATH) != old && write_long(NR_PATH, old) < 0)
		fprintf(stderr, "could not restore %s to %ld\n", NR_PATH, old);
	CHECK_EQ(read_long(NR_PATH), old);
	if (rc != T_PASS)
		t_failures++;
	return t_done();
}
