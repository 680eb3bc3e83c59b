/* Debug build: a double put, a stale handle, a put to the wrong pool and a
 * fragment put twice by another thread each abort with a clear message
 * (checked in a child process). */
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

/* Another thread puts a fragment of the chunk being carved twice: the bias
 * hides it until the chunk is retired (here by destroy), which must report
 * it, not leak the chunk silently. */
#include <pthread.h>

static netmem_t frags[2];

static void *put_three(void *arg)
{
	(void)arg;
	netmem_put(frags[0]);
	netmem_put(frags[1]);
	netmem_put(frags[0]);
	return NULL;
}

static void remote_frag_double_put(void)
{
	struct netmem_pool *pool = new_pool();
	uint32_t off;
	pthread_t t;

	frags[0] = netmem_pool_alloc_frag_direct(pool, 1000, &off);
	frags[1] = netmem_pool_alloc_frag_direct(pool, 1000, &off);
	if (pthread_create(&t, NULL, put_three, NULL) || pthread_join(t, NULL))
		_exit(3);
	netmem_pool_destroy(pool);
}

int main(void)
{
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	t_expect_abort(double_put, "double put", "stale handle");
	t_expect_abort(stale_after_reuse, "stale handle", "stale handle");
	t_expect_abort(wrong_pool, "wrong pool", "another pool");
	t_expect_abort(remote_double_put, "double put after destroy", "stale handle");
	t_expect_abort(remote_frag_double_put, "fragment put twice by another thread",
		       "underflow");
	netmem_provider_destroy(prov);
	return t_done();
}
