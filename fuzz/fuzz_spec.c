/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: provider spec strings. The input (up to its first NUL,
 * at most 512 bytes) is tried as a whole spec and as the argument string of
 * every registered provider type ("NAME:" + input and "NAME" + input).
 *
 * A spec that is accepted must give a working provider: a small pool on it
 * is created, one chunk allocated, written through the device side, put,
 * the pool destroyed, and then no area of the provider may remain. A spec
 * that is refused must set errno to EINVAL, ENOENT, EBADF, ENODEV or ENOMEM
 * and leave a non-empty netmem_last_error(). Pool creation on an accepted
 * provider follows the same rule, with ENOSPC also allowed (a provider's
 * size limit, as memfd documents). Leaks are found by LeakSanitizer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_spec: %s:%d: assertion failed: %s\n", __FILE__,      \
				__LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define MAXSPEC	 512
#define MAXTYPES 32

static const char *types[MAXTYPES];
static unsigned nr_types;

static void collect(const struct netmem_provider_ops *ops, void *arg)
{
	(void)arg;
	if (nr_types < MAXTYPES)
		types[nr_types++] = ops->name;
}

static int allowed_errno(int e)
{
	return e == EINVAL || e == ENOENT || e == EBADF || e == ENODEV || e == ENOMEM;
}

/* A pool may also be refused for want of room in a provider with a size
 * limit (memfd:size=, devsim's range): ENOSPC, as those providers document. */
static void check_refusal(const char *what, const char *spec, int pool)
{
	int e = errno;

	if (!(allowed_errno(e) || (pool && e == ENOSPC)) || !netmem_last_error()[0]) {
		fprintf(stderr, "fuzz_spec: %s '%s': errno %d (%s), reason '%s'\n", what, spec, e,
			strerror(e), netmem_last_error());
		abort();
	}
}

static void try_spec(const char *spec)
{
	struct netmem_provider *p;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;

	netmem_set_error("%s", "");
	errno = 0;
	p = netmem_provider_create(spec);
	if (!p) {
		check_refusal("spec", spec, 0);
		return;
	}
	ASSERT(netmem_provider_default_order(p) >= 0 &&
	       netmem_provider_default_order(p) <= NETMEM_MAX_ORDER);
	ASSERT(netmem_provider_nr_areas(p) == 0);
	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 4;
	pp.ring_size = 4;
	netmem_set_error("%s", "");
	errno = 0;
	pool = netmem_pool_create(&pp);
	if (!pool) {
		check_refusal("pool on spec", spec, 1);
	} else {
		struct netmem_pool_stats st;
		uint64_t tag = 0x6e65746d656d2121ull, back = 0;
		netmem_t h;

		/* Before any allocation: fault:revoke= may revoke in one, and an
		 * area with nothing out is unmapped at revoke. */
		ASSERT(netmem_provider_nr_areas(p) == 1);
		h = netmem_pool_alloc_direct(pool);
		ASSERT(h || errno == ENOMEM || errno == ENODEV);
		if (h) {
			int ret = netmem_dev_write(h, netmem_size(h) - 8, &tag, 8);

			ASSERT(ret == 0 || ret == -EIO);
			if (ret == 0 && netmem_dev_read(h, netmem_size(h) - 8, &back, 8) == 0)
				ASSERT(back == tag);
			netmem_put(h);
		}
		ASSERT(netmem_pool_stats(pool, &st) == 0);
		ASSERT(st.in_flight == 0 && st.bad_put == 0);
		ASSERT(st.provider_free + st.cached + st.in_ring == st.nr_chunks);
		ASSERT(netmem_pool_destroy(pool) == 0);
	}
	ASSERT(netmem_provider_nr_areas(p) == 0);
	netmem_provider_destroy(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	netmem_provider_foreach(collect, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char arg[MAXSPEC + 1], spec[MAXSPEC + 40];
	size_t n = size < MAXSPEC ? size : MAXSPEC;

	memcpy(arg, data, n);
	arg[n] = 0; /* the spec is the input up to its first NUL */
	try_spec(arg);
	for (unsigned i = 0; i < nr_types; i++) {
		snprintf(spec, sizeof(spec), "%s:%s", types[i], arg);
		try_spec(spec);
		snprintf(spec, sizeof(spec), "%s%s", types[i], arg);
		try_spec(spec);
	}
	return 0;
}
