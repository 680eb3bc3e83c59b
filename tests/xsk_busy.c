/*
 * An interface whose XDP program belongs to another process is busy, in
 * whichever mode that program is attached: the other process holds its
 * queue with the program in generic (skb) mode, and a queue created here in
 * the default mode (native first) or in skb mode fails with EBUSY, leaving
 * nothing behind. The kernel answers EEXIST for the other mode; the library
 * documents one answer.
 *
 * Runs under tests/xsk_netns.sh; needs root.
 */
#include "harness.h"

#ifndef NETMEM_HAVE_XDP
int main(void)
{
	SKIP("built without libxdp/libbpf (pkg-config found neither)");
}
#else

#include "netmem/netmem.h"
#include "netmem/xsk.h"
#include "xsk_util.h"

static struct netmem_rxq *open_q(struct netmem_provider *prov, unsigned flags)
{
	struct netmem_xsk_params p;

	netmem_xsk_params_init(&p);
	p.ifname = getenv("NETMEM_XSK_IF_RX");
	p.provider = prov;
	p.flags = flags;
	return netmem_xsk_rxq_create(&p);
}

int main(int argc, char **argv)
{
	struct netmem_provider *prov;
	struct netmem_rxq *q;
	int ready[2], done[2], status;
	const char *why;
	char c = 0;
	pid_t pid;

	(void)argc;
	xu_enter_netns(argv, &why);
	if (why)
		SKIP("%s", why);
	REQUIRE(xu_setns(getenv("NETMEM_XSK_NS_RX")) == 0);
	REQUIRE(pipe(ready) == 0 && pipe(done) == 0);
	fflush(NULL);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct netmem_provider *cp = netmem_provider_create("host");
		struct netmem_rxq *cq = cp ? open_q(cp, NETMEM_XSK_SKB_MODE) : NULL;

		c = cq ? 1 : 0;
		if (!cq)
			fprintf(stderr, "child: %s\n", netmem_last_error());
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(2);
		if (cq)
			netmem_rxq_destroy(cq);
		_exit(0);
	}
	REQUIRE(read(ready[0], &c, 1) == 1);
	if (!c) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		SKIP("the other process could not attach in skb mode");
	}
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	errno = 0;
	q = open_q(prov, 0); /* native first: the kernel says EEXIST */
	CHECK(q == NULL);
	CHECK_EQ(errno, EBUSY);
	printf("default mode: %s\n", netmem_last_error());
	errno = 0;
	q = open_q(prov, NETMEM_XSK_SKB_MODE); /* the same mode: EBUSY */
	CHECK(q == NULL);
	CHECK_EQ(errno, EBUSY);
	printf("skb mode: %s\n", netmem_last_error());
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	REQUIRE(write(done[1], &c, 1) == 1);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	netmem_provider_destroy(prov);
	return t_done();
}
#endif
