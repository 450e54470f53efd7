/*
 * rootfs: a directory as a disk image the guest can mount: an ext4 file
 * system made by Debian's mke2fs from the directory (`mke2fs -d`),
 * owners, modes and links kept. The image store makes one per image
 * (image_disk), shared read-only by its runs; directories given to
 * `vmm run` go over virtio-fs instead.
 */
#ifndef VMM_ROOTFS_H
#define VMM_ROOTFS_H

#include <stddef.h>

/* Makes image (a new file) from dir, sized for its contents with room to
 * spare. Returns 0, or -1 with one line in err. */
int rootfs_image(const char *dir, const char *image, char *err, size_t errlen);

#endif
