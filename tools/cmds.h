/* SPDX-License-Identifier: MIT */
/* Subcommands of the netmem command, one file each. */
#ifndef NETMEM_TOOLS_CMDS_H
#define NETMEM_TOOLS_CMDS_H

/* Each returns the process exit status. argv[0] is the subcommand's own
 * name ("pool" for "netmem bench pool"). A command whose file is not built
 * is NULL (weak) and reported as unavailable. */
int netmem_cmd_bench_pool(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_frag(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_rx(int argc, char **argv) __attribute__((weak));
int netmem_cmd_bench_xsk(int argc, char **argv) __attribute__((weak));
int netmem_cmd_rx(int argc, char **argv) __attribute__((weak));
int netmem_cmd_soak(int argc, char **argv) __attribute__((weak));

#endif
