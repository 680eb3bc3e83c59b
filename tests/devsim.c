/* devsim: chunks are unreadable and their application view faults (checked
 * in a child process), while a million fragment alloc / device write / put
 * cycles run with no fault and the device reads back what it wrote. */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

#define CYCLES 1000000
#define WINDOW 32
#define FRAG 1500

/* Permissions of the mapping holding addr, from /proc/self/maps ("" if none). */
static void perms_of(const void *addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	perms[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char p[5];

		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 &&
		    (uintptr_t)addr >= lo && (uintptr_t)addr < hi) {
			memcpy(perms, p, 5);
			break;
		}
	}
	fclose(f);
}

/*
 * Touch addr in a forked child; the child writes "R" to a pipe if the access
 * returned. True when the child died without writing it: killed by SIGSEGV,
 * or (under a sanitizer, which catches SIGSEGV and reports) exited non-zero.
 */
static bool access_faults(volatile char *addr, bool wr)
{
	int pfd[2], st = 0;
	char mark = 0;
	pid_t pid;
	ssize_t n;

	REQUIRE(pipe(pfd) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		close(pfd[0]);
		if (devnull >= 0)
			dup2(devnull, 2); /* a sanitizer's SEGV report is expected */
		if (wr)
			*addr = 1;
		else
			mark = *addr;
		mark = (char)(mark | 'R');
		if (write(pfd[1], &mark, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], &mark, 1);
	close(pfd[0]);
	REQUIRE(waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		printf("child %s: killed by signal %d (%s)\n", wr ? "write" : "read",
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		printf("child %s: exited with status %d%s\n", wr ? "write" : "read",
		       WEXITSTATUS(st), n > 0 ? " after the access returned" : "");
	return n == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void fill(unsigned char *b, size_t n, uint64_t seq)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(seq * 131 + i);
}

int main(void)
{
	struct netmem_provider *prov = netmem_provider_create("devsim:order=2");
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats st;
	unsigned char buf[FRAG], back[FRAG];
	netmem_t win[WINDOW], h, h2;
	uint32_t off[WINDOW];
	uint64_t dma = 0, dma2 = 0, verified = 0;
	char perms[5];
	void *view;

	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 256;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	CHECK_EQ(netmem_pool_chunk_size(pool), 16384);

	/* Unreadable, with device addresses in the device's own space. */
	h = netmem_pool_alloc_direct(pool);
	h2 = netmem_pool_alloc_direct(pool);
	REQUIRE(h && h2);
	CHECK(!netmem_is_readable(h));
	CHECK(netmem_address(h) == NULL);
	CHECK_EQ(netmem_dma_addr(h, &dma), 0);
	CHECK_EQ(netmem_dma_addr(h2, &dma2), 0);
	CHECK(dma >= NETMEM_DEVSIM_IOVA_BASE && dma2 >= NETMEM_DEVSIM_IOVA_BASE);
	CHECK_EQ(dma - NETMEM_DEVSIM_IOVA_BASE, netmem_area_offset(h));
	CHECK(dma != dma2);
	CHECK(netmem_devsim_cpu_view(0) == NULL);

	/* The device writes; the application's view of the same bytes faults. */
	fill(buf, sizeof(buf), 7);
	CHECK_EQ(netmem_dev_write(h, 100, buf, sizeof(buf)), 0);
	CHECK_EQ(netmem_dev_read(h, 100, back, sizeof(back)), 0);
	CHECK(!memcmp(buf, back, sizeof(buf)));
	CHECK_EQ(netmem_dev_write(h, 16384 - 10, buf, 11), -EINVAL);
	view = netmem_devsim_cpu_view(h);
	REQUIRE(view);
	perms_of(view, perms);
	printf("view %p mapped '%s'\n", view, perms);
	CHECK(!strcmp(perms, "---p"));
	CHECK(access_faults((volatile char *)view + 100, false));
	CHECK(access_faults((volatile char *)view + 100, true));
	{
		/* A stray read just past the area's view faults too (a guard
		 * page, not the device memory)... */
		char *end = (char *)view - netmem_area_offset(h) + (size_t)256 * 16384;
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		char *vp = (char *)((uintptr_t)view & ~(uintptr_t)(page - 1));
		int differs = 0;

		CHECK(access_faults((volatile char *)end, false));
		/* ... and the view shares no pages with the device: made
		 * readable, it shows zeros, not the bytes written. */
		REQUIRE(mprotect(vp, page, PROT_READ) == 0);
		for (size_t i = 0; i < sizeof(buf); i++)
			differs |= ((volatile unsigned char *)view)[100 + i] != buf[i];
		CHECK(differs);
		CHECK_EQ(((volatile unsigned char *)view)[100], 0);
		REQUIRE(mprotect(vp, page, PROT_NONE) == 0);
	}
	netmem_pool_put_direct(pool, h);
	netmem_pool_put_direct(pool, h2);

	/* A million fragment cycles: alloc, device write, put in batches. */
	for (uint64_t i = 0, k = 0; i < CYCLES; i++) {
		size_t len = 64 + (size_t)(i % (FRAG - 63));

		win[k] = netmem_pool_alloc_frag_direct(pool, (uint32_t)len, &off[k]);
		REQUIRE(win[k]);
		fill(buf, 16, i);
		if (netmem_dev_write(win[k], off[k], buf, len) != 0) {
			fprintf(stderr, "dev_write failed at cycle %" PRIu64 "\n", i);
			return T_FAIL;
		}
		if (i % 4096 == 0) {
			CHECK_EQ(netmem_dev_read(win[k], off[k], back, 16), 0);
			CHECK(!memcmp(buf, back, 16));
			verified++;
		}
		if (++k == WINDOW) {
			netmem_put_bulk(win, WINDOW);
			k = 0;
		}
	}
	CHECK_EQ(netmem_pool_stats(pool, &st), 0);
	CHECK_EQ(st.frag_alloc, CYCLES);
	CHECK_EQ(st.bad_put, 0);
	CHECK(st.nr_chunks == st.provider_free + st.cached + st.in_ring + st.in_flight);
	printf("%d cycles, %" PRIu64 " verified by device read, %" PRIu64 " chunks carved\n",
	       CYCLES, verified, st.frag_chunks);

	/* Revoked: the device stops answering, the view is no longer offered. */
	h = netmem_pool_alloc_direct(pool);
	REQUIRE(h);
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	CHECK_EQ(netmem_dev_write(h, 0, buf, 16), -ENODEV);
	CHECK(netmem_devsim_cpu_view(h) == NULL);
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
