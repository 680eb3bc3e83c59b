/* SPDX-License-Identifier: MIT */
/*
 * Sharing a pool's memory with another process or device by file descriptor.
 *
 * Providers whose memory is a file (memfd, dmabuf, cuda's dma-buf export)
 * hand out a descriptor for it; the receiver maps it (mmap), imports it
 * (ibv_reg_dmabuf_mr, another netmem process with "dmabuf:fd=N"), or passes
 * it on with SCM_RIGHTS. The memory stays alive while any side holds a
 * descriptor or a mapping, so a consumer keeps reading after the pool that
 * made it is destroyed.
 */
#ifndef NETMEM_MEMFD_H
#define NETMEM_MEMFD_H

#ifdef __cplusplus
extern "C" {
#endif

struct netmem_pool;

/*
 * A new file descriptor (close-on-exec) for the memory of the pool's area;
 * the caller owns it and closes it. What it names depends on the provider:
 *   memfd   the area's own memfd; byte 0 is the area's byte 0, the device
 *           address of a chunk is its offset in it. Sealed against growing,
 *           shrinking and new writable mappings: receivers map it read-only.
 *   dmabuf  the imported dma-buf (all of it); the area starts at the device
 *           address of its first chunk, which is an offset in this buffer.
 *   cuda    a dma-buf exported for the area's GPU memory, where the driver
 *           supports it.
 * Any thread; not while the pool is being destroyed by another thread.
 * Returns the fd, or -EINVAL (NULL), -ENODEV (provider revoked or the area's
 * memory already released), -EOPNOTSUPP (the provider has no descriptor for
 * its memory), or the -errno of dup/export; netmem_last_error() says why.
 */
int netmem_pool_area_fd(struct netmem_pool *pool);

#ifdef __cplusplus
}
#endif
#endif
