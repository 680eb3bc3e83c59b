/*
 * xsk queue parameters: every bad one is refused with its errno and a
 * reason, before anything is attached, leaving nothing allocated behind
 * (no root needed).
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

static int fails(const struct netmem_xsk_params *p, int err)
{
	struct netmem_rxq *q = netmem_xsk_rxq_create(p);

	if (q) {
		netmem_rxq_destroy(q);
		return 0;
	}
	if (errno != err)
		fprintf(stderr, "errno %d, wanted %d: %s\n", errno, err, netmem_last_error());
	return errno == err && netmem_last_error()[0];
}

int main(void)
{
	struct netmem_xsk_params p, b;

	netmem_xsk_params_init(&p);
	p.ifname = "lo";
	p.frame_size = 2048;

	CHECK(fails(NULL, EINVAL));
	b = p;
	b.size = 3;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.ifname = NULL;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.ifname = "";
	CHECK(fails(&b, EINVAL));
	b = p;
	b.ifname = "a-name-longer-than-ifnamsiz";
	CHECK(fails(&b, EINVAL));
	b = p;
	b.flags = NETMEM_XSK_COPY | NETMEM_XSK_ZEROCOPY;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.hdr_split = NETMEM_XSK_MAX_HDR + 1;
	CHECK(fails(&b, EINVAL));
	b.hdr_split = -2;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.order = NETMEM_MAX_ORDER + 1;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.fill_size = 1000;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.rx_size = 3;
	CHECK(fails(&b, EINVAL));
	/* Frames below the kernel's 2 KiB minimum or above the chunk. */
	b = p;
	b.frame_size = 1024;
	CHECK(fails(&b, EINVAL));
	b = p;
	b.order = 0;
	b.frame_size = 8192;
	CHECK(fails(&b, EINVAL));
	/* Above the page, even in a chunk that holds it: the kernel takes no
	 * unaligned UMEM frame larger than a page. */
	b = p;
	b.order = 4;
	b.frame_size = 8192;
	CHECK(fails(&b, EINVAL));
	CHECK(strstr(netmem_last_error(), "page size") != NULL); /* refused before the kernel */
	/* Memory the CPU cannot map cannot be a UMEM: refused, and the area
	 * made for it is gone again. */
	{
		struct netmem_provider *dev = netmem_provider_create("devsim");

		REQUIRE(dev);
		b = p;
		b.provider = dev;
		CHECK(fails(&b, EOPNOTSUPP));
		CHECK(strstr(netmem_last_error(), "CPU-mapped") != NULL);
		CHECK_EQ(netmem_provider_nr_areas(dev), 0);
		netmem_provider_destroy(dev);
	}
	/* No such interface. */
	b = p;
	b.ifname = "nmx-none0";
	CHECK(fails(&b, ENODEV));
	CHECK(netmem_xsk_of(NULL) == NULL);
	CHECK_EQ(netmem_xsk_wait(NULL, 0), -EINVAL);
	CHECK_EQ(netmem_xsk_fd(NULL), -EINVAL);
	CHECK_EQ(netmem_xsk_frame_size(NULL), 0);
	CHECK(netmem_xsk_pool(NULL) == NULL);
	{
		struct netmem_xsk_stats st;

		CHECK_EQ(netmem_xsk_stats(NULL, &st), -EINVAL);
	}
	return t_done();
}
#endif
