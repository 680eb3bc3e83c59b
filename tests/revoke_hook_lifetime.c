/* SPDX-License-Identifier: MIT */
/*
 * A provider instance kept alive only by its pool is revoked on one thread
 * (its revoke hook takes a while, as a device teardown does) while another
 * thread destroys the pool, the instance's last holder: the instance is
 * freed (fini) only after the hook has returned, never under it.
 *
 * A second revoke, from another thread while the first one's hook runs,
 * returns only after the hook has stopped device access (as the first
 * does); a hook that revokes its own instance again does not wait for
 * itself.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "harness.h"
#include "netmem/netmem.h"

static _Atomic int in_hook, hook_done, fini_under_hook, fini_calls, reenter;

static int slow_init(struct netmem_provider *p, const char *args)
{
	(void)args;
	netmem_provider_set_priv(p, calloc(1, sizeof(int)));
	return netmem_provider_priv(p) ? 0 : -ENOMEM;
}

static void slow_fini(struct netmem_provider *p)
{
	fini_under_hook += atomic_load(&in_hook);
	fini_calls++;
	free(netmem_provider_priv(p));
}

static int slow_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	(void)p;
	s->cpu_base = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	return s->cpu_base == MAP_FAILED ? -ENOMEM : 0;
}

static void slow_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	(void)p;
	munmap(s->cpu_base, s->size);
}

static uint64_t slow_dma(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off)
{
	(void)p;
	(void)s;
	return off;
}

static int slow_write(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		      const void *src, size_t len)
{
	memcpy((char *)s->cpu_base + off, src, len);
	(void)p;
	return 0;
}

/* The device's teardown: slow, and it uses the instance's own state. */
static void slow_revoke(struct netmem_provider *p)
{
	atomic_store(&in_hook, 1);
	if (atomic_load(&reenter))
		CHECK_EQ(netmem_provider_revoke(p), 0); /* must not deadlock */
	usleep(100000);
	*(int *)netmem_provider_priv(p) = 1;
	atomic_store(&in_hook, 0);
	atomic_store(&hook_done, 1);
}

static const struct netmem_provider_ops slow_ops = {
    .size = sizeof(slow_ops),
    .name = "slow_revoke",
    .init = slow_init,
    .fini = slow_fini,
    .area_create = slow_area_create,
    .area_destroy = slow_area_destroy,
    .dma_addr = slow_dma,
    .write = slow_write,
    .revoke = slow_revoke,
};

static struct netmem_provider *prov;

static void *revoker(void *arg)
{
	(void)arg;
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	return NULL;
}

int main(void)
{
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	pthread_t thr;

	REQUIRE(netmem_provider_register(&slow_ops) == 0);
	prov = netmem_provider_create("slow_revoke");
	REQUIRE(prov);
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 4;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	/* The caller's reference goes: the pool's area keeps the instance. */
	netmem_provider_destroy(prov);
	REQUIRE(pthread_create(&thr, NULL, revoker, NULL) == 0);
	while (!atomic_load(&in_hook) && !atomic_load(&hook_done))
		usleep(1000);
	/* The last holder goes while the hook runs. */
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	pthread_join(thr, NULL);
	printf("hook done %d, fini calls %d, of them under the hook %d\n", atomic_load(&hook_done),
	       atomic_load(&fini_calls), atomic_load(&fini_under_hook));
	CHECK_EQ(atomic_load(&hook_done), 1);
	CHECK_EQ(atomic_load(&fini_calls), 1);
	CHECK_EQ(atomic_load(&fini_under_hook), 0);

	/* Two revokes: the later caller waits for the first one's hook. */
	atomic_store(&hook_done, 0);
	atomic_store(&reenter, 1);
	prov = netmem_provider_create("slow_revoke");
	REQUIRE(prov);
	REQUIRE(pthread_create(&thr, NULL, revoker, NULL) == 0);
	while (!atomic_load(&in_hook) && !atomic_load(&hook_done))
		usleep(1000);
	CHECK_EQ(netmem_provider_revoke(prov), 0);
	CHECK_EQ(atomic_load(&hook_done), 1);
	pthread_join(thr, NULL);
	netmem_provider_destroy(prov);
	CHECK_EQ(atomic_load(&fini_calls), 2);
	return t_done();
}
