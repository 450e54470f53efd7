/* vmm-fstest: a file-system workout and escape attempts on a virtio-fs
 * mount, run in the guest by tests/kvm/vmm-fs.sh. Prints one line per
 * failed check and a summary line ("VMM-TEST fstest ok N" when all N
 * passed), so the console stays small.
 * usage: vmm-fstest DIR NENTRIES */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

static int checks, failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failed++;                                                                  \
			printf("VMM-TEST fstest FAIL line %d: ", __LINE__);                        \
			printf(__VA_ARGS__);                                                       \
			printf(" (errno %s)\n", strerror(errno));                                  \
		}                                                                                  \
	} while (0)

static int put(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static char *get(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static bool eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static void workout(void)
{
	struct stat st, st2;
	char *s;
	CHECK(put("f1", "hello", O_TRUNC) == 0, "create and write f1");
	CHECK(eq(get("f1"), "hello"), "read f1");
	CHECK(put("f1", " world", O_APPEND) == 0, "append to f1");
	CHECK(eq(get("f1"), "hello world"), "read appended f1");
	CHECK(truncate("f1", 5) == 0 && stat("f1", &st) == 0 && st.st_size == 5, "truncate down");
	CHECK(truncate("f1", 100) == 0 && stat("f1", &st) == 0 && st.st_size == 100, "truncate up");
	CHECK(truncate("f1", 5) == 0 && eq(get("f1"), "hello"), "truncate keeps the start");
	CHECK(rename("f1", "f2") == 0 && access("f1", F_OK) < 0 && eq(get("f2"), "hello"),
	      "rename");
	CHECK(put("f3", "old", O_TRUNC) == 0 && rename("f2", "f3") == 0 && eq(get("f3"), "hello") &&
		      access("f2", F_OK) < 0,
	      "rename over an existing file");
	CHECK(link("f3", "f4") == 0 && stat("f3", &st) == 0 && stat("f4", &st2) == 0 &&
		      st.st_ino == st2.st_ino && st.st_nlink == 2,
	      "hard link");
	char target[64] = {0};
	CHECK(symlink("f3", "s1") == 0 && readlink("s1", target, sizeof(target)) == 2 &&
		      !strcmp(target, "f3") && lstat("s1", &st) == 0 && S_ISLNK(st.st_mode),
	      "symlink and readlink");
	CHECK(eq(get("s1"), "hello"), "read through a symlink");
	CHECK(chmod("f3", 0640) == 0 && stat("f3", &st) == 0 && (st.st_mode & 07777) == 0640,
	      "chmod");
	CHECK(chown("f3", 1234, 5678) == 0 && stat("f3", &st) == 0 && st.st_uid == 1234 &&
		      st.st_gid == 5678,
	      "chown");
	struct timeval tv[2] = {{1000000000, 0}, {1100000000, 0}};
	CHECK(utimes("f3", tv) == 0 && stat("f3", &st) == 0 && st.st_mtime == 1100000000 &&
		      st.st_atime == 1000000000,
	      "utimes");
	/* trusted.*: the host side may be a tmpfs, which has user.* xattrs
	 * only from Linux 6.6 on. */
	char val[32] = {0};
	CHECK(setxattr("f3", "trusted.vmm", "value", 5, 0) == 0, "setxattr");
	CHECK(getxattr("f3", "trusted.vmm", val, sizeof(val)) == 5 && !memcmp(val, "value", 5),
	      "getxattr");
	CHECK(getxattr("f3", "trusted.vmm", NULL, 0) == 5, "getxattr size");
	char list[256];
	ssize_t ln = listxattr("f3", list, sizeof(list));
	CHECK(ln > 0 && memmem(list, ln, "trusted.vmm", 12), "listxattr");
	CHECK(removexattr("f3", "trusted.vmm") == 0 && getxattr("f3", "trusted.vmm", val, 32) < 0 &&
		      errno == ENODATA,
	      "removexattr");
	CHECK(mkdir("d1", 0755) == 0 && stat("d1", &st) == 0 && S_ISDIR(st.st_mode), "mkdir");
	CHECK(rmdir("d1") == 0 && access("d1", F_OK) < 0, "rmdir");
	CHECK(mkfifo("fifo", 0600) == 0 && lstat("fifo", &st) == 0 && S_ISFIFO(st.st_mode),
	      "mknod fifo");
	CHECK(unlink("f4") == 0 && stat("f3", &st) == 0 && st.st_nlink == 1, "unlink");
	CHECK(unlink("fifo") == 0 && unlink("s1") == 0 && unlink("f3") == 0, "unlink all");
	int fd = open("sparse", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && fallocate(fd, 0, 0, 65536) == 0 && fstat(fd, &st) == 0 &&
		      st.st_size == 65536,
	      "fallocate");
	CHECK(fd >= 0 && pwrite(fd, "x", 1, 1 << 20) == 1 && lseek(fd, 65536, SEEK_HOLE) >= 65536,
	      "lseek SEEK_HOLE");
	CHECK(fd >= 0 && fsync(fd) == 0, "fsync");
	int fd2 = open("copy", O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t a = 1 << 20, b = 0;
	CHECK(fd2 >= 0 && copy_file_range(fd, &a, fd2, &b, 1, 0) == 1 && eq(get("copy"), "x"),
	      "copy_file_range");
	close(fd);
	close(fd2);
	CHECK(unlink("sparse") == 0 && unlink("copy") == 0, "unlink sparse and copy");
	s = get("missing");
	CHECK(!s && errno == ENOENT, "a missing file is ENOENT");
}

static void many(int n)
{
	char name[64];
	CHECK(mkdir("many", 0755) == 0, "mkdir many");
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "many/entry-%05d", i);
		int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			CHECK(0, "create %s", name);
			return;
		}
		close(fd);
	}
	DIR *d = opendir("many");
	int count = 0;
	unsigned long long sum = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "entry-", 6)) {
			count++;
			sum += strtoul(e->d_name + 6, NULL, 10);
		}
	if (d)
		closedir(d);
	CHECK(count == n && sum == (unsigned long long)n * (n - 1) / 2,
	      "listing 'many': %d of %d entries", count, n);
}

/* Escape attempts: none of them may reach the host file `secret` next to
 * the share, which holds SECRET. */
static void escapes(const char *dir)
{
	struct stat st, root;
	char *s;
	/* Symlinks the host put in the share, to outside: followed in the
	 * guest, they name guest paths, never host ones. */
	const char *links[] = {"esc-abs", "esc-rel", "esc-dotdot", "esc-shadow"};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		s = get(links[i]);
		CHECK(!s || !strstr(s, "SECRET"), "%s reads the host's secret", links[i]);
	}
	s = get("esc-dotdot/secret");
	CHECK(!s || !strstr(s, "SECRET"), "esc-dotdot/secret reads the host's secret");
	/* `..` of the share's root is the guest's directory above the mount. */
	char up[256];
	snprintf(up, sizeof(up), "%s/..", dir);
	CHECK(stat(up, &st) == 0 && stat("/", &root) == 0 && st.st_ino == root.st_ino &&
		      st.st_dev == root.st_dev,
	      "%s is the guest's /", up);
	CHECK(!get("../secret"), "../secret from the share's root");
	CHECK(put("inside", "x", O_TRUNC) == 0 && rename("inside", "/tmp/outside") < 0 &&
		      errno == EXDEV,
	      "rename out of the share");
	CHECK(link("/init", "hostlink") < 0 && errno == EXDEV, "hard link from outside");
	unlink("inside");
	/* A forged handle: node id 0x12345 generation 0 (fuse_encode_fh). */
	struct {
		struct file_handle fh;
		uint32_t w[3];
	} h = {{12, 0x81}, {0, 0x12345, 0}};
	int mfd = open(".", O_RDONLY | O_DIRECTORY);
	int fd = open_by_handle_at(mfd, &h.fh, O_RDONLY);
	CHECK(fd < 0, "open_by_handle_at with a forged node id");
	if (fd >= 0)
		close(fd);
	close(mfd);
}

int main(int argc, char **argv)
{
	if (argc != 3 || chdir(argv[1]) < 0) {
		printf("VMM-TEST fstest FAIL usage or chdir: %s\n", strerror(errno));
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	workout();
	escapes(argv[1]);
	many(atoi(argv[2]));
	printf("VMM-TEST fstest %s %d\n", failed ? "failed" : "ok", checks - failed);
	return failed != 0;
}
