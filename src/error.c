/* SPDX-License-Identifier: MIT */
/* Thread-local error text and the version string. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[256];
static _Thread_local unsigned error_seq; /* bumped by every message set */

const char *netmem_last_error(void)
{
	return last_error;
}

void netmem_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	error_seq++;
}

/* Around a provider's operation: a failure it did not explain (no
 * netmem_set_error() since _netmem_err_mark()) gets the library's message,
 * not an older one; a success leaves the last message as it was. */
unsigned _netmem_err_mark(void)
{
	return error_seq;
}

int _netmem_err_fallback(unsigned mark, int err, const char *provider, const char *op)
{
	if (error_seq == mark)
		_netmem_err(err, "provider %s: %s failed: %s", provider, op, strerror(err));
	return -err;
}

/* Record the reason and return -err, so callers can `return _netmem_err(...)`. */
int _netmem_err(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	error_seq++;
	return -err;
}

const char *netmem_version(void)
{
#define S_(x) #x
#define S(x) S_(x)
	return S(NETMEM_VERSION_MAJOR) "." S(NETMEM_VERSION_MINOR) "." S(NETMEM_VERSION_PATCH);
#undef S
#undef S_
}
