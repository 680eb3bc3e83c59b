/* SPDX-License-Identifier: MIT */
/*
 * A tiny test harness: each test file is its own program; exit 0 pass,
 * 1 fail, 77 skip (with the reason printed).
 */
#ifndef NETMEM_TEST_HARNESS_H
#define NETMEM_TEST_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T_PASS 0
#define T_FAIL 1
#define T_SKIP 77

static int t_failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                          \
			t_failures++;                                            \
		}                                                                \
	} while (0)

/* Fatal: stop the test here. */
#define REQUIRE(cond)                                                            \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, \
				#cond);                                          \
			exit(T_FAIL);                                            \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		long long _a = (long long)(a), _b = (long long)(b);              \
		if (_a != _b) {                                                  \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);             \
			t_failures++;                                            \
		}                                                                \
	} while (0)

#define SKIP(...)                                                                \
	do {                                                                     \
		printf("SKIP: ");                                                \
		printf(__VA_ARGS__);                                             \
		printf("\n");                                                    \
		exit(T_SKIP);                                                    \
	} while (0)

static inline int t_done(void)
{
	if (t_failures) {
		fprintf(stderr, "%d check(s) failed\n", t_failures);
		return T_FAIL;
	}
	return T_PASS;
}

/* A small deterministic PRNG (xorshift64*). */
static inline uint64_t t_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

#endif
