/*
 * vmm-blkbench: the guest side of bench/blk. Moves MIB MiB through a block
 * device in 4 KiB requests, one at a time, with O_DIRECT (so every request
 * reaches the virtio-blk device: the guest's page cache is out of the
 * picture), in four patterns: sequential and random reads, then sequential
 * and random writes, over the first MIB MiB of the device. Random offsets
 * come from a fixed seed, so every monitor sees the same requests. A
 * pattern stops early after SECONDS (0: no limit).
 *
 * Prints one line per pattern, for the host to parse:
 *   VMM-BLKBENCH pattern=seq-read ops=256 bytes=1048576 us=12345
 * (us on the guest's CLOCK_MONOTONIC) and one VMM-BLKBENCH-FAIL line on an
 * error. Exits 0 if every pattern ran.
 *
 * usage: vmm-blkbench DEVICE MIB [SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* xorshift64: cheap, and the same sequence in every run. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Runs one pattern; returns 0 or -1 after printing why. */
static int run(int fd, const char *name, int write, int random, uint64_t blocks, unsigned secs,
	       uint8_t *buf)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL, ops = 0;
	uint64_t t0 = now_us(), limit = secs ? (uint64_t)secs * 1000000 : 0;
	for (; ops < blocks; ops++) {
		uint64_t block = random ? next_rand(&seed) % blocks : ops;
		off_t off = (off_t)(block * BLOCK);
		if (write)
			buf[0] = (uint8_t)ops; /* not all the same page */
		ssize_t n = write ? pwrite(fd, buf, BLOCK, off) : pread(fd, buf, BLOCK, off);
		if (n != BLOCK) {
			printf("VMM-BLKBENCH-FAIL pattern=%s offset=%lld: %s\n", name,
			       (long long)off, n < 0 ? strerror(errno) : "short transfer");
			return -1;
		}
		/* Look at the clock only now and then: it is not free. */
		if (limit && ops % 64 == 63 && now_us() - t0 >= limit) {
			ops++;
			break;
		}
	}
	uint64_t us = now_us() - t0;
	printf("VMM-BLKBENCH pattern=%s ops=%llu bytes=%llu us=%llu\n", name,
	       (unsigned long long)ops, (unsigned long long)(ops * BLOCK), (unsigned long long)us);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: vmm-blkbench DEVICE MIB [SECONDS]\n");
		return 2;
	}
	uint64_t mib = strtoull(argv[2], NULL, 10);
	unsigned secs = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0;
	int fd = open(argv[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	off_t size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	if (fd < 0 || size < 0) {
		printf("VMM-BLKBENCH-FAIL %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	uint64_t blocks = (mib << 20) / BLOCK;
	if (blocks > (uint64_t)size / BLOCK)
		blocks = (uint64_t)size / BLOCK;
	if (!blocks) {
		printf("VMM-BLKBENCH-FAIL %s: smaller than one block\n", argv[1]);
		return 1;
	}
	/* O_DIRECT wants the buffer aligned to the logical block size. */
	uint8_t *buf;
	if (posix_memalign((void **)&buf, BLOCK, BLOCK)) {
		printf("VMM-BLKBENCH-FAIL no memory\n");
		return 1;
	}
	memset(buf, 0xa5, BLOCK);
	static const struct {
		const char *name;
		int write, random;
	} pattern[] = {
		{"seq-read", 0, 0},
		{"rand-read", 0, 1},
		{"seq-write", 1, 0},
		{"rand-write", 1, 1},
	};
	for (size_t i = 0; i < sizeof(pattern) / sizeof(pattern[0]); i++)
		if (run(fd, pattern[i].name, pattern[i].write, pattern[i].random, blocks, secs,
			buf))
			return 1;
	/* The writes reach the host's file before the guest goes away. */
	if (fdatasync(fd)) {
		printf("VMM-BLKBENCH-FAIL fdatasync: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
