/* After a revoke every accessor on a handle into the provider's memory reads
 * as revoked (NULL or -ENODEV), device-side access fails with -ENODEV, the
 * chunk metadata stays readable, no allocation of any kind returns the
 * provider's memory once the owner noticed (poll or slow path), the pool's
 * callback and the provider type's revoke hook each fire once, and other
 * providers are untouched. */
#include "harness.h"
#include "netmem/netmem.h"

static int hook_calls;
static struct netmem_provider_ops rv_ops;

static void rv_revoke(struct netmem_provider *p)
{
	(void)p;
	hook_calls++;
}

static int cb_calls;
static struct netmem_pool *cb_pool;

static void on_revoke(struct netmem_pool *pool, void *arg)
{
	CHECK(arg == &cb_calls);
	CHECK(pool == cb_pool);
	/* polling from the callback must not call it again */
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	/* nor destroy the pool under the call that runs the callback */
	CHECK_EQ(netmem_pool_destroy(pool), -EBUSY);
	cb_calls++;
}

static struct netmem_pool *new_pool(struct netmem_provider *p, int cb)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 256;
	if (cb) {
		pp.on_revoke = on_revoke;
		pp.on_revoke_arg = &cb_calls;
	}
	return netmem_pool_create(&pp);
}

static void check_handle(netmem_t h, size_t size, uint32_t area_id, size_t area_off,
			 struct netmem_pool *pool)
{
	uint64_t dma = 12345;
	char buf[8] = "payload";

	CHECK(netmem_is_revoked(h));
	CHECK(netmem_address(h) == NULL);
	CHECK_EQ(netmem_dma_addr(h, &dma), -ENODEV);
	CHECK_EQ(dma, 12345); /* untouched */
	CHECK_EQ(netmem_dev_write(h, 0, buf, sizeof(buf)), -ENODEV);
	CHECK_EQ(netmem_dev_read(h, 0, buf, sizeof(buf)), -ENODEV);
	/* metadata in host memory is still there */
	CHECK_EQ(netmem_size(h), size);
	CHECK_EQ(netmem_area_id(h), area_id);
	CHECK_EQ(netmem_area_offset(h), area_off);
	CHECK(netmem_pool_of(h) == pool);
	CHECK(netmem_is_readable(h));
}

int main(void)
{
	struct netmem_provider *prov, *other;
	struct netmem_pool *pool, *pool2, *opool;
	struct netmem_pool_stats st;
	netmem_t whole, frag, h2, oh, bulk[8];
	uint32_t off, area_id;
	size_t whole_off;
	uint64_t dma;

	rv_ops = *netmem_provider_lookup("host");
	rv_ops.name = "host_rv";
	rv_ops.revoke = rv_revoke;
	REQUIRE(netmem_provider_register(&rv_ops) == 0);
	prov = netmem_provider_create("host_rv");
	other = netmem_provider_create("host");
	REQUIRE(prov && other);
	pool = new_pool(prov, 1);
	cb_pool = pool;
	pool2 = new_pool(prov, 0);
	opool = new_pool(other, 0);
	REQUIRE(pool && pool2 && opool);

	whole = netmem_pool_alloc_direct(pool);
	frag = netmem_pool_alloc_frag_direct(pool, 100, &off);
	h2 = netmem_pool_alloc_direct(pool2);
	oh = netmem_pool_alloc_direct(opool);
	REQUIRE(whole && frag && h2 && oh);
	CHECK(netmem_address(whole) != NULL);
	CHECK_EQ(netmem_dev_write(whole, 0, "x", 1), 0);
	area_id = netmem_area_id(whole);
	whole_off = netmem_area_offset(whole);

	CHECK_EQ(netmem_provider_is_revoked(prov), 0);
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	CHECK_EQ(netmem_provider_revoke(prov), 0); /* idempotent */
	CHECK_EQ(netmem_provider_is_revoked(prov), 1);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(netmem_provider_revoke(NULL), -EINVAL);

	/* every handle into the provider reads as revoked, at once */
	check_handle(whole, 4096, area_id, whole_off, pool);
	check_handle(frag, 4096, netmem_area_id(frag), netmem_area_offset(frag), pool);
	check_handle(h2, 4096, netmem_area_id(h2), netmem_area_offset(h2), pool2);
	/* another provider's memory is untouched */
	CHECK(!netmem_is_revoked(oh));
	CHECK(netmem_address(oh) != NULL);
	CHECK_EQ(netmem_dma_addr(oh, &dma), 0);
	CHECK_EQ(netmem_dev_write(oh, 0, "y", 1), 0);
	CHECK_EQ(netmem_pool_poll(opool), 0);

	/* before the owner polls, the fragment slow path already notices */
	CHECK(netmem_pool_alloc_frag_direct(pool, 4000, &off) == 0);
	CHECK_EQ(errno, ENODEV);
	CHECK_EQ(cb_calls, 1);
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	CHECK_EQ(netmem_pool_poll(pool), -ENODEV);
	CHECK_EQ(cb_calls, 1);

	/* nothing more comes out of the revoked pools, whatever the call */
	for (int i = 0; i < 300; i++) {
		errno = 0;
		CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENODEV);
		CHECK(netmem_pool_alloc_frag_direct(pool, 64, &off) == 0 && errno == ENODEV);
	}
	errno = 0;
	CHECK_EQ(netmem_pool_alloc_bulk_direct(pool, bulk, 8), 0);
	CHECK_EQ(errno, ENODEV);
	/* bad sizes are still EINVAL, not ENODEV */
	CHECK(netmem_pool_alloc_frag_direct(pool, 0, &off) == 0 && errno == EINVAL);
	/* pool2's owner has not polled: what is in its cache still comes out
	 * (revoked, reading as such), and the slow path then notices */
	{
		netmem_t got[256];
		int n = 0;

		while (n < 256 && (got[n] = netmem_pool_alloc_direct(pool2)) != 0) {
			CHECK(netmem_is_revoked(got[n]));
			CHECK(netmem_address(got[n]) == NULL);
			n++;
		}
		CHECK(n > 0 && n < 256);
		CHECK_EQ(errno, ENODEV);
		netmem_put_bulk(got, (unsigned)n);
	}
	CHECK_EQ(netmem_pool_poll(pool2), -ENODEV);
	CHECK(netmem_pool_alloc_direct(pool2) == 0 && errno == ENODEV);
	REQUIRE(netmem_pool_stats(pool2, &st) == 0);
	CHECK_EQ(st.cached, 0);
	CHECK_EQ(st.revoked, 1);
	CHECK_EQ(st.in_flight, 1);
	/* a new pool cannot be made on the provider */
	CHECK(new_pool(prov, 0) == NULL && errno == ENODEV);
	CHECK(strstr(netmem_last_error(), "revoked") != NULL);

	/* releasing revoked handles is allowed and frees their descriptors */
	netmem_put(whole);
	netmem_put(frag);
	netmem_put(h2);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.in_flight, 0);
	CHECK_EQ(st.bad_put, 0);
	CHECK_EQ(st.provider_free, st.nr_chunks);
	CHECK_EQ(netmem_provider_nr_areas(prov), 0);
	CHECK_EQ(netmem_provider_nr_areas(other), 1);
	/* a release build counts a second put of a freed revoked handle and
	 * changes nothing */
	netmem_put(whole);
	netmem_pool_put_direct(pool, frag);
	REQUIRE(netmem_pool_stats(pool, &st) == 0);
	CHECK_EQ(st.bad_put, 2);
	CHECK_EQ(st.provider_free, st.nr_chunks);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_pool_destroy(pool2), 0);
	netmem_put(oh);
	CHECK_EQ(netmem_pool_destroy(opool), 0);
	CHECK_EQ(cb_calls, 1);
	CHECK_EQ(hook_calls, 1);
	netmem_provider_destroy(prov);
	netmem_provider_destroy(other);
	return t_done();
}
