/*
 * Queues of one interface may come in any order: on a veth pair with 80
 * queues, queue 0 then queue 70 (the shared program's map must hold every
 * queue the device can have, not only those below the first one's), and
 * queue 70 alone once both are gone.
 *
 * Runs under tests/xsk_netns.sh with NETMEM_XSK_QUEUES=80; needs root.
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

static struct netmem_rxq *open_q(struct netmem_provider *prov, const char *ifname, unsigned qi)
{
	struct netmem_xsk_params p;
	struct netmem_rxq *q;

	netmem_xsk_params_init(&p);
	p.ifname = ifname;
	p.queue = qi;
	p.provider = prov;
	q = netmem_xsk_rxq_create(&p);
	if (!q)
		fprintf(stderr, "queue %u: %s\n", qi, netmem_last_error());
	return q;
}

int main(int argc, char **argv)
{
	struct netmem_provider *prov;
	struct netmem_rxq *q0, *q70;
	const char *why, *ifname;

	(void)argc;
	setenv("NETMEM_XSK_QUEUES", "80", 1); /* whatever the caller's */
	xu_enter_netns(argv, &why);
	if (why)
		SKIP("%s", why);
	REQUIRE(xu_setns(getenv("NETMEM_XSK_NS_RX")) == 0);
	ifname = getenv("NETMEM_XSK_IF_RX");
	prov = netmem_provider_create("host");
	REQUIRE(prov);

	q0 = open_q(prov, ifname, 0);
	REQUIRE(q0);
	q70 = open_q(prov, ifname, 70);
	CHECK(q70 != NULL);
	if (q70)
		CHECK(netmem_rxq_destroy(q70) >= 0);
	CHECK(netmem_rxq_destroy(q0) >= 0);
	/* and alone, once the first is gone */
	q70 = open_q(prov, ifname, 70);
	CHECK(q70 != NULL);
	if (q70)
		CHECK(netmem_rxq_destroy(q70) >= 0);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	netmem_provider_destroy(prov);
	return t_done();
}
#endif
