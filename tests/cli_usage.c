/* SPDX-License-Identifier: MIT */
/*
 * The netmem command's usage errors: every subcommand given a bad option, a
 * stray argument or a provider spec that names nothing exits 2, says why on
 * stderr in a message that starts "netmem <command>: ", and runs nothing:
 * nothing on stdout. --help exits 0 with the usage on stdout; a provider
 * that fails to start is a failure (1), not a usage error.
 */
#include <stdio.h>

#include <sys/wait.h>

#include "harness.h"

static char out[4096], err[4096];

static void slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = 0;
}

/* Exit status of `netmem ARGS`, its stdout in out[] and stderr in err[]. */
static int run(const char *args)
{
	char cmd[512], o[] = "/tmp/netmem-cli-XXXXXX", e[] = "/tmp/netmem-cli-XXXXXX";
	int fo = mkstemp(o), fe = mkstemp(e), st;

	REQUIRE(fo >= 0 && fe >= 0);
	close(fo);
	close(fe);
	/* A usage error returns at once; the timeout only bounds a command
	 * that wrongly starts its run. */
	snprintf(cmd, sizeof(cmd), "timeout 20 %s/netmem %s >%s 2>%s", t_build_dir(), args, o, e);
	st = system(cmd);
	slurp(o, out, sizeof(out));
	slurp(e, err, sizeof(err));
	unlink(o);
	unlink(e);
	printf("$ netmem %s -> %d\n%s", args, WIFEXITED(st) ? WEXITSTATUS(st) : -1, err);
	REQUIRE(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Exit 2, nothing on stdout, and a message that starts with `prefix`. */
static void usage_error(const char *args, const char *prefix)
{
	CHECK_EQ(run(args), 2);
	CHECK_EQ(out[0], 0);
	CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
}

int main(void)
{
	static const char *const cmds[] = {"rx", "soak", "bench pool", "bench frag", "bench rx"};
	char args[256], prefix[64];

	t_need_tool();

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(prefix, sizeof(prefix), "netmem %s: ", cmds[i]);

		snprintf(args, sizeof(args), "%s --no-such-option", cmds[i]);
		usage_error(args, prefix);
		CHECK(strstr(err, "--no-such-option") != NULL);

		snprintf(args, sizeof(args), "%s stray", cmds[i]);
		usage_error(args, prefix);
		CHECK(strstr(err, "unexpected argument 'stray'") != NULL);

		snprintf(args, sizeof(args), "%s --provider nosuch", cmds[i]);
		usage_error(args, prefix);
		CHECK(strstr(err, "no provider named 'nosuch'") != NULL);

		snprintf(args, sizeof(args), "%s --provider host:order=99", cmds[i]);
		usage_error(args, prefix);

		snprintf(args, sizeof(args), "%s --help", cmds[i]);
		CHECK_EQ(run(args), 0);
		CHECK(strncmp(out, "usage: netmem ", 14) == 0);
	}
	/* bench xsk and rx --xdp (where built: they need libxdp) check
	 * their arguments before they need root. */
	if (run("bench xsk --help") == 0) {
		usage_error("bench xsk stray", "netmem bench xsk: ");
		usage_error("bench xsk --no-such-option", "netmem bench xsk: ");
		usage_error("rx --xdp lo:4294967296", "netmem rx: --xdp wants");
	} else {
		CHECK(strstr(err, "not built into this binary") != NULL);
		printf("bench xsk not built: its usage errors not checked\n");
	}

	/* Options of the sim NIC with --xdp, a queue number that would wrap,
	 * arguments to commands that take none. */
	usage_error("rx --xdp lo --verify", "netmem rx: --verify is an option of the sim NIC");
	usage_error("version extra", "netmem version: unexpected argument 'extra'");
	usage_error("providers extra", "netmem providers: unexpected argument 'extra'");
	usage_error("bench nosuch", "netmem: unknown benchmark 'nosuch'");
	usage_error("nosuch", "netmem: unknown command 'nosuch'");
	/* Failures that are not usage errors: 1. */
	CHECK_EQ(run("rx --provider fault:area=1 --seconds 0.1"), 1); /* no area: ENOMEM */
	CHECK_EQ(out[0], 0);
	CHECK_EQ(run(""), 2);
	CHECK_EQ(run("version"), 0);
	CHECK(strncmp(out, "netmem ", 7) == 0);
	return t_done();
}
