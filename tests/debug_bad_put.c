/* Debug build: a double put, a stale handle and a put to the wrong pool each
 * abort with a clear message (checked in a child process). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

static struct netmem_provider *prov;

static struct netmem_pool *new_pool(void)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 16;
	return netmem_pool_create(&pp);
}

static void double_put(void)
{
	struct netmem_pool *pool = new_pool();
	netmem_t h = netmem_pool_alloc_direct(pool);

	netmem_pool_put_direct(pool, h);
	netmem_pool_put_direct(pool, h);
}

static void stale_after_reuse(void)
{
	struct netmem_pool *pool = new_pool();
	netmem_t h = netmem_pool_alloc_direct(pool), h2;

	netmem_put(h);
	h2 = netmem_pool_alloc_direct(pool); /* same chunk, new generation */
	(void)h2;
	netmem_put(h);
}

static void wrong_pool(void)
{
	struct netmem_pool *a = new_pool(), *b = new_pool();
	netmem_t h = netmem_pool_alloc_direct(a);

	netmem_pool_put_direct(b, h);
}

static void remote_double_put(void)
{
	struct netmem_pool *pool = new_pool();
	netmem_t h = netmem_pool_alloc_direct(pool);
	netmem_t keep = netmem_pool_alloc_direct(pool); /* keeps the pool alive */

	(void)keep;
	netmem_pool_destroy(pool); /* now every put takes the remote path */
	netmem_put(h);
	netmem_put(h);
}

int main(void)
{
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	t_expect_abort(double_put, "double put", "stale handle");
	t_expect_abort(stale_after_reuse, "stale handle", "stale handle");
	t_expect_abort(wrong_pool, "wrong pool", "another pool");
	t_expect_abort(remote_double_put, "double put after destroy", "stale handle");
	netmem_provider_destroy(prov);
	return t_done();
}
