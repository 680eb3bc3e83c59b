/* SPDX-License-Identifier: MIT */
/* Subcommands of the netmem command, one file each. */
#ifndef NETMEM_TOOLS_CMDS_H
#define NETMEM_TOOLS_CMDS_H

#include <stdint.h>

/* Each returns the process exit status: 0, 1 on a failure, 2 on a usage
 * error (a bad option, value, provider spec or stray argument). argv[0] is
 * the command's full name ("netmem bench pool"), as getopt's messages print
 * it. A command whose file is not built is NULL (weak) and reported as
 * unavailable. */
int netmem_cmd_bench_pool(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_frag(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_rx(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_xsk(int argc, char **argv) __attribute__((weak));
int netmem_cmd_rx(int argc, char **argv) __attribute__((weak));
int netmem_cmd_soak(int argc, char **argv) __attribute__((weak));

/*
 * Option values (tools/args.c): the whole string a decimal number in
 * [min, max], or -1 after printing "netmem CMD: OPT wants ..." to stderr.
 * No sign, no trailing text, no overflow, no NaN or infinity.
 */
int netmem_arg_u64(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out);
int netmem_arg_unsigned(const char *cmd, const char *opt, const char *s, unsigned min,
			unsigned max, unsigned *out);
int netmem_arg_double(const char *cmd, const char *opt, const char *s, double min, double max,
		      double *out);

/* 0 when argv[first..argc) is empty, or -1 after printing "netmem CMD:
 * unexpected argument ..." to stderr (operands no command takes). */
int netmem_arg_none(const char *cmd, int argc, char **argv, int first);

struct netmem_provider;

/*
 * netmem_provider_create(spec), or NULL after printing "netmem CMD: provider
 * 'SPEC': why" to stderr and storing the exit status at *status: 2 for a
 * spec that does not parse or names no provider (EINVAL, ENOENT), 1 for a
 * provider that failed to start.
 */
struct netmem_provider *netmem_arg_provider(const char *cmd, const char *spec, int *status);

/* netmem rx --xdp: AF_XDP receive on a real netdev queue (tools/rx_xdp.c,
 * built with libxdp). Returns the exit status. */
struct netmem_rx_xdp_opts {
	const char *target;   /* IFACE[:QUEUE][,copy|zerocopy][,wakeup][,busy-poll][,skb] */
	const char *provider; /* payload memory spec; NULL = host */
	double seconds;
	unsigned hold;        /* keep the newest N tokens (back-pressure) */
	int split;            /* header split: -1 parse (default), 0 none, N bytes */
	int json;
};
int netmem_rx_xdp(const struct netmem_rx_xdp_opts *o) __attribute__((weak));

#endif
