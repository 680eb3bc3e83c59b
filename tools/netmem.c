/* SPDX-License-Identifier: MIT */
/* The netmem command: version, providers, rx (the main job), bench. */
#include <stdio.h>
#include <string.h>

#include "netmem/netmem.h"
#include "cmds.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netmem COMMAND [ARGS]\n"
		"  version                 print the library version\n"
		"  providers               list the registered memory providers\n"
		"  rx [OPTIONS]            receive on the software NIC (or AF_XDP); --help\n"
		"  bench pool|frag|rx|xsk  microbenchmarks; --help\n"
		"  soak [OPTIONS]          long run with faults and revokes; --help\n");
}

static void print_provider(const struct netmem_provider_ops *ops, void *arg)
{
	(void)arg;
	printf("%-10s default order %u%s%s\n", ops->name, ops->default_order,
	       ops->read ? ", device-side read" : "", ops->revoke ? ", revoke hook" : "");
}

struct cmd {
	const char *name;
	int (*fn)(int, char **);
};

/* Run the command named argv[0] of cmds[], with argv[0] replaced by its
 * full name ("netmem bench pool"), which getopt's messages print. */
static int dispatch(const struct cmd *cmds, size_t n, const char *what, const char *prefix,
		    int argc, char **argv)
{
	static char full[64];

	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		if (!cmds[i].fn) {
			fprintf(stderr, "netmem: %s %s is not built into this binary\n", what,
				argv[0]);
			return 1;
		}
		snprintf(full, sizeof(full), "%s %s", prefix, cmds[i].name);
		argv[0] = full;
		return cmds[i].fn(argc, argv);
	}
	fprintf(stderr, "netmem: unknown %s '%s'\n", what, argv[0]);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if ((!strcmp(argv[1], "version") || !strcmp(argv[1], "providers")) && argc > 2) {
		fprintf(stderr, "netmem %s: unexpected argument '%s'\n", argv[1], argv[2]);
		return 2;
	}
	if (!strcmp(argv[1], "version")) {
		printf("netmem %s\n", netmem_version());
		return 0;
	}
	if (!strcmp(argv[1], "providers")) {
		netmem_provider_foreach(print_provider, NULL);
		return 0;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "bench")) {
		const struct cmd benches[] = {
			{ "pool", netmem_cmd_bench_pool },
			{ "frag", netmem_cmd_bench_frag },
			{ "rx", netmem_cmd_bench_rx },
			{ "xsk", netmem_cmd_bench_xsk },
		};

		if (argc < 3) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help")) {
			printf("usage: netmem bench pool|frag|rx|xsk [--json] [OPTIONS]\n"
			       "  netmem bench NAME --help lists NAME's options; netmem(1) has them all\n");
			return 0;
		}
		return dispatch(benches, sizeof(benches) / sizeof(benches[0]), "benchmark",
				"netmem bench", argc - 2, argv + 2);
	}
	{
		const struct cmd cmds[] = {
			{ "rx", netmem_cmd_rx },
			{ "soak", netmem_cmd_soak },
		};

		return dispatch(cmds, sizeof(cmds) / sizeof(cmds[0]), "command", "netmem",
				argc - 1, argv + 1);
	}
}
