/* Every public function called with NULL, zero, oversized or unknown
 * arguments returns its documented error and changes nothing. */
#include "harness.h"
#include "netmem/netmem.h"

static unsigned dummy_take(struct netmem_provider *p, const struct netmem_area_spec *s,
			   uint32_t *idx, unsigned n)
{
	return 0;
}

static void dummy_give(struct netmem_provider *p, const struct netmem_area_spec *s,
		       const uint32_t *idx, unsigned n)
{
}

/* A provider that manages its free space badly: its first take returns
 * chunk 0, an index past the area, and chunk 1; later ones nothing. */
static unsigned bad_take_calls, given_back, given_times, dup_mode;

static unsigned bad_take(struct netmem_provider *p, const struct netmem_area_spec *s,
			 uint32_t *idx, unsigned n)
{
	if (n < 4)
		return 0;
	if (dup_mode) {
		/* chunk 0 twice, then chunk 1, chunk 2 twice; next time
		 * chunk 0 again, though it is out */
		if (bad_take_calls++ == 0) {
			memcpy(idx, (const uint32_t[]){ 0, 0, 1, 2, 2 }, 5 * sizeof(*idx));
			return n < 5 ? 0 : 5;
		}
		idx[0] = 0;
		return bad_take_calls == 2 ? 1 : 0;
	}
	if (bad_take_calls++)
		return 0;
	idx[0] = 0;
	idx[1] = (uint32_t)s->nr_chunks;
	idx[2] = 1;
	return 3;
}

static void bad_give(struct netmem_provider *p, const struct netmem_area_spec *s,
		     const uint32_t *idx, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		given_back |= 1u << idx[i];
		given_times++;
	}
}

/* The bad index never reaches a descriptor: chunk 0 is taken, chunk 1
 * given back at once, and chunk 0 given back at destroy. */
static void bad_provider_take(void)
{
	static struct netmem_provider_ops ops; /* registered: must outlive us */
	struct netmem_pool_params pp;
	struct netmem_provider *p;
	struct netmem_pool *pool;
	netmem_t h;

	ops = *netmem_provider_lookup("host");
	ops.name = "bad_take";
	ops.alloc_bulk = bad_take;
	ops.release_bulk = bad_give;
	REQUIRE(netmem_provider_register(&ops) == 0);
	p = netmem_provider_create("bad_take");
	REQUIRE(p);
	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 4;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	h = netmem_pool_alloc_direct(pool);
	CHECK(h != 0);
	CHECK_EQ(given_back, 1u << 1);
	CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM);
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(given_back, (1u << 0) | (1u << 1));
	CHECK_EQ(netmem_provider_nr_areas(p), 0);

	/* Indices of chunks that are not free (twice in a batch, or out)
	 * are bad too: one chunk is never handed to two users, nor given
	 * back twice. */
	dup_mode = 1;
	bad_take_calls = 0;
	given_back = 0;
	given_times = 0;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	h = netmem_pool_alloc_direct(pool);
	CHECK(h != 0);
	CHECK_EQ(given_back, (1u << 1) | (1u << 2));
	CHECK_EQ(given_times, 2); /* once each */
	CHECK(netmem_pool_alloc_direct(pool) == 0 && errno == ENOMEM); /* 0 again: refused */
	netmem_put(h);
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	CHECK_EQ(netmem_provider_nr_areas(p), 0);
	netmem_provider_destroy(p);
}

static int silent_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	return -ENOMEM; /* no netmem_set_error() */
}

static int silent_init(struct netmem_provider *p, const char *args)
{
	return *args ? -EINVAL : 0; /* no netmem_set_error() */
}

/* A provider that fails without saying why: the message names the
 * operation, not an older failure's text. */
static void silent_provider(void)
{
	static struct netmem_provider_ops ops; /* registered: must outlive us */
	struct netmem_pool_params pp;
	struct netmem_provider *p;

	ops = *netmem_provider_lookup("host");
	ops.name = "silent";
	ops.init = silent_init;
	ops.fini = NULL;
	ops.area_create = silent_area_create;
	REQUIRE(netmem_provider_register(&ops) == 0);
	CHECK(netmem_provider_create("nosuch") == NULL); /* an older message */
	CHECK(netmem_provider_create("silent:x=1") == NULL && errno == EINVAL);
	CHECK(strstr(netmem_last_error(), "silent: init failed") != NULL);
	CHECK(netmem_provider_create("nosuch") == NULL);
	p = netmem_provider_create("silent");
	REQUIRE(p);
	/* a success leaves the last failure's text alone */
	CHECK(strstr(netmem_last_error(), "nosuch") != NULL);
	netmem_pool_params_init(&pp, p);
	CHECK(netmem_pool_create(&pp) == NULL && errno == ENOMEM);
	CHECK(strstr(netmem_last_error(), "silent: area_create failed") != NULL);
	netmem_provider_destroy(p);
}

int main(void)
{
	struct netmem_provider *prov;
	struct netmem_pool_params pp;
	struct netmem_pool *pool;
	struct netmem_pool_stats before, after;
	const char *bad_specs[] = { "", ":", "host:", "host:order", "host:order=", "host:=3",
				    "host:order=10", "host:order=-1", "host:order=x",
				    "host:order=1,", "host:bogus=1", "host:thp=2",
				    "nosuch", "nosuch:order=1", "host:order=1,,thp=0" };
	uint64_t v;

	/* specs */
	errno = 0;
	CHECK(netmem_provider_create(NULL) == NULL && errno == EINVAL);
	for (size_t i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		errno = 0;
		prov = netmem_provider_create(bad_specs[i]);
		CHECK(prov == NULL);
		CHECK(errno == (strncmp(bad_specs[i], "nosuch", 6) ? EINVAL : ENOENT));
		CHECK(netmem_last_error()[0] != 0);
		printf("'%s': %s\n", bad_specs[i], netmem_last_error());
	}
	{
		unsigned long u = 99;

		CHECK_EQ(netmem_spec_uint("p", "k", "10", 10, &u), 0);
		CHECK_EQ(u, 10);
		CHECK_EQ(netmem_spec_uint("p", "k", "007", 10, &u), 0);
		CHECK_EQ(u, 7);
		u = 99;
		CHECK_EQ(netmem_spec_uint("p", "k", "11", 10, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint("p", "k", "5", 1, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint("p", "k", "", 10, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint("p", "k", "+1", 10, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint("p", "k", " 1", 10, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint("p", "k", "99999999999999999999999", ~0UL, &u), -EINVAL);
		CHECK_EQ(netmem_spec_uint(NULL, "k", "1", 10, &u), -EINVAL);
		CHECK_EQ(u, 99); /* failures leave *out alone */
		CHECK(strstr(netmem_last_error(), "'99999999999999999999999' is not 0..") != NULL);
	}
	CHECK_EQ(netmem_parse_size("64M", &v), 0);
	CHECK_EQ(v, 64 << 20);
	/* Decimal only: a leading 0 is not octal, 0x not hex. */
	CHECK_EQ(netmem_parse_size("010M", &v), 0);
	CHECK_EQ(v, 10 << 20);
	CHECK_EQ(netmem_parse_size("08", &v), 0);
	CHECK_EQ(v, 8);
	CHECK_EQ(netmem_parse_size("0x10K", &v), -EINVAL);
	CHECK_EQ(netmem_parse_size("12Q", &v), -EINVAL);
	CHECK_EQ(netmem_parse_size("", &v), -EINVAL);
	CHECK_EQ(netmem_parse_size(NULL, &v), -EINVAL);

	/* registration */
	CHECK_EQ(netmem_provider_register(NULL), -EINVAL);
	{
		struct netmem_provider_ops ops = { .size = sizeof(ops), .name = "incomplete" };

		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		CHECK(netmem_provider_lookup("incomplete") == NULL);
		ops = *netmem_provider_lookup("host");
		CHECK_EQ(netmem_provider_register(&ops), -EEXIST);
		ops.size = 3;
		ops.name = "tiny";
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		ops.size = sizeof(ops);
		ops.name = "bad name";
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		ops.name = "";
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		/* Free-space operations come as a pair. */
		ops.name = "half_free_space";
		ops.alloc_bulk = dummy_take;
		ops.release_bulk = NULL;
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		CHECK(strstr(netmem_last_error(), "go together") != NULL);
		ops.alloc_bulk = NULL;
		ops.release_bulk = dummy_give;
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		CHECK(netmem_provider_lookup("half_free_space") == NULL);
		/* A default order past the largest is refused, not replaced. */
		ops.alloc_bulk = NULL;
		ops.release_bulk = NULL;
		ops.name = "order_ten";
		ops.default_order = NETMEM_MAX_ORDER + 1;
		CHECK_EQ(netmem_provider_register(&ops), -EINVAL);
		CHECK(strstr(netmem_last_error(), "default_order") != NULL);
		CHECK(netmem_provider_lookup("order_ten") == NULL);
	}
	{
		/* A table of the first version, ending before default_order, in
		 * a block of exactly its size (the address sanitizer sees any
		 * read past it): registered, used, order 0. It stays
		 * registered, so it is never freed. */
		size_t n = offsetof(struct netmem_provider_ops, default_order);
		struct netmem_provider_ops full = *netmem_provider_lookup("host");
		unsigned char *t = malloc(n);
		struct netmem_provider *sp;

		REQUIRE(t);
		full.size = n;
		full.name = "short_table";
		memcpy(t, &full, n);
		CHECK_EQ(netmem_provider_register((const struct netmem_provider_ops *)(void *)t), 0);
		sp = netmem_provider_create("short_table");
		CHECK(sp != NULL);
		if (sp) {
			CHECK_EQ(netmem_provider_default_order(sp), 0);
			netmem_provider_destroy(sp);
		}
	}
	CHECK(netmem_provider_lookup(NULL) == NULL);
	CHECK(netmem_provider_lookup("nosuch") == NULL);
	CHECK_EQ(netmem_provider_revoke(NULL), -EINVAL);
	CHECK_EQ(netmem_provider_is_revoked(NULL), -EINVAL);
	CHECK_EQ(netmem_provider_set_default_order(NULL, 1), -EINVAL);
	netmem_provider_destroy(NULL);

	/* pools */
	prov = netmem_provider_create("host");
	REQUIRE(prov);
	CHECK_EQ(netmem_provider_set_default_order(prov, 10), -EINVAL);
	CHECK_EQ(netmem_provider_default_order(prov), 0);
	errno = 0;
	CHECK(netmem_pool_create(NULL) == NULL && errno == EINVAL);
	netmem_pool_params_init(&pp, NULL);
	errno = 0;
	CHECK(netmem_pool_create(&pp) == NULL && errno == EINVAL);
	{
		struct { const char *what; struct netmem_pool_params p; } bad[] = {
			{ "size 0", { .size = 0, .provider = prov } },
			{ "size huge", { .size = 4096, .provider = prov } },
			/* between versions: half of on_revoke */
			{ "size torn", { .size = offsetof(struct netmem_pool_params, on_revoke) + 4,
					 .provider = prov } },
			{ "order 10", { .size = sizeof(pp), .provider = prov, .order = 10 } },
			{ "order -2", { .size = sizeof(pp), .provider = prov, .order = -2 } },
			{ "ring 3", { .size = sizeof(pp), .provider = prov, .ring_size = 3 } },
			{ "align 48", { .size = sizeof(pp), .provider = prov, .frag_align = 48 } },
			{ "align > chunk", { .size = sizeof(pp), .provider = prov, .frag_align = 8192 } },
			{ "chunks 2^25", { .size = sizeof(pp), .provider = prov, .nr_chunks = 1u << 25 } },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			errno = 0;
			CHECK(netmem_pool_create(&bad[i].p) == NULL);
			if (errno != EINVAL)
				fprintf(stderr, "%s: errno %d\n", bad[i].what, errno);
			CHECK_EQ(errno, EINVAL);
		}
	}
	CHECK_EQ(netmem_provider_nr_areas(prov), 0); /* nothing half-made */
	netmem_pool_params_init(&pp, prov);
	pp.nr_chunks = 64;
	pool = netmem_pool_create(&pp);
	REQUIRE(pool);
	CHECK_EQ(netmem_pool_destroy(NULL), -EINVAL);
	CHECK_EQ(netmem_pool_poll(NULL), -EINVAL);
	CHECK_EQ(netmem_pool_set_owner(NULL), -EINVAL);
	CHECK_EQ(netmem_pool_stats(NULL, &before), -EINVAL);
	CHECK_EQ(netmem_pool_stats(pool, NULL), -EINVAL);
	CHECK_EQ(netmem_pool_stats_json(pool, NULL), -EINVAL);
	{
		/* A stream that already failed: -EIO, though this write
		 * only reaches its buffer. */
		FILE *full = t_failed_stream();

		REQUIRE(full);
		CHECK_EQ(netmem_pool_stats_json(pool, full), -EIO);
		fclose(full);
	}
	CHECK_EQ(netmem_pool_report_inflight(NULL, NULL, 0), -EINVAL);
	CHECK_EQ(netmem_pool_chunk_size(NULL), 0);
	CHECK(netmem_pool_provider(NULL) == NULL);

	{
		netmem_t h = netmem_pool_alloc_direct(pool), h2;
		uint32_t off = 0;

		REQUIRE(h);
		REQUIRE(netmem_pool_stats(pool, &before) == 0);
		/* bad fragment sizes change nothing */
		errno = 0;
		CHECK_EQ(netmem_pool_alloc_frag_direct(pool, 0, &off), 0);
		CHECK_EQ(errno, EINVAL);
		errno = 0;
		CHECK_EQ(netmem_pool_alloc_frag_direct(pool, 4097, &off), 0);
		CHECK_EQ(errno, EINVAL);
		errno = 0;
		CHECK_EQ(netmem_pool_alloc_frag_direct(pool, 100, NULL), 0);
		CHECK_EQ(errno, EINVAL);
		errno = 0;
		CHECK_EQ(netmem_pool_alloc_bulk_direct(NULL, &h2, 1), 0);
		CHECK_EQ(errno, EINVAL);
		CHECK_EQ(netmem_pool_alloc_bulk_direct(pool, &h2, 0), 0);
		netmem_pool_put_bulk_direct(NULL, &h, 1);
		netmem_pool_put_bulk_direct(pool, NULL, 1);
		netmem_put_bulk(NULL, 4);
		netmem_put(NETMEM_NONE);
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK(memcmp(&before, &after, sizeof(before)) == 0);
		CHECK_EQ(netmem_dev_read(h, 4096, &off, 1), -EINVAL);
		CHECK_EQ(netmem_dev_write(h, 0, NULL, 1), -EINVAL);

		/* release build: a double put is counted and ignored */
		netmem_pool_put_direct(pool, h);
		netmem_pool_put_direct(pool, h);
		netmem_put(h);
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK_EQ(after.bad_put, 2);
		CHECK_EQ(after.in_flight, 0);
		/* the chunk is in the cache exactly once */
		h = netmem_pool_alloc_direct(pool);
		h2 = netmem_pool_alloc_direct(pool);
		CHECK((h & 0xffffffffffff) != (h2 & 0xffffffffffff));
		netmem_put(h);
		netmem_put(h2);
	}
	/* a handle twice in one bulk put: the second is a double put */
	{
		netmem_t b[4];

		REQUIRE(netmem_pool_alloc_bulk_direct(pool, b, 3) == 3);
		b[3] = b[1];
		netmem_pool_put_bulk_direct(pool, b, 4);
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK_EQ(after.bad_put, 3);
		CHECK_EQ(after.in_flight, 0);
		REQUIRE(netmem_pool_alloc_bulk_direct(pool, b, 3) == 3);
		b[3] = b[0];
		netmem_put_bulk(b, 4); /* the any-thread path */
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK_EQ(after.bad_put, 4);
		CHECK_EQ(after.in_flight, 0);
		/* 0 in a bulk put is skipped, not read and not counted */
		REQUIRE(netmem_pool_alloc_bulk_direct(pool, b, 2) == 2);
		b[3] = b[1];
		b[1] = 0;
		b[2] = 0;
		netmem_pool_put_bulk_direct(pool, b, 4);
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK_EQ(after.bad_put, 4);
		CHECK_EQ(after.in_flight, 0);
		/* every chunk is in the cache once: 64 distinct allocations */
		{
			netmem_t all[64];

			REQUIRE(netmem_pool_alloc_bulk_direct(pool, all, 64) == 64);
			for (int i = 0; i < 64; i++)
				for (int j = i + 1; j < 64; j++)
					CHECK((all[i] & 0xffffffffffff) != (all[j] & 0xffffffffffff));
			CHECK_EQ(netmem_pool_alloc_direct(pool), 0);
			netmem_pool_put_bulk_direct(pool, all, 64);
		}
	}
	/* a handle of another pool put directly to this one: counted, ignored */
	{
		struct netmem_pool *other = netmem_pool_create(&pp);
		netmem_t h;

		REQUIRE(other);
		h = netmem_pool_alloc_direct(other);
		REQUIRE(h);
		netmem_pool_put_direct(pool, h);
		REQUIRE(netmem_pool_stats(pool, &after) == 0);
		CHECK_EQ(after.bad_put, 5);
		REQUIRE(netmem_pool_stats(other, &after) == 0);
		CHECK_EQ(after.in_flight, 1);
		netmem_put(h); /* routed to its own pool */
		REQUIRE(netmem_pool_stats(other, &after) == 0);
		CHECK_EQ(after.in_flight, 0);
		CHECK_EQ(netmem_pool_destroy(other), 0);
	}
	CHECK_EQ(netmem_pool_destroy(pool), 0);
	netmem_provider_destroy(prov);
	bad_provider_take();
	silent_provider();
	return t_done();
}
