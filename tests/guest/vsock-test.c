/*
 * vsock-test: moves a known byte stream both ways over N concurrent
 * stream sockets and checks every byte, for the vsock kvm test. The same
 * static binary runs in the guest (AF_VSOCK) and on the host (the VMM's
 * Unix sockets).
 *
 *   vsock-test listen  ADDR N BYTES   accept N streams
 *   vsock-test connect ADDR N BYTES   open N streams
 *
 * ADDR: vsock:PORT (listen) or vsock:CID:PORT (connect) for AF_VSOCK;
 * unix:PATH for a plain Unix socket; hybrid:PATH:PORT to connect to a
 * guest port through the VMM (CONNECT PORT / OK).
 *
 * Stream i: the connecting side first sends i (4 bytes), then each side
 * sends BYTES bytes from a generator seeded by (i, direction), shuts down
 * its sending half, and checks that it receives exactly the other side's
 * BYTES bytes and then end of stream. Prints one line with a checksum of
 * all bytes sent and one of all bytes received; exits 0 only if every
 * byte matched.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_STREAMS 64
#define CHUNK	    65536

static void die(const char *what)
{
	fprintf(stderr, "vsock-test: %s: %s\n", what, strerror(errno));
	exit(1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vsock-test: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* A byte stream from xorshift64*, the same however it is cut up. */
struct gen {
	uint64_t s, word;
	int left; /* bytes of word not yet used */
};

static void gen_init(struct gen *g, unsigned stream, unsigned dir)
{
	g->s = 0x9e3779b97f4a7c15ULL * (2 * stream + dir + 1);
	g->left = 0;
}

static void gen_fill(struct gen *g, uint8_t *p, size_t n)
{
	while (n) {
		if (!g->left) {
			g->s ^= g->s >> 12;
			g->s ^= g->s << 25;
			g->s ^= g->s >> 27;
			g->word = g->s * 0x2545f4914f6cdd1dULL;
			g->left = 8;
		}
		size_t k = (size_t)g->left < n ? (size_t)g->left : n;
		memcpy(p, (uint8_t *)&g->word + (8 - g->left), k);
		g->left -= (int)k;
		p += k;
		n -= k;
	}
}

/* FNV-1a over every byte, folded per stream by addition (order-free). */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

struct stream {
	int fd;
	unsigned id;
	int id_have; /* bytes of the id read so far (listen side) */
	uint8_t id_buf[4];
	unsigned long long sent, got;
	struct gen tx, rx;
	uint64_t tx_hash, rx_hash;
	int pend_off, pend_len; /* generated, not yet written */
	uint8_t pend[CHUNK];
	int eof;
};

static struct stream st[MAX_STREAMS];
static unsigned long long bytes;

static int vsock_connect(unsigned cid, unsigned port)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("vsock connect");
	return fd;
}

static int unix_connect(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die(path);
	return fd;
}

/* CONNECT PORT, then the VMM's OK line, read a byte at a time so nothing
 * of the stream after it is taken. */
static int hybrid_connect(const char *path, unsigned port)
{
	int fd = unix_connect(path);
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(fd, line, (size_t)n) != n)
		die("write CONNECT");
	int len = 0;
	while (len < (int)sizeof(line) - 1) {
		ssize_t r = read(fd, line + len, 1);
		if (r != 1) {
			fprintf(stderr, "vsock-test: no OK from the VMM for port %u\n", port);
			exit(1);
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strncmp(line, "OK ", 3)) {
		fprintf(stderr, "vsock-test: the VMM answered '%s'\n", line);
		exit(1);
	}
	return fd;
}

static int listen_on(const char *addr)
{
	int fd;
	if (!strncmp(addr, "vsock:", 6)) {
		struct sockaddr_vm a = {.svm_family = AF_VSOCK,
					.svm_cid = VMADDR_CID_ANY,
					.svm_port = (unsigned)atoi(addr + 6)};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die("vsock bind");
	} else if (!strncmp(addr, "unix:", 5)) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", addr + 5);
		unlink(a.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			die(addr);
	} else {
		fprintf(stderr, "vsock-test: cannot listen on '%s'\n", addr);
		exit(2);
	}
	if (listen(fd, MAX_STREAMS))
		die("listen");
	return fd;
}

static int connect_to(const char *addr)
{
	unsigned cid, port;
	char path[108];
	if (sscanf(addr, "vsock:%u:%u", &cid, &port) == 2)
		return vsock_connect(cid, port);
	if (sscanf(addr, "hybrid:%107[^:]:%u", path, &port) == 2)
		return hybrid_connect(path, port);
	if (!strncmp(addr, "unix:", 5))
		return unix_connect(addr + 5);
	fprintf(stderr, "vsock-test: cannot connect to '%s'\n", addr);
	exit(2);
}

static void start_stream(struct stream *s, int connecting)
{
	gen_init(&s->tx, s->id, connecting ? 0 : 1);
	gen_init(&s->rx, s->id, connecting ? 1 : 0);
	s->tx_hash = s->rx_hash = 0xcbf29ce484222325ULL;
}

/* Reads what is there; checks it against the generator. */
static void on_readable(struct stream *s, int connecting)
{
	static uint8_t buf[CHUNK], want[CHUNK];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		die("read");
	}
	uint8_t *p = buf;
	if (!connecting && s->id_have < 4) {
		while (n > 0 && s->id_have < 4) {
			s->id_buf[s->id_have++] = *p++;
			n--;
		}
		if (s->id_have < 4)
			return;
		memcpy(&s->id, s->id_buf, 4);
		if (s->id >= MAX_STREAMS)
			fail("stream id %u out of range (after %llu bytes)", s->id, s->got);
		start_stream(s, 0);
	}
	if (n == 0 && p == buf) {
		if (s->got != bytes)
			fail("stream %u: end of stream after %llu bytes", s->id, s->got);
		s->eof = 1;
		return;
	}
	if (s->got + (unsigned long long)n > bytes)
		fail("stream %u: more than expected, at %llu", s->id, s->got);
	gen_fill(&s->rx, want, (size_t)n);
	if (memcmp(p, want, (size_t)n)) {
		size_t i = 0;
		while (p[i] == want[i])
			i++;
		fail("stream %u: wrong byte at offset %llu", s->id, s->got + i);
	}
	s->rx_hash = fnv(s->rx_hash, p, (size_t)n);
	s->got += (unsigned long long)n;
}

static void on_writable(struct stream *s)
{
	if (s->pend_off == s->pend_len) {
		unsigned long long left = bytes - s->sent;
		s->pend_len = left < CHUNK ? (int)left : CHUNK;
		s->pend_off = 0;
		gen_fill(&s->tx, s->pend, (size_t)s->pend_len);
		s->tx_hash = fnv(s->tx_hash, s->pend, (size_t)s->pend_len);
	}
	ssize_t n = write(s->fd, s->pend + s->pend_off, (size_t)(s->pend_len - s->pend_off));
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		die("write");
	}
	s->pend_off += (int)n;
	s->sent += (unsigned long long)n;
	if (s->sent == bytes && shutdown(s->fd, SHUT_WR))
		die("shutdown");
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: vsock-test listen|connect ADDR N BYTES\n");
		return 2;
	}
	int connecting = !strcmp(argv[1], "connect");
	int n = atoi(argv[3]);
	bytes = strtoull(argv[4], NULL, 10);
	if (n < 1 || n > MAX_STREAMS || (!connecting && strcmp(argv[1], "listen"))) {
		fprintf(stderr, "vsock-test: bad arguments\n");
		return 2;
	}
	alarm(900); /* a hang fails the test rather than holding it forever */
	if (connecting) {
		for (int i = 0; i < n; i++) {
			st[i].fd = connect_to(argv[2]);
			st[i].id = (unsigned)i;
			start_stream(&st[i], 1);
			uint32_t id = (uint32_t)i;
			if (write(st[i].fd, &id, 4) != 4)
				die("write id");
		}
	} else {
		int lfd = listen_on(argv[2]);
		printf("vsock-test: listening\n");
		fflush(stdout);
		for (int i = 0; i < n; i++)
			if ((st[i].fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
				die("accept");
		close(lfd);
	}
	for (int i = 0; i < n; i++)
		fcntl(st[i].fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p[MAX_STREAMS];
		int live = 0;
		for (int i = 0; i < n; i++) {
			struct stream *s = &st[i];
			short ev = 0;
			if (!s->eof)
				ev |= POLLIN;
			/* The listening side sends once it knows which stream. */
			if (s->sent < bytes && (connecting || s->id_have == 4))
				ev |= POLLOUT;
			p[i] = (struct pollfd){.fd = ev ? s->fd : -1, .events = ev};
			live += ev != 0;
		}
		if (!live)
			break;
		if (poll(p, (nfds_t)n, -1) < 0)
			die("poll");
		for (int i = 0; i < n; i++) {
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(&st[i], connecting);
			if (p[i].revents & POLLOUT)
				on_writable(&st[i]);
		}
	}
	uint64_t tx = 0, rx = 0;
	for (int i = 0; i < n; i++) {
		tx += st[i].tx_hash;
		rx += st[i].rx_hash;
		close(st[i].fd);
	}
	printf("vsock-test: %s %d streams, %llu bytes each way each: ok sent=%016llx "
	       "received=%016llx\n",
	       argv[1], n, bytes, (unsigned long long)tx, (unsigned long long)rx);
	return 0;
}
