/* SPDX-License-Identifier: MIT */
/*
 * A tiny test harness: each test file is its own program; exit 0 pass,
 * 1 fail, 77 skip (with the reason printed).
 */
#ifndef NETMEM_TEST_HARNESS_H
#define NETMEM_TEST_HARNESS_H

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
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

/* A stream whose error flag is already set (a write to /dev/full failed):
 * a later write only reaches its buffer, yet the stream has failed. */
static inline FILE *t_failed_stream(void)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		return NULL;
	fputc('x', f);
	fflush(f);
	if (!ferror(f)) {
		fclose(f);
		return NULL;
	}
	return f;
}

static inline int t_done(void)
{
	if (t_failures) {
		fprintf(stderr, "%d check(s) failed\n", t_failures);
		return T_FAIL;
	}
	return T_PASS;
}

/* The build's directory (NETMEM_BUILD, as make test sets it; else "build").
 * A test of the netmem command skips where the command is not built. */
static inline const char *t_build_dir(void)
{
	const char *b = getenv("NETMEM_BUILD");

	return b ? b : "build";
}

static inline void t_need_tool(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/netmem", t_build_dir());
	if (access(path, X_OK))
		SKIP("%s not built", path);
}

/* Run fn in a child whose stderr is captured: it must die of SIGABRT and
 * print msg (the debug build's checks). */
static inline void t_expect_abort(void (*fn)(void), const char *name, const char *msg)
{
	int fds[2], status;
	char buf[1024] = { 0 };
	ssize_t n, len = 0;
	pid_t pid;

	REQUIRE(pipe(fds) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fds[0]);
	waitpid(pid, &status, 0);
	printf("%s: %s", name, buf);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK(strstr(buf, msg) != NULL);
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
