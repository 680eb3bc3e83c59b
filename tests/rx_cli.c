/* SPDX-License-Identifier: MIT */
/*
 * netmem rx, the command: runs with verification, with a mid-run revoke and
 * with every token held, and reports what the library saw (JSON).
 */
#include <stdio.h>

#include <sys/wait.h>

#include "harness.h"

static char out[8192];

static int run(const char *args)
{
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s/netmem rx --json %s", t_build_dir(), args);
	p = popen(cmd, "r");
	REQUIRE(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	printf("$ %s\n%s", cmd, out);
	return pclose(p);
}

/* The number after "key": in out, or -1. */
static long long field(const char *key)
{
	char pat[64];
	const char *at;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	at = strstr(out, pat);
	return at ? strtoll(at + strlen(pat), NULL, 10) : -1;
}

static int flag(const char *key)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"%s\":true", key);
	return strstr(out, pat) != NULL;
}

int main(void)
{
	t_need_tool();

	CHECK_EQ(run("--provider host --seconds 0.3 --verify --queues 2 --size imix"), 0);
	CHECK(field("packets") > 0);
	CHECK_EQ(field("verified"), field("packets"));
	CHECK_EQ(field("verify_failed"), 0);
	CHECK_EQ(field("generated"), field("packets") + field("drops"));
	CHECK_EQ(field("tokens_left"), 0);
	CHECK_EQ(field("areas_left"), 0);

	CHECK_EQ(run("--provider host --seconds 0.8 --revoke-after 0.1"), 0);
	CHECK(flag("revoked"));
	CHECK(field("drop_revoked") > 0);
	CHECK_EQ(field("generated"), field("packets") + field("drops"));
	CHECK_EQ(field("areas_left"), 0);

	/* A provider that revokes itself (the fault wrapper's unplug): the
	 * summary says so too, not only for --revoke-after. */
	CHECK_EQ(run("--provider fault:revoke=3,inner=host --seconds 0.3"), 0);
	CHECK(flag("revoked"));
	CHECK(field("drop_revoked") > 0);
	CHECK_EQ(field("drops"), field("drop_no_buf") + field("drop_revoked") + field("drop_fault") +
				     field("drop_overflow") + field("drop_no_token") +
				     field("drop_truncated"));
	CHECK_EQ(field("areas_left"), 0);

	/* long enough for a sanitizer build to fill the pool first */
	CHECK_EQ(run("--provider host --seconds 1.5 --hold 1000000"), 0);
	CHECK(field("drop_no_buf") > 0);
	CHECK(field("packets") > 0 && field("packets") <= 2048);
	CHECK_EQ(field("areas_left"), 0);

	CHECK(run("--provider nosuch") != 0);
	CHECK(run("--queues 0") != 0);
	CHECK(run("--size 10") != 0);
	/* Usage errors (status 2), values that used to wrap to valid ones
	 * included: nothing runs. */
	{
		static const char *const bad[] = {
		    "--queues 4294967297", "--size 4294968796", "--hold 4294967296",
		    "--rate -5",	   "--seconds 1e400",	"--seconds nan",
		    "--flows 1x",	   "--revoke-after 2 --seconds 1",
		    /* decimal digits and a point only */
		    "--seconds 0x0.4p-1",  "--seconds +0.2",	"--seconds 1e-1",
		    "--seconds .",	   "--seconds 0.1.2",	"--revoke-after -0 --seconds 1",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int st = run(bad[i]);

			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
			CHECK(strstr(out, "packets") == NULL);
		}
	}
	return t_done();
}
