/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the public pool API driven by byte-coded sequences of
 * operations. Each input byte picks an operation, the following bytes its
 * arguments: create providers (host, fault-wrapped host, and memfd/devsim
 * when registered) and pools on them; allocate chunks, bulk and fragments;
 * put them from the owner, in bulk, and from a second thread (through the
 * recycle ring, or as the pool's temporary owner); revoke, poll, destroy
 * with chunks out; deliberate bad puts and bad arguments.
 *
 * After every operation it checks, for every live pool, that the stats
 * conserve chunks (provider_free + cached + in_ring + in_flight ==
 * nr_chunks), that in_flight is exactly the number of chunks the harness
 * holds (plus the one being carved into fragments), that bad_put equals the
 * number of deliberately bad puts, that a pool that noticed its revocation
 * holds nothing and hands nothing out, that fragments never overlap and that
 * bytes written through the device side read back unchanged. At the end it
 * gives everything back and checks that every area of every provider is
 * gone. Any violation aborts (a crash for libFuzzer); leaks are found by
 * LeakSanitizer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"

#define NPROV	4
#define NPOOL	4
#define NGRAVE	24
#define MAXHELD 512
#define MAXOPS	3000

#define ASSERT(c)                                                                                  \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_api: %s:%d: assertion failed: %s\n", __FILE__,       \
				__LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* ---- input ------------------------------------------------------------ */

struct input {
	const uint8_t *d;
	size_t n, i;
};

static uint8_t get8(struct input *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static uint16_t get16(struct input *in)
{
	uint16_t v = get8(in);

	return (uint16_t)(v | get8(in) << 8);
}

/* ---- the model -------------------------------------------------------- */

struct prov_slot {
	struct netmem_provider *p;
	bool faulty;
};

struct pool_slot {
	struct netmem_pool *pool;
	int prov;	   /* provider slot it was made from (informational) */
	bool faulty;	   /* its provider may revoke itself from another thread */
	uint64_t bad;	   /* deliberately bad puts */
	netmem_t carve;	   /* handle of the last fragment's chunk */
	netmem_t stale;	   /* a whole-chunk handle already put */
	bool seen_revoked; /* the pool told us it noticed the revocation */
	uint32_t chunk;
	uint64_t distinct; /* distinct chunks the harness holds */
};

struct item {
	netmem_t h;
	int pool;	   /* pool slot, -1 once that pool was destroyed */
	uint32_t off, len; /* the bytes this holder owns */
	bool frag;
	bool tagged; /* a tag was written at off */
	uint64_t tag;
};

static struct prov_slot provs[NPROV];
static struct netmem_provider *grave[NGRAVE];
static unsigned nr_grave;
static struct pool_slot pools[NPOOL];
static struct item held[MAXHELD];
static unsigned nr_held;
static uint64_t next_tag;
static FILE *devnull;
static int trace; /* FUZZ_API_TRACE=1: print each operation */

/* ---- a second thread, fed one job at a time --------------------------- */

enum { JOB_NONE, JOB_PUT, JOB_PUT_BULK, JOB_OWN_ALLOC, JOB_OWN_PUT, JOB_STALE_PUT };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int job; /* JOB_NONE when idle */
	struct netmem_pool *pool;
	netmem_t h[MAXHELD];
	unsigned n, got;
	int err;
} helper = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static void *helper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&helper.lock);
	for (;;) {
		while (helper.job == JOB_NONE)
			pthread_cond_wait(&helper.cond, &helper.lock);
		switch (helper.job) {
		case JOB_PUT:
		case JOB_STALE_PUT:
			for (unsigned i = 0; i < helper.n; i++)
				netmem_put(helper.h[i]);
			break;
		case JOB_PUT_BULK:
			netmem_put_bulk(helper.h, helper.n);
			break;
		case JOB_OWN_ALLOC:
			ASSERT(netmem_pool_set_owner(helper.pool) == 0);
			helper.got = netmem_pool_alloc_bulk_direct(helper.pool, helper.h, helper.n);
			helper.err = errno;
			break;
		case JOB_OWN_PUT:
			ASSERT(netmem_pool_set_owner(helper.pool) == 0);
			for (unsigned i = 0; i < helper.n; i++)
				netmem_put(helper.h[i]);
			break;
		}
		helper.job = JOB_NONE;
		pthread_cond_broadcast(&helper.cond);
	}
	return NULL;
}

/* Run one job on the helper thread and wait for it: deterministic. */
static void run_job(int job, struct netmem_pool *pool, unsigned n)
{
	pthread_mutex_lock(&helper.lock);
	helper.job = job;
	helper.pool = pool;
	helper.n = n;
	helper.got = 0;
	pthread_cond_broadcast(&helper.cond);
	while (helper.job != JOB_NONE)
		pthread_cond_wait(&helper.cond, &helper.lock);
	pthread_mutex_unlock(&helper.lock);
}

/* ---- helpers ------------------------------------------------------------ */

static const char *const prov_specs[] = {
    "host",
    "host:order=2",
    "fault:every=3,short=2,seed=%u,inner=host",
    "fault:fail=4,revoke=48,wfail=5,seed=%u,inner=host:order=1",
    "memfd",
    "devsim",
    "fault:short=1,revoke=64,seed=%u,inner=devsim",
    "fault:every=5,seed=%u,inner=memfd",
    "memfd:size=256K",
    "fault:area=3,short=3,seed=%u,inner=host",
    "hugetlb",
    "devsim:order=1",
};

static bool spec_available(const char *spec)
{
	const char *inner = strstr(spec, "inner=");
	char name[16];
	size_t n;

	if (inner)
		spec = inner + 6;
	n = strcspn(spec, ":");
	if (n >= sizeof(name))
		return false;
	memcpy(name, spec, n);
	name[n] = 0;
	return netmem_provider_lookup(name) != NULL;
}

static bool is_desc(netmem_t a, netmem_t b)
{
	return ((a ^ b) & ((UINT64_C(1) << 48) - 1)) == 0;
}

static bool holds_handle(netmem_t h)
{
	for (unsigned i = 0; i < nr_held; i++)
		if (held[i].h == h)
			return true;
	return false;
}

static void item_remove(unsigned i)
{
	struct item it = held[i];

	held[i] = held[--nr_held];
	if (it.pool >= 0 && (!it.frag || !holds_handle(it.h)))
		pools[it.pool].distinct--;
}

/* Write the holder's tag through the device side, when it fits. */
static void tag_item(struct item *it)
{
	int ret;

	it->tagged = false;
	if (it->len < 8)
		return;
	it->tag = ++next_tag;
	ret = netmem_dev_write(it->h, it->off, &it->tag, 8);
	ASSERT(ret == 0 || ret == -ENODEV || ret == -EIO);
	it->tagged = ret == 0;
}

/* Before a put: the tag must still be there (nobody else got our bytes). */
static void verify_item(const struct item *it)
{
	uint64_t v = 0;
	char *cpu;
	int ret;

	if (!it->tagged)
		return;
	ret = netmem_dev_read(it->h, it->off, &v, 8);
	ASSERT(ret == 0 || ret == -ENODEV || ret == -EOPNOTSUPP);
	if (ret == 0)
		ASSERT(v == it->tag);
	/* One load: a fault provider may revoke between two. */
	cpu = netmem_address(it->h);
	if (ret == 0 && cpu)
		ASSERT(!memcmp(cpu + it->off, &it->tag, 8));
}

static void add_item(int ps, netmem_t h, bool frag, uint32_t off, uint32_t len)
{
	struct item *it;
	bool shared = false;

	ASSERT(h != 0);
	ASSERT(!pools[ps].seen_revoked);
	ASSERT(netmem_pool_of(h) == pools[ps].pool);
	ASSERT(netmem_size(h) == pools[ps].chunk);
	for (unsigned i = 0; i < nr_held; i++) {
		if (!is_desc(held[i].h, h))
			continue;
		/* The same chunk twice: only as fragments that do not overlap. */
		ASSERT(frag && held[i].frag && held[i].h == h);
		ASSERT(off + len <= held[i].off || held[i].off + held[i].len <= off);
		shared = true;
	}
	if (!shared)
		pools[ps].distinct++;
	ASSERT(nr_held < MAXHELD);
	it = &held[nr_held++];
	*it = (struct item){.h = h, .pool = ps, .off = off, .len = len, .frag = frag};
	tag_item(it);
}

static void check_pool(int ps)
{
	struct pool_slot *s = &pools[ps];
	struct netmem_pool_stats st;
	uint64_t carving, expect;

	ASSERT(netmem_pool_stats(s->pool, &st) == 0);
	if (trace) {
		fprintf(stderr, "  pool %d: distinct %llu ", ps, (unsigned long long)s->distinct);
		netmem_pool_stats_json(s->pool, stderr);
		fprintf(stderr, "\n");
	}
	ASSERT(st.provider_free <= st.nr_chunks && st.cached <= st.nr_chunks &&
	       st.in_ring <= st.nr_chunks && st.in_flight <= st.nr_chunks);
	ASSERT(st.provider_free + st.cached + st.in_ring + st.in_flight == st.nr_chunks);
	ASSERT(st.frag_chunks >= st.frag_retired);
	carving = st.frag_chunks - st.frag_retired;
	ASSERT(carving <= 1);
	ASSERT(!carving || s->carve);
	expect = s->distinct + (carving && !holds_handle(s->carve));
	if (st.in_flight != expect)
		fprintf(stderr,
			"fuzz_api: pool %d: in_flight %llu, harness holds %llu (carving %llu)\n",
			ps, (unsigned long long)st.in_flight, (unsigned long long)expect,
			(unsigned long long)carving);
	ASSERT(st.in_flight == expect);
	ASSERT(st.bad_put == s->bad);
	ASSERT(st.chunk_size == s->chunk);
	if (s->seen_revoked) {
		ASSERT(st.revoked);
		ASSERT(st.cached == 0 && st.in_ring == 0 && carving == 0);
	}
	ASSERT(st.destroying == 0);
}

static void check_all(void)
{
	for (int i = 0; i < NPOOL; i++)
		if (pools[i].pool)
			check_pool(i);
}

static int pick_pool(struct input *in)
{
	int ps = get8(in) % NPOOL;

	return pools[ps].pool ? ps : -1;
}

static void note_alloc_error(int ps, int err)
{
	ASSERT(err == ENOMEM || err == ENODEV);
	if (err == ENODEV)
		pools[ps].seen_revoked = true;
}

/* Put item i from the main thread (the owner of every live pool). */
static void put_item(unsigned i, bool direct)
{
	struct item it = held[i];

	verify_item(&it);
	item_remove(i);
	if (direct && it.pool >= 0)
		netmem_pool_put_direct(pools[it.pool].pool, it.h);
	else
		netmem_put(it.h);
	if (!it.frag && it.pool >= 0)
		pools[it.pool].stale = it.h;
}

/* ---- operations -------------------------------------------------------- */

static void op_prov_create(struct input *in)
{
	int slot = get8(in) % NPROV;
	unsigned k = get8(in) % (sizeof(prov_specs) / sizeof(prov_specs[0]));
	char spec[128];

	if (provs[slot].p || !spec_available(prov_specs[k]))
		return;
	snprintf(spec, sizeof(spec), prov_specs[k], (unsigned)get8(in));
	provs[slot].p = netmem_provider_create(spec);
	if (!provs[slot].p)
		fprintf(stderr, "fuzz_api: '%s': %s\n", spec, netmem_last_error());
	ASSERT(provs[slot].p);
	provs[slot].faulty = !strncmp(spec, "fault", 5);
}

/* Drop a provider slot; the instance is destroyed at the end, after its
 * areas are checked. */
static void op_prov_retire(struct input *in)
{
	int slot = get8(in) % NPROV;

	if (!provs[slot].p || nr_grave == NGRAVE)
		return;
	grave[nr_grave++] = provs[slot].p;
	provs[slot].p = NULL;
}

static void op_pool_create(struct input *in)
{
	int ps = get8(in) % NPOOL, pv = get8(in) % NPROV;
	uint8_t a = get8(in), b = get8(in), c = get8(in);
	struct netmem_pool_params pp;
	struct netmem_provider *p = provs[pv].p;
	int revoked;

	if (pools[ps].pool || !p)
		return;
	netmem_pool_params_init(&pp, p);
	pp.nr_chunks = 1 + a % 64;
	pp.order = b % 5 == 4 ? NETMEM_ORDER_DEFAULT : b % 5;
	pp.ring_size = 1u << (c % 8);
	pp.frag_align = (c >> 3) % 4 ? 0 : 1u << ((c >> 5) % 7);
	revoked = netmem_provider_is_revoked(p);
	errno = 0;
	pools[ps] = (struct pool_slot){.pool = netmem_pool_create(&pp), .prov = pv};
	if (!pools[ps].pool) {
		/* A fault provider revokes itself from a thread it starts: that
		 * revocation may land after the check above. */
		ASSERT(errno == ENODEV || errno == ENOMEM || errno == ENOSPC);
		ASSERT(!revoked || errno == ENODEV);
		ASSERT(errno != ENODEV || revoked || provs[pv].faulty);
		ASSERT(netmem_last_error()[0]);
		return;
	}
	ASSERT(!revoked);
	pools[ps].faulty = provs[pv].faulty;
	pools[ps].chunk = netmem_pool_chunk_size(pools[ps].pool);
	ASSERT(pools[ps].chunk ==
	       (uint32_t)4096 << (pp.order < 0 ? netmem_provider_default_order(p) : pp.order));
}

static void op_alloc(struct input *in)
{
	int ps = pick_pool(in);
	netmem_t h;

	if (ps < 0 || nr_held == MAXHELD)
		return;
	h = netmem_pool_alloc_direct(pools[ps].pool);
	if (!h) {
		note_alloc_error(ps, errno);
		return;
	}
	add_item(ps, h, false, 0, pools[ps].chunk);
}

static void op_alloc_bulk(struct input *in)
{
	int ps = pick_pool(in);
	unsigned n = get8(in) % 80, got;
	netmem_t out[80];
	int err;

	if (ps < 0)
		return;
	if (n > MAXHELD - nr_held)
		n = MAXHELD - nr_held;
	errno = 0;
	got = netmem_pool_alloc_bulk_direct(pools[ps].pool, out, n);
	ASSERT(got <= n);
	err = errno;
	/* Chunks from the cache come out before the slow path notices a
	 * revocation: add them first. */
	for (unsigned i = 0; i < got; i++)
		add_item(ps, out[i], false, 0, pools[ps].chunk);
	if (got < n)
		note_alloc_error(ps, err);
}

static void op_alloc_frag(struct input *in)
{
	int ps = pick_pool(in);
	uint32_t size = get16(in), off = UINT32_MAX;
	netmem_t h;

	if (ps < 0 || nr_held == MAXHELD)
		return;
	if (get8(in) & 1)
		size %= pools[ps].chunk + 1; /* mostly valid sizes, 0 sometimes */
	errno = 0;
	h = netmem_pool_alloc_frag_direct(pools[ps].pool, size, &off);
	if (size == 0 || size > pools[ps].chunk) {
		ASSERT(!h && errno == EINVAL); /* and the carving goes on */
		return;
	}
	if (!h) {
		note_alloc_error(ps, errno);
		pools[ps].carve = 0;
		return;
	}
	ASSERT(off < pools[ps].chunk && size <= pools[ps].chunk - off);
	pools[ps].carve = h;
	add_item(ps, h, true, off, size);
}

static void op_put(struct input *in, bool direct)
{
	if (nr_held)
		put_item(get16(in) % nr_held, direct);
}

/* Pick up to n items into out (removed from held); mark the stale handle. */
static unsigned take_items(struct input *in, netmem_t *out, unsigned n, bool live_only)
{
	unsigned k = 0;

	while (k < n && nr_held) {
		unsigned i = get16(in) % nr_held;
		struct item it = held[i];

		if (live_only && it.pool < 0)
			break;
		verify_item(&it);
		item_remove(i);
		out[k++] = it.h;
		if (!it.frag && it.pool >= 0)
			pools[it.pool].stale = it.h;
	}
	return k;
}

static void op_put_bulk(struct input *in)
{
	netmem_t h[72];
	unsigned n = get8(in) % 70, k = take_items(in, h, n, false);

	if (k && get8(in) & 1)
		h[k++] = 0; /* ignored */
	netmem_put_bulk(h, k);
}

static void op_put_bulk_direct(struct input *in)
{
	int ps = pick_pool(in);
	netmem_t h[70];
	unsigned n = get8(in) % 70, k = 0;

	if (ps < 0)
		return;
	for (unsigned i = 0; i < nr_held && k < n;) {
		if (held[i].pool == ps) {
			verify_item(&held[i]);
			if (!held[i].frag)
				pools[ps].stale = held[i].h;
			h[k++] = held[i].h;
			item_remove(i);
		} else {
			i++;
		}
	}
	netmem_pool_put_bulk_direct(pools[ps].pool, h, k);
}

static void op_helper_put(struct input *in, bool bulk)
{
	unsigned n = 1 + get8(in) % 64;

	n = take_items(in, helper.h, n, false);
	if (n)
		run_job(bulk ? JOB_PUT_BULK : JOB_PUT, NULL, n);
}

/* The helper becomes the owner, allocates, and gives ownership back. */
static void op_helper_alloc(struct input *in)
{
	int ps = pick_pool(in);
	unsigned n = get8(in) % 70;

	if (ps < 0)
		return;
	if (n > MAXHELD - nr_held)
		n = MAXHELD - nr_held;
	run_job(JOB_OWN_ALLOC, pools[ps].pool, n);
	ASSERT(netmem_pool_set_owner(pools[ps].pool) == 0);
	ASSERT(helper.got <= n);
	for (unsigned i = 0; i < helper.got; i++)
		add_item(ps, helper.h[i], false, 0, pools[ps].chunk);
	if (helper.got < n)
		note_alloc_error(ps, helper.err);
}

/* The helper becomes the owner and puts chunks of that pool into the cache. */
static void op_helper_owner_put(struct input *in)
{
	int ps = pick_pool(in);
	unsigned n = get8(in) % 40, k = 0;

	if (ps < 0)
		return;
	for (unsigned i = 0; i < nr_held && k < n;) {
		if (held[i].pool == ps) {
			verify_item(&held[i]);
			if (!held[i].frag)
				pools[ps].stale = held[i].h;
			helper.h[k++] = held[i].h;
			item_remove(i);
		} else {
			i++;
		}
	}
	run_job(JOB_OWN_PUT, pools[ps].pool, k);
	ASSERT(netmem_pool_set_owner(pools[ps].pool) == 0);
}

static void op_revoke(struct input *in)
{
	int slot = get8(in) % NPROV;

	if (provs[slot].p)
		ASSERT(netmem_provider_revoke(provs[slot].p) == 0);
}

static void op_poll(struct input *in)
{
	int ps = pick_pool(in);
	struct netmem_pool_stats st;
	int ret;

	if (ps < 0)
		return;
	ret = netmem_pool_poll(pools[ps].pool);
	ASSERT(netmem_pool_stats(pools[ps].pool, &st) == 0);
	/* The flag is sticky: ENODEV means stats see it. Stats may see a
	 * revocation poll did not, only one a fault provider's thread made
	 * after poll looked (netmem_pool_stats() reads the flag later). */
	ASSERT(ret == 0 || ret == -ENODEV);
	ASSERT(ret == 0 || st.revoked);
	ASSERT(ret == -ENODEV || !st.revoked || pools[ps].faulty);
	if (ret == -ENODEV) {
		pools[ps].seen_revoked = true;
		pools[ps].carve = 0;
	}
}

static void op_destroy(struct input *in)
{
	int ps = pick_pool(in);
	uint64_t expect;
	int left;

	if (ps < 0)
		return;
	expect = pools[ps].distinct;
	left = netmem_pool_destroy(pools[ps].pool);
	ASSERT(left >= 0 && (uint64_t)left == expect);
	for (unsigned i = 0; i < nr_held; i++)
		if (held[i].pool == ps)
			held[i].pool = -1;
	pools[ps] = (struct pool_slot){0};
}

/* Deliberately bad puts: stale (already put) or foreign (wrong pool). */
static void op_bad_put(struct input *in)
{
	int ps = pick_pool(in);
	uint8_t how = get8(in);

	if (ps < 0)
		return;
	if (how & 1) {
		netmem_t h = pools[ps].stale;

		if (!h)
			return;
		switch ((how >> 1) % 4) {
		case 0:
			netmem_put(h);
			break;
		case 1:
			netmem_pool_put_direct(pools[ps].pool, h);
			break;
		case 2:
			netmem_put_bulk(&h, 1);
			break;
		case 3:
			helper.h[0] = h;
			run_job(JOB_STALE_PUT, NULL, 1);
			break;
		}
		pools[ps].bad++;
		return;
	}
	/* A held chunk of another live pool, put to this one: refused. */
	for (unsigned i = 0; i < nr_held; i++) {
		if (held[i].pool < 0 || held[i].pool == ps)
			continue;
		netmem_pool_put_direct(pools[ps].pool, held[i].h);
		pools[ps].bad++;
		return;
	}
}

static void op_bad_args(struct input *in)
{
	int ps = pick_pool(in);
	uint8_t which = get8(in);
	struct netmem_pool_params pp;
	struct netmem_pool_stats st;
	netmem_t out[2];
	uint32_t off;
	char buf[16] = {0};

	ASSERT(netmem_pool_stats(NULL, &st) == -EINVAL);
	ASSERT(netmem_pool_poll(NULL) == -EINVAL);
	ASSERT(netmem_pool_destroy(NULL) == -EINVAL);
	ASSERT(netmem_pool_set_owner(NULL) == -EINVAL);
	ASSERT(netmem_provider_revoke(NULL) == -EINVAL);
	errno = 0;
	ASSERT(netmem_pool_alloc_bulk_direct(NULL, out, 2) == 0 && errno == EINVAL);
	netmem_put(0);
	netmem_put_bulk(NULL, 5);
	out[0] = out[1] = 0;
	netmem_put_bulk(out, 2);
	netmem_pool_put_bulk_direct(NULL, out, 2);
	ASSERT(netmem_dev_write(0, 0, buf, 1) == -EINVAL);
	if (ps < 0)
		return;
	ASSERT(netmem_pool_stats(pools[ps].pool, NULL) == -EINVAL);
	errno = 0;
	ASSERT(netmem_pool_alloc_bulk_direct(pools[ps].pool, NULL, 2) == 0 && errno == EINVAL);
	errno = 0;
	ASSERT(netmem_pool_alloc_frag_direct(pools[ps].pool, 0, &off) == 0 && errno == EINVAL);
	errno = 0;
	ASSERT(netmem_pool_alloc_frag_direct(pools[ps].pool, 16, NULL) == 0 && errno == EINVAL);
	errno = 0;
	ASSERT(netmem_pool_alloc_frag_direct(pools[ps].pool, pools[ps].chunk + 1 + which, &off) ==
		   0 &&
	       errno == EINVAL);
	netmem_pool_params_init(&pp, netmem_pool_provider(pools[ps].pool));
	switch (which % 6) {
	case 0:
		pp.order = 10 + which / 6;
		break;
	case 1:
		pp.order = -2 - which / 6;
		break;
	case 2:
		pp.ring_size = 3 + 2 * (which / 6);
		break;
	case 3:
		pp.frag_align = 3 + 2 * (which / 6);
		break;
	case 4:
		pp.size = which & 64 ? sizeof(pp) + 1 + which : (which / 6) % 32;
		break;
	case 5:
		pp.provider = NULL;
		break;
	}
	errno = 0;
	ASSERT(netmem_pool_create(&pp) == NULL && errno == EINVAL);
	ASSERT(netmem_last_error()[0]);
	if (nr_held) {
		struct item *it = &held[get16(in) % nr_held];
		size_t size = netmem_size(it->h);

		ASSERT(netmem_dev_write(it->h, size, buf, 1) == -EINVAL);
		ASSERT(netmem_dev_write(it->h, size - 4, buf, 5) == -EINVAL);
		ASSERT(netmem_dev_write(it->h, SIZE_MAX, buf, 2) == -EINVAL);
		ASSERT(netmem_dev_read(it->h, 1, buf, SIZE_MAX) == -EINVAL);
	}
}

/* Write bytes into a held item's range through the device side and read
 * them back; check the accessors agree with the revocation state. */
static void op_dev_io(struct input *in)
{
	struct item *it;
	uint8_t wbuf[64], rbuf[64];
	uint32_t len, off;
	uint64_t dma;
	int ret;

	if (!nr_held)
		return;
	it = &held[get16(in) % nr_held];
	len = 1 + get8(in) % 64;
	if (len > it->len)
		len = it->len;
	off = it->off + get16(in) % (it->len - len + 1);
	for (uint32_t i = 0; i < len; i++)
		wbuf[i] = (uint8_t)(off + i + next_tag);
	if (netmem_is_revoked(it->h)) {
		ASSERT(netmem_address(it->h) == NULL);
		ASSERT(netmem_dma_addr(it->h, &dma) == -ENODEV);
		ASSERT(netmem_dev_write(it->h, off, wbuf, len) == -ENODEV);
		return;
	}
	ASSERT(netmem_dma_addr(it->h, &dma) == 0 || netmem_is_revoked(it->h));
	ret = netmem_dev_write(it->h, off, wbuf, len);
	ASSERT(ret == 0 || ret == -EIO || ret == -ENODEV);
	if (ret)
		return;
	/* the write may have overwritten our own tag */
	if (it->tagged && off < it->off + 8 && off + len > it->off)
		it->tagged = false;
	ret = netmem_dev_read(it->h, off, rbuf, len);
	ASSERT(ret == 0 || ret == -ENODEV || ret == -EOPNOTSUPP);
	if (ret == 0)
		ASSERT(!memcmp(wbuf, rbuf, len));
}

static void op_report(struct input *in)
{
	int ps = pick_pool(in);
	struct netmem_pool_stats st;
	long n;

	if (ps < 0)
		return;
	ASSERT(netmem_pool_stats(pools[ps].pool, &st) == 0);
	n = netmem_pool_report_inflight(pools[ps].pool, devnull, get8(in) & 1);
	ASSERT(n >= 0 && (uint64_t)n == st.in_flight);
	ASSERT(netmem_pool_stats_json(pools[ps].pool, devnull) > 0);
}

/* ---- the run ------------------------------------------------------------- */

static void finish(void)
{
	/* Everything back: held items (some from the helper), then pools. */
	while (nr_held) {
		if (nr_held > 8 && nr_held % 3 == 0) {
			unsigned n = 0;

			while (n < 32 && nr_held) {
				verify_item(&held[nr_held - 1]);
				helper.h[n++] = held[nr_held - 1].h;
				item_remove(nr_held - 1);
			}
			run_job(JOB_PUT_BULK, NULL, n);
		} else {
			put_item(nr_held - 1, false);
		}
		check_all();
	}
	for (int i = 0; i < NPOOL; i++) {
		if (!pools[i].pool)
			continue;
		check_pool(i);
		ASSERT(netmem_pool_destroy(pools[i].pool) == 0);
		pools[i] = (struct pool_slot){0};
	}
	for (int i = 0; i < NPROV; i++) {
		if (!provs[i].p)
			continue;
		ASSERT(netmem_provider_nr_areas(provs[i].p) == 0);
		netmem_provider_destroy(provs[i].p);
		provs[i].p = NULL;
	}
	for (unsigned i = 0; i < nr_grave; i++) {
		ASSERT(netmem_provider_nr_areas(grave[i]) == 0);
		netmem_provider_destroy(grave[i]);
	}
	nr_grave = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pthread_t th;

	(void)argc;
	(void)argv;
	devnull = fopen("/dev/null", "w");
	trace = getenv("FUZZ_API_TRACE") != NULL;
	if (!devnull || pthread_create(&th, NULL, helper_main, NULL))
		abort();
	pthread_detach(th);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size, 0};
	unsigned ops = 0;

	next_tag = 0;
	/* Start with a host provider and a pool, so short inputs do something. */
	provs[0].p = netmem_provider_create("host");
	ASSERT(provs[0].p);
	{
		struct netmem_pool_params pp;

		netmem_pool_params_init(&pp, provs[0].p);
		pp.nr_chunks = 32;
		pp.ring_size = 16;
		pools[0] = (struct pool_slot){.pool = netmem_pool_create(&pp)};
		ASSERT(pools[0].pool);
		pools[0].chunk = netmem_pool_chunk_size(pools[0].pool);
	}
	while (in.i < in.n && ops++ < MAXOPS) {
		uint8_t op = get8(&in);

		if (trace)
			fprintf(stderr, "op %u: %u, %u held\n", ops, op % 22, nr_held);
		switch (op % 22) {
		case 0:
			op_prov_create(&in);
			break;
		case 1:
			op_prov_retire(&in);
			break;
		case 2:
			op_pool_create(&in);
			break;
		case 3:
		case 4:
			op_alloc(&in);
			break;
		case 5:
			op_alloc_bulk(&in);
			break;
		case 6:
		case 7:
			op_alloc_frag(&in);
			break;
		case 8:
			op_put(&in, false);
			break;
		case 9:
			op_put(&in, true);
			break;
		case 10:
			op_put_bulk(&in);
			break;
		case 11:
			op_put_bulk_direct(&in);
			break;
		case 12:
			op_helper_put(&in, false);
			break;
		case 13:
			op_helper_put(&in, true);
			break;
		case 14:
			op_helper_alloc(&in);
			break;
		case 15:
			op_helper_owner_put(&in);
			break;
		case 16:
			op_revoke(&in);
			break;
		case 17:
			op_poll(&in);
			break;
		case 18:
			op_destroy(&in);
			break;
		case 19:
			op_bad_put(&in);
			break;
		case 20:
			op_bad_args(&in);
			break;
		case 21:
			if (get8(&in) & 1)
				op_dev_io(&in);
			else
				op_report(&in);
			break;
		}
		check_all();
	}
	finish();
	return 0;
}
