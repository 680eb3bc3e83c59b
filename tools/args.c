/* SPDX-License-Identifier: MIT */
/* Option values of the netmem command: whole numbers in range, or nothing. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netmem/netmem.h"

#include "cmds.h"

int netmem_arg_u64(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	/* strtoull takes "-1" as 2^64 - 1: only digits may start it. */
	v = s && isdigit((unsigned char)*s) ? strtoull(s, &end, 10) : 0;
	if (!s || !isdigit((unsigned char)*s) || *end || errno || v < min || v > max) {
		fprintf(stderr, "netmem %s: %s wants a whole number in %llu..%llu, not '%s'\n", cmd,
			opt, (unsigned long long)min, (unsigned long long)max, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

int netmem_arg_unsigned(const char *cmd, const char *opt, const char *s, unsigned min,
			unsigned max, unsigned *out)
{
	uint64_t v;

	if (netmem_arg_u64(cmd, opt, s, min, max, &v))
		return -1;
	*out = (unsigned)v;
	return 0;
}

int netmem_arg_double(const char *cmd, const char *opt, const char *s, double min, double max,
		      double *out)
{
	char *end = NULL;
	/* Decimal digits and one point only: strtod alone would also take
	 * a sign, leading blanks, hex floats and exponents. */
	bool plain = s && *s && strspn(s, "0123456789.") == strlen(s) &&
		     strchr(s, '.') == strrchr(s, '.') && strcmp(s, ".") != 0;
	double v = plain ? strtod(s, &end) : NAN;

	if (!plain || *end || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "netmem %s: %s wants a number in %g..%g, not '%s'\n", cmd, opt, min,
			max, s ? s : "");
		return -1;
	}
	*out = v;
	return 0;
}

int netmem_arg_none(const char *cmd, int argc, char **argv, int first)
{
	if (first >= argc)
		return 0;
	fprintf(stderr, "netmem %s: unexpected argument '%s'\n", cmd, argv[first]);
	return -1;
}

struct netmem_provider *netmem_arg_provider(const char *cmd, const char *spec, int *status)
{
	struct netmem_provider *p = netmem_provider_create(spec);

	if (!p) {
		/* A spec that does not parse or names no provider is the
		 * caller's mistake; anything else failed while making it. */
		*status = errno == EINVAL || errno == ENOENT ? 2 : 1;
		fprintf(stderr, "netmem %s: provider '%s': %s\n", cmd, spec, netmem_last_error());
	}
	return p;
}
