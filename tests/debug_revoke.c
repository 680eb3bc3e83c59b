/* Debug build, revoked memory: putting a revoked handle twice, putting it
 * after its chunk went back to the provider, or putting it to another pool
 * aborts with a clear message (child processes check the abort and the
 * message); a waiting destroy reports which handles are still out. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "netmem/netmem.h"

static struct netmem_pool *new_pool(struct netmem_provider *p)
{
	struct netmem_pool_params pp;

	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 16;
	return netmem_pool_create(&pp);
}

static void revoked_double_put(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_pool *pool = new_pool(p);
	netmem_t h = netmem_pool_alloc_direct(pool);
	netmem_t keep = netmem_pool_alloc_direct(pool);

	(void)keep;
	netmem_provider_revoke(p);
	netmem_pool_poll(pool);
	netmem_put(h); /* allowed: frees the chunk */
	netmem_put(h); /* stale */
}

static void revoked_fragment_overput(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_pool *pool = new_pool(p);
	uint32_t off;
	netmem_t f = netmem_pool_alloc_frag_direct(pool, 100, &off);
	netmem_t keep = netmem_pool_alloc_direct(pool);

	(void)keep;
	netmem_provider_revoke(p);
	netmem_pool_poll(pool); /* retires the carved chunk: one reference left */
	netmem_put(f);
	netmem_put(f);
}

static void revoked_wrong_pool(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_pool *a = new_pool(p), *b = new_pool(p);
	netmem_t h = netmem_pool_alloc_direct(a);

	netmem_provider_revoke(p);
	netmem_pool_put_direct(b, h);
}

static void report(void)
{
	struct netmem_provider *p = netmem_provider_create("host");
	struct netmem_pool *pool = new_pool(p);
	netmem_t h = netmem_pool_alloc_direct(pool);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	char hex[32];

	REQUIRE(f && h);
	netmem_provider_revoke(p);
	CHECK_EQ(netmem_pool_destroy(pool), 1);
	CHECK_EQ(netmem_pool_report_inflight(pool, f, 1), 1);
	fclose(f);
	printf("%s", text);
	snprintf(hex, sizeof(hex), "0x%016" PRIx64, h);
	CHECK(strstr(text, hex) != NULL);
	CHECK(strstr(text, "provider host") != NULL);
	CHECK(strstr(text, "1 chunk in flight") != NULL);
	free(text);
	netmem_put(h);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
}

int main(void)
{
	t_expect_abort(revoked_double_put, "revoked double put", "stale handle");
	t_expect_abort(revoked_fragment_overput, "revoked fragment put twice", "stale handle");
	t_expect_abort(revoked_wrong_pool, "revoked, wrong pool", "another pool");
	report();
	return t_done();
}
