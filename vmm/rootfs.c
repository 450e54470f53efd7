/* rootfs: a directory as an ext4 image, made by mke2fs -d. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t total_bytes, total_files;

static int count(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path, (void)flag, (void)f;
	total_bytes += (uint64_t)st->st_blocks * 512;
	total_files++;
	return 0;
}

int rootfs_image(const char *dir, const char *image, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "rootfs %s: %s", dir,
			 errno && !S_ISDIR(st.st_mode) ? strerror(errno) : "not a directory");
		return -1;
	}
	total_bytes = total_files = 0;
	if (nftw(dir, count, 64, FTW_PHYS)) {
		snprintf(err, errlen, "rootfs %s: %s", dir, strerror(errno));
		return -1;
	}
	/* Room for metadata (a 256-byte inode and a block each, at worst),
	 * a third more for the container to write, and 64 MiB at least. */
	uint64_t kib = (total_bytes + total_files * 4352) / 1024 * 4 / 3 + 16384;
	if (kib < 65536)
		kib = 65536;
	char size[32];
	snprintf(size, sizeof(size), "%lluk", (unsigned long long)kib);
	pid_t pid = fork();
	if (pid == 0) {
		/* No journal: the image lives as long as the run. */
		const char *argv[] = {"mke2fs", "-q",	  "-F", "-t", "ext4", "-O", "^has_journal",
				      "-L",	"rootfs", "-d", dir,  image,  size, NULL};
		/* Quiet: it says "Creating regular file" even with -q. */
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execvp("mke2fs", (char **)argv);
		execv("/sbin/mke2fs", (char **)argv);
		fprintf(stderr, "mke2fs: %s (install e2fsprogs)\n", strerror(errno));
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "rootfs %s: mke2fs could not make an image of it", dir);
		unlink(image);
		return -1;
	}
	return 0;
}
