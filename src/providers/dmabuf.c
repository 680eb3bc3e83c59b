/* SPDX-License-Identifier: MIT */
/*
 * dmabuf: import a dma-buf file descriptor (from a GPU driver, a dma-heap,
 * udmabuf, or netmem's own cuda provider) and carve areas out of it.
 *
 * The device address of a byte is its offset inside the dma-buf: what
 * devmem TCP's cmsg reports and what ibv_reg_dmabuf_mr takes as iova.
 * Areas are placed first-fit inside the buffer, aligned to their chunk size
 * (at most 2 MiB); an area cannot outgrow what is left of it.
 *
 * CPU access: each area is mmapped from the dma-buf where the exporter
 * allows it. Then the chunks are readable, and the provider's device-side
 * write and read bracket their copy with DMA_BUF_IOCTL_SYNC, as an
 * application should around its own CPU access (netmem_pool_area_fd() gives
 * it the buffer's fd for that). Where the exporter refuses mmap (most GPU
 * memory), the chunks are unreadable and write/read return -EOPNOTSUPP: the
 * memory is only for a real device to fill.
 *
 * The provider keeps its own duplicate of the fd: the caller may close its
 * copy after netmem_provider_create(). A descriptor that is not a dma-buf
 * is refused with -EBADF.
 *
 * Spec: "dmabuf:fd=N", with keys
 *   fd=N     the dma-buf (required)
 *   order=N  default chunk order, 0..9
 *   map=0|1  map areas for CPU access where allowed (default 1); 0 keeps
 *            every chunk unreadable
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../internal.h"
#include "builtin.h"

#if defined(__has_include)
#if __has_include(<linux/dma-buf.h>)
#include <linux/dma-buf.h>
#endif
#endif
#ifndef DMA_BUF_IOCTL_SYNC
struct dma_buf_sync {
	uint64_t flags;
};
#define DMA_BUF_SYNC_READ (1 << 0)
#define DMA_BUF_SYNC_WRITE (2 << 0)
#define DMA_BUF_SYNC_START (0 << 2)
#define DMA_BUF_SYNC_END (1 << 2)
#define DMA_BUF_IOCTL_SYNC _IOW('b', 0, struct dma_buf_sync)
#endif
#define NETMEM_DMA_BUF_MAGIC 0x444d4142 /* "DMAB", linux/magic.h */

struct dmabuf_range {
	size_t off, len;
	struct dmabuf_range *next; /* sorted by off */
};

struct dmabuf_priv {
	int fd;                    /* our own duplicate */
	size_t size;
	int map;
	_Atomic int revoked;
	pthread_mutex_t lock;      /* guards ranges */
	struct dmabuf_range *ranges;
};

struct dmabuf_area {
	struct dmabuf_range *range;
	void *map;                 /* NULL where the exporter refused mmap */
};

static const char *fd_kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return "unknown";
	if (S_ISREG(st.st_mode))
		return "a regular file";
	if (S_ISFIFO(st.st_mode))
		return "a pipe";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISCHR(st.st_mode))
		return "a character device";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	return "another kind of file";
}

/* 0 when fd is an open dma-buf, else -EBADF with the reason. */
static int check_dmabuf(int fd)
{
	struct statfs sfs;

	if (fcntl(fd, F_GETFD) < 0)
		return _netmem_err(EBADF, "dmabuf: fd %d is not an open file descriptor", fd);
	if (fstatfs(fd, &sfs) < 0)
		return _netmem_err(EBADF, "dmabuf: fd %d: fstatfs failed: %s", fd, strerror(errno));
	if ((unsigned long)sfs.f_type != NETMEM_DMA_BUF_MAGIC)
		return _netmem_err(EBADF,
				   "dmabuf: fd %d is not a dma-buf (it is %s, filesystem magic 0x%lx)",
				   fd, fd_kind(fd), (unsigned long)sfs.f_type);
	return 0;
}

static int dmabuf_init(struct netmem_provider *p, const char *args)
{
	struct dmabuf_priv *dp;
	char key[32], val[64];
	unsigned order = 0;
	int fd = -1, map = 1, ret;
	off_t end;

	while ((ret = netmem_spec_next(&args, key, sizeof(key), val, sizeof(val))) > 0) {
		unsigned long v;

		if (!strcmp(key, "fd")) {
			if (netmem_spec_uint("dmabuf", key, val, INT_MAX, &v))
				return -EINVAL;
			fd = (int)v;
		} else if (!strcmp(key, "order")) {
			if (netmem_spec_uint("dmabuf", key, val, NETMEM_MAX_ORDER, &v))
				return -EINVAL;
			order = (unsigned)v;
		} else if (!strcmp(key, "map")) {
			if (netmem_spec_uint("dmabuf", key, val, 1, &v))
				return -EINVAL;
			map = (int)v;
		} else {
			return _netmem_err(EINVAL, "dmabuf: unknown key '%s' (known: fd, order, map)",
					   key);
		}
	}
	if (ret < 0)
		return ret;
	if (fd < 0)
		return _netmem_err(EINVAL, "dmabuf: the spec needs fd=N (a dma-buf file descriptor)");
	ret = check_dmabuf(fd);
	if (ret < 0)
		return ret;
	/* A dma-buf's size is fixed; SEEK_END is how its API tells it. */
	end = lseek(fd, 0, SEEK_END);
	if (end <= 0)
		return _netmem_err(end < 0 ? errno : EINVAL, "dmabuf: fd %d: cannot learn its size%s%s",
				   fd, end < 0 ? ": " : " (0 bytes)", end < 0 ? strerror(errno) : "");
	lseek(fd, 0, SEEK_SET);
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return _netmem_err(ENOMEM, "dmabuf: out of memory");
	dp->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dp->fd < 0) {
		ret = _netmem_err(errno, "dmabuf: dup of fd %d failed: %s", fd, strerror(errno));
		free(dp);
		return ret;
	}
	dp->size = (size_t)end;
	dp->map = map;
	atomic_init(&dp->revoked, 0);
	pthread_mutex_init(&dp->lock, NULL);
	netmem_provider_set_priv(p, dp);
	return netmem_provider_set_default_order(p, order);
}

static void dmabuf_fini(struct netmem_provider *p)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);

	close(dp->fd);
	pthread_mutex_destroy(&dp->lock);
	free(dp);
}

/* First fit of len bytes at `align` inside the buffer. Caller holds lock. */
static int place_locked(struct dmabuf_priv *dp, size_t len, size_t align,
			struct dmabuf_range *r)
{
	struct dmabuf_range **pp = &dp->ranges;
	size_t at = 0;

	for (;;) {
		size_t start = (at + align - 1) & ~(align - 1);
		size_t gap_end = *pp ? (*pp)->off : dp->size;

		if (start <= gap_end && gap_end - start >= len) {
			r->off = start;
			r->len = len;
			r->next = *pp;
			*pp = r;
			return 0;
		}
		if (!*pp)
			return -ENOSPC;
		at = (*pp)->off + (*pp)->len;
		pp = &(*pp)->next;
	}
}

static size_t free_bytes_locked(const struct dmabuf_priv *dp)
{
	size_t used = 0;

	for (const struct dmabuf_range *r = dp->ranges; r; r = r->next)
		used += r->len;
	return dp->size - used;
}

static void unplace(struct dmabuf_priv *dp, struct dmabuf_range *r)
{
	pthread_mutex_lock(&dp->lock);
	for (struct dmabuf_range **pp = &dp->ranges; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&dp->lock);
}

static int dmabuf_area_create(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);
	size_t align = s->chunk_size < (2u << 20) ? s->chunk_size : (2u << 20);
	struct dmabuf_area *da;
	int ret;

	if (s->size / s->nr_chunks != s->chunk_size || s->size > dp->size)
		return _netmem_err(EINVAL,
				   "dmabuf: an area of %zu chunks of %zu bytes is larger than the %zu-byte dma-buf",
				   s->nr_chunks, s->chunk_size, dp->size);
	da = calloc(1, sizeof(*da));
	if (da)
		da->range = calloc(1, sizeof(*da->range));
	if (!da || !da->range) {
		free(da);
		return _netmem_err(ENOMEM, "dmabuf: out of memory");
	}
	pthread_mutex_lock(&dp->lock);
	ret = place_locked(dp, s->size, align, da->range);
	if (ret < 0)
		_netmem_err(ENOSPC,
			    "dmabuf: an area of %zu bytes does not fit in what is left of the %zu-byte dma-buf (%zu bytes free, aligned to %zu)",
			    s->size, dp->size, free_bytes_locked(dp), align);
	pthread_mutex_unlock(&dp->lock);
	if (ret < 0) {
		free(da->range);
		free(da);
		return ret;
	}
	if (dp->map) {
		da->map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, dp->fd,
			       (off_t)da->range->off);
		if (da->map == MAP_FAILED)
			da->map = NULL; /* the exporter keeps its memory to itself */
	}
	s->cpu_base = da->map;
	s->priv = da;
	return 0;
}

static void dmabuf_area_destroy(struct netmem_provider *p, struct netmem_area_spec *s)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);
	struct dmabuf_area *da = s->priv;

	if (da->map)
		munmap(da->map, s->size);
	unplace(dp, da->range);
	free(da->range);
	free(da);
	s->cpu_base = NULL;
	s->priv = NULL;
}

static uint64_t dmabuf_dma_addr(struct netmem_provider *p, const struct netmem_area_spec *s,
				size_t off)
{
	const struct dmabuf_area *da = s->priv;

	(void)p;
	return da->range->off + off;
}

static int dmabuf_sync(int fd, uint64_t flags)
{
	struct dma_buf_sync sy = { .flags = flags };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sy) < 0)
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	return 0;
}

/* Copy between the CPU and the area inside a SYNC START/END bracket. */
static int copy(struct netmem_provider *p, const struct netmem_area_spec *s, size_t off,
		void *dst, const void *src, size_t len, uint64_t dir)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);
	const struct dmabuf_area *da = s->priv;
	int ret;

	/* relaxed: a flag only; the core orders revocation against handles. */
	if (atomic_load_explicit(&dp->revoked, memory_order_relaxed))
		return -ENODEV;
	if (!da->map)
		return _netmem_err(EOPNOTSUPP, "dmabuf: the exporter does not allow CPU access");
	ret = dmabuf_sync(dp->fd, DMA_BUF_SYNC_START | dir);
	if (ret < 0)
		return _netmem_err(-ret, "dmabuf: DMA_BUF_IOCTL_SYNC start failed: %s",
				   strerror(-ret));
	if (dir == DMA_BUF_SYNC_WRITE)
		memcpy((char *)da->map + off, src, len);
	else
		memcpy(dst, (const char *)da->map + off, len);
	ret = dmabuf_sync(dp->fd, DMA_BUF_SYNC_END | dir);
	if (ret < 0)
		return _netmem_err(-ret, "dmabuf: DMA_BUF_IOCTL_SYNC end failed: %s",
				   strerror(-ret));
	return 0;
}

static int dmabuf_write(struct netmem_provider *p, const struct netmem_area_spec *s,
			size_t off, const void *src, size_t len)
{
	return copy(p, s, off, NULL, src, len, DMA_BUF_SYNC_WRITE);
}

static int dmabuf_read(struct netmem_provider *p, const struct netmem_area_spec *s,
		       size_t off, void *dst, size_t len)
{
	return copy(p, s, off, dst, NULL, len, DMA_BUF_SYNC_READ);
}

static void dmabuf_revoke(struct netmem_provider *p)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);

	atomic_store_explicit(&dp->revoked, 1, memory_order_relaxed);
}

static int dmabuf_area_fd(struct netmem_provider *p, const struct netmem_area_spec *s)
{
	struct dmabuf_priv *dp = netmem_provider_priv(p);
	int fd = fcntl(dp->fd, F_DUPFD_CLOEXEC, 0);

	(void)s;
	if (fd < 0)
		return _netmem_err(errno, "dmabuf: dup failed: %s", strerror(errno));
	return fd;
}

const struct netmem_provider_ops _netmem_dmabuf_ops = {
	.size = sizeof(struct netmem_provider_ops),
	.name = "dmabuf",
	.init = dmabuf_init,
	.fini = dmabuf_fini,
	.area_create = dmabuf_area_create,
	.area_destroy = dmabuf_area_destroy,
	.dma_addr = dmabuf_dma_addr,
	.write = dmabuf_write,
	.read = dmabuf_read,
	.revoke = dmabuf_revoke,
	.area_fd = dmabuf_area_fd,
};
