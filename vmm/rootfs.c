/* rootfs: a directory as an ext4 image, made by mke2fs -d. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errf.h"

static uint64_t total_bytes, total_files;

static int count(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path, (void)flag, (void)f;
	total_bytes += (uint64_t)st->st_blocks * 512;
	total_files++;
	return 0;
}

/* Runs an e2fsprogs tool with no output (mke2fs says "Creating regular
 * file" even with -q, debugfs its banner). 0 if it exited 0. */
static int run_quiet(const char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char **)argv);
		char path[64];
		snprintf(path, sizeof(path), "/sbin/%s", argv[0]);
		execv(path, (char **)argv);
		_exit(127);
	}
	int status;
	return pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)
		       ? -1
		       : 0;
}

int rootfs_image(const char *dir, const char *image, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return errf(err, errlen, "rootfs %s: %s", dir,
			    errno && !S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
	total_bytes = total_files = 0;
	if (nftw(dir, count, 64, FTW_PHYS))
		return errf(err, errlen, "rootfs %s: %s", dir, strerror(errno));
	/* Room for metadata (a 256-byte inode and a block each, at worst),
	 * a third more for the container to write, and 64 MiB at least. */
	uint64_t kib = (total_bytes + total_files * 4352) / 1024 * 4 / 3 + 16384;
	if (kib < 65536)
		kib = 65536;
	char size[32];
	snprintf(size, sizeof(size), "%lluk", (unsigned long long)kib);
	/* No journal: a run's image lives as long as the run, an image's is
	 * written once and then only read. */
	const char *mkfs[] = {"mke2fs", "-q",	  "-F", "-t", "ext4", "-O", "^has_journal",
			      "-L",	"rootfs", "-d", dir,  image,  size, NULL};
	if (run_quiet(mkfs)) {
		snprintf(err, errlen, "rootfs %s: mke2fs (e2fsprogs) could not make an image of it",
			 dir);
		unlink(image);
		return -1;
	}
	/* mke2fs makes a /lost+found the tree never had, which the container
	 * would see (docker shows none): it goes unless the tree has one. */
	char lf[PATH_MAX];
	snprintf(lf, sizeof(lf), "%s/lost+found", dir);
	const char *rmdir_lf[] = {"debugfs", "-w", "-R", "rmdir lost+found", image, NULL};
	if (lstat(lf, &st) && run_quiet(rmdir_lf)) {
		snprintf(err, errlen, "rootfs %s: debugfs could not remove lost+found", dir);
		unlink(image);
		return -1;
	}
	return 0;
}
