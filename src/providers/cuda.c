/* SPDX-License-Identifier: MIT */
/*
 * cuda: GPU memory through the CUDA driver API.
 *
 * libcuda.so.1 is loaded with dlopen() on the first "cuda" provider, so the
 * library builds, links and runs on machines without a GPU; there, creating
 * the provider fails with -ENODEV and says why. The library stays loaded for
 * the life of the process (the driver does not support being unloaded).
 *
 * Each area is one cuMemAlloc allocation in the device's primary context,
 * aligned to its chunk size (at most 2 MiB). The device address of a chunk
 * is its CUdeviceptr. Chunks are unreadable by the CPU (cpu_base NULL); the
 * provider's device-side write and read are cuMemcpyHtoD / cuMemcpyDtoH.
 * netmem_pool_area_fd() exports the area as a dma-buf
 * (cuMemGetHandleForAddressRange) where the driver and kernel allow it, for
 * a NIC or another process to import ("dmabuf:fd=N").
 *
 * revoke: the device stops answering; write and read return -ENODEV.
 *
 * Spec: "cuda", "cuda:device=N" (default 0), "cuda:order=N" (0..9).
 */
#include <cuda.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../internal.h"
#include "builtin.h"

/* The driver entry points we use, by their exported (versioned) names. */
static struct {
	void *lib;
	int err;              /* 0, or the errno of a failed load */
	char why[160];        /* the reason when it failed */
	CUresult (*init)(unsigned);
	CUresult (*device_get_count)(int *);
	CUresult (*device_get)(CUdevice *, int);
	CUresult (*ctx_retain)(CUcontext *, CUdevice);
	CUresult (*ctx_release)(CUdevice);
	CUresult (*ctx_push)(CUcontext);
	CUresult (*ctx_pop)(CUcontext *);
	CUresult (*mem_alloc)(CUdeviceptr *, size_t);
	CUresult (*mem_free)(CUdeviceptr);
	CUresult (*htod)(CUdeviceptr, const void *, size_t);
	CUresult (*dtoh)(void *, CUdeviceptr, size_t);
	CUresult (*error_string)(CUresult, const char **);
	/* optional: CUDA 11.7+ */
	CUresult (*get_handle)(void *, CUdeviceptr, size_t, CUmemRangeHandleType,
			       unsigned long long);
} cu;

static pthread_once_t cu_once = PTHREAD_ONCE_INIT;

#define LOAD(field, sym)                                                          \
	do {                                                                      \
		*(void **)&cu.field = dlsym(cu.lib, sym);                         \
		if (!cu.field) {                                                  \
			snprintf(cu.why, sizeof(cu.why),                          \
				 "libcuda.so.1 has no %s (driver too old?)", sym); \
			cu.err = ENODEV;                                          \
			return;                                                   \
		}                                                                 \
	} while (0)

static void cu_load(void)
{
	CUresult r;

	cu.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!cu.lib) {
		const char *e = dlerror();

		snprintf(cu.why, sizeof(cu.why), "cannot load the CUDA driver: %s",
			 e ? e : "libcuda.so.1 not found");
		cu.err = ENODEV;
		return;
	}
	LOAD(init, "cuInit");
	LOAD(device_get_count, "cuDeviceGetCount");
	LOAD(device_get, "cuDeviceGet");
	LOAD(ctx_retain, "cuDevicePrimaryCtxRetain");
	LOAD(ctx_release, "cuDevicePrimaryCtxRelease_v2");
	LOAD(ctx_push, "cuCtxPushCurrent_v2");
	LOAD(ctx_pop, "cuCtxPopCurrent_v2");
	LOAD(mem_alloc, "cuMemAlloc_v2");
	LOAD(mem_free, "cuMemFree_v2");
	LOAD(htod, "cuMemcpyHtoD_v2");
	LOAD(dtoh, "cuMemcpyDtoH_v2");
	LOAD(error_string, "cuGetErrorString");
	*(void **)&cu.get_handle = dlsym(cu.lib, "cuMemGetHandleForAddressRange");
	r = cu.init(0);
	if (r != CUDA_SUCCESS) {
		const char *s = NULL;

		cu.error_string(r, &s);
		snprintf(cu.why, sizeof(cu.why), "cuInit failed: %s (%d)", s ? s : "unknown error",
			 (int)r);
		cu.err = ENODEV;
	}
}

static const char *cu_str(CUresult r)
{
	const char *s = NULL;

	if (cu.error_string)
		cu.error_string(r, &s);
	return s ? s : "unknown CUDA error";
}

struct cuda_priv {
	CUdevice dev;
	CUcontext ctx;
	int ordinal;
	_Atomic int revoked;
};

struct cuda_area {
	CUdeviceptr raw;   /* what cuMemAlloc returned */
	CUdeviceptr base;  /* raw, aligned up to the chunk size */
};

static int cuda_init(struct netmem_provider *p, const char *args)
{
	struct cuda_priv *cp;
	char key[32], val[64];
	unsigned order = 0;
	int ordinal = 0, count = 0, ret;
	CUresult r;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (!strcmp(key, "device")) {
			if (netmem_spec_uint("cuda", key, val, INT_MAX, &v))
				return -EINVAL;
			ordinal = (int)v;
		} else if (!strcmp(key, "order")) {
			if (netmem_spec_uint("cuda", key, val, NETMEM_MAX_ORDER, &v))
				return -EINVAL;
			order = (unsigned)v;
		} else {
			return _netmem_err(EINVAL, "cuda: unknown key '%s' (known: device, order)", key);
		}
	}
	if (ret < 0)
		return ret;
	pthread_once(&cu_once, cu_load);
	if (cu.err)
		return _netmem_err(cu.err, "cuda: %s", cu.why);
	r = cu.device_get_count(&count);
	if (r != CUDA_SUCCESS || count == 0)
		return _netmem_err(ENODEV, "cuda: no CUDA device%s%s", r ? ": " : "",
				   r ? cu_str(r) : "");
	if (ordinal >= count)
		return _netmem_err(ENODEV, "cuda: device %d does not exist (%d device%s)", ordinal,
				   count, count == 1 ? "" : "s");
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return _netmem_err(ENOMEM, "cuda: out of memory");
	cp->ordinal = ordinal;
	r = cu.device_get(&cp->dev, ordinal);
	if (r == CUDA_SUCCESS)
		r = cu.ctx_retain(&cp->ctx, cp->dev);
	if (r != CUDA_SUCCESS) {
		free(cp);
		return _netmem_err(ENODEV, "cuda: device %d: %s", ordinal, cu_str(r));
	}
	atomic_init(&cp->revoked, 0);
	netmem_provider_set_priv(p, cp);
	return netmem_provider_set_default_order(p, order);
}

static void cuda_fini(struct netmem_provider *p)
{
	struct cuda_priv *cp = netmem_provider_priv(p);

	cu.ctx_release(cp->dev);
	free(cp);
}

/* Run the driver call `expr` with the device's context current. */
#define IN_CTX(cp, expr)                                                 \
	({                                                               \
		CUcontext _old;                                          \
		CUresult _r = cu.ctx_push((cp)->ctx);                    \
		if (_r == CUDA_SUCCESS) {                                \
			_r = (expr);                                     \
			cu.ctx_pop(&_old);                               \
		}                                                        \
		_r;                                                      \
	})

static int cuda_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct cuda_priv *cp = netmem_provider_priv(p);
	size_t align = s->chunk_size < (2u << 20) ? s->chunk_size : (2u << 20);
	struct cuda_area *ca;
	CUresult r;

	if (s->size / s->nr_chunks != s->chunk_size || s->size + align < s->size)
		return _netmem_err(ENOMEM, "cuda: area of %zu chunks of %zu bytes is too large",
				   s->nr_chunks, s->chunk_size);
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return _netmem_err(ENOMEM, "cuda: out of memory");
	r = IN_CTX(cp, cu.mem_alloc(&ca->raw, s->size + align));
	if (r != CUDA_SUCCESS) {
		free(ca);
		return _netmem_err(r == CUDA_ERROR_OUT_OF_MEMORY ? ENOMEM : EIO,
				   "cuda: cuMemAlloc of %zu bytes on device %d failed: %s",
				   s->size + align, cp->ordinal, cu_str(r));
	}
	ca->base = (ca->raw + align - 1) & ~(CUdeviceptr)(align - 1);
	s->cpu_base = NULL; /* GPU memory: not for the CPU */
	s->priv = ca;
	return 0;
}

static void cuda_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct cuda_priv *cp = netmem_provider_priv(p);
	struct cuda_area *ca = s->priv;

	IN_CTX(cp, cu.mem_free(ca->raw));
	free(ca);
	s->priv = NULL;
}

static uint64_t cuda_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
			      size_t off)
{
	const struct cuda_area *ca = s->priv;

	(void)p;
	return (uint64_t)(ca->base + off);
}

static int cuda_write(struct netmem_provider *p, const struct netmem_area_spec *s,
		      size_t off, const void *src, size_t len)
{
	struct cuda_priv *cp = netmem_provider_priv(p);
	const struct cuda_area *ca = s->priv;
	CUresult r;

	/* relaxed: a flag only; the core orders revocation against handles. */
	if (atomic_load_explicit(&cp->revoked, memory_order_relaxed))
		return -ENODEV;
	r = IN_CTX(cp, cu.htod(ca->base + off, src, len));
	if (r != CUDA_SUCCESS)
		return _netmem_err(EIO, "cuda: cuMemcpyHtoD failed: %s", cu_str(r));
	return 0;
}

static int cuda_read(struct netmem_provider *p, const struct netmem_area_spec *s,
		     size_t off, void *dst, size_t len)
{
	struct cuda_priv *cp = netmem_provider_priv(p);
	const struct cuda_area *ca = s->priv;
	CUresult r;

	if (atomic_load_explicit(&cp->revoked, memory_order_relaxed))
		return -ENODEV;
	r = IN_CTX(cp, cu.dtoh(dst, ca->base + off, len));
	if (r != CUDA_SUCCESS)
		return _netmem_err(EIO, "cuda: cuMemcpyDtoH failed: %s", cu_str(r));
	return 0;
}

static void cuda_revoke(struct netmem_provider *p)
{
	struct cuda_priv *cp = netmem_provider_priv(p);

	atomic_store_explicit(&cp->revoked, 1, memory_order_relaxed);
}

static int cuda_area_fd(struct netmem_provider *p, const struct netmem_area_spec *s)
{
	struct cuda_priv *cp = netmem_provider_priv(p);
	const struct cuda_area *ca = s->priv;
	int fd = -1;
	CUresult r;

	if (!cu.get_handle)
		return _netmem_err(EOPNOTSUPP,
				   "cuda: the driver has no cuMemGetHandleForAddressRange (dma-buf export)");
	r = IN_CTX(cp, cu.get_handle(&fd, ca->base, s->size,
				     CU_MEM_RANGE_HANDLE_TYPE_DMA_BUF_FD, 0));
	if (r != CUDA_SUCCESS)
		return _netmem_err(EOPNOTSUPP, "cuda: dma-buf export of %zu bytes refused: %s (%d)",
				   s->size, cu_str(r), (int)r);
	return fd;
}

const struct netmem_provider_ops _netmem_cuda_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "cuda",
	.init = cuda_init,
	.fini = cuda_fini,
	.area_create = cuda_area_create,
	.area_destroy = cuda_area_destroy,
	.dma_addr = cuda_dma_addr,
	.write = cuda_write,
	.read = cuda_read,
	.revoke = cuda_revoke,
	.area_fd = cuda_area_fd,
};
