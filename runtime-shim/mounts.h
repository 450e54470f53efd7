/*
 * mounts: a config's OCI mounts as the guest gets them. The agent makes
 * the container's /proc, /sys, /dev, /dev/pts and /dev/shm itself (the
 * config's entries for them are dropped); other file systems (tmpfs,
 * mqueue, cgroup as cgroup2, ...) are passed on as they are; a bind mount
 * of a host directory becomes a virtio-fs share of that directory (one
 * per distinct directory) and a bind of its tag in the guest. A bind of a
 * host file is not done by sharing the file's directory, which would
 * show the guest its neighbours (Docker's resolv.conf sits next to the
 * container's logs and config): such files are staged, each bind-mounted
 * onto an empty file in a directory private to the VMM, and that
 * directory is one share ("files").
 */
#ifndef VMM_RT_MOUNTS_H
#define VMM_RT_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#include "oci.h"
#include "proto.h"

/* Shares beside the rootfs's: the VM's 10 virtio slots less the rootfs,
 * the vsock and the NIC. */
#define RT_MAX_SHARES 7

struct rt_share {
	char tag[8];	 /* "v0".."v6", or "files" */
	const char *dir; /* host directory; NULL for the staged files */
	bool ro;	 /* every bind of it is read-only */
};

struct rt_file {
	const char *source; /* the host file */
	char name[8];	    /* its name in the staging directory: "f0".. */
};

struct rt_mounts {
	struct rt_share shares[RT_MAX_SHARES];
	int nshares;
	struct rt_file files[OCI_MAX_MOUNTS];
	int nfiles;
	struct proto_mount mounts[OCI_MAX_MOUNTS];
	int nmounts;
	char sources[OCI_MAX_MOUNTS][16]; /* "v0", "files/f3" */
};

/* Plans cfg's mounts (strings borrowed from cfg). A bind's source must
 * exist (stat, following symlinks: the engine gave it). Returns 0, or -1
 * with one line in err naming the mount. */
int rt_mounts_plan(const struct oci_config *cfg, struct rt_mounts *m, char *err, size_t errlen);

#endif
