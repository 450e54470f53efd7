/* console: guest serial console <-> host stdin/stdout through the event loop. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void write_done(struct ev_op *op, int res);
static void read_done(struct ev_op *op, int res);

void console_init(struct console *c, struct evloop *loop, struct serial *serial, int in_fd,
		  int out_fd)
{
	c->loop = loop;
	c->serial = serial;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	pthread_mutex_init(&c->lock, NULL);
	c->out_head = c->out_len = 0;
	c->writing = c->out_broken = false;
	c->out_errno = 0;
	c->dropped = 0;
	c->write_op.complete = write_done;
	c->in_off = c->in_len = 0;
	c->reading = false;
	c->read_op.complete = read_done;
	c->tty_fd = -1;
}

/* Lock held. Queues a write of the oldest contiguous run of output. */
static void start_write(struct console *c)
{
	if (c->writing || !c->out_len)
		return;
	size_t n = CONSOLE_OUT_SIZE - c->out_head;
	if (n > c->out_len)
		n = c->out_len;
	c->writing = true;
	evloop_write(c->loop, &c->write_op, c->out_fd, c->out + c->out_head, n);
}

static void write_done(struct ev_op *op, int res)
{
	struct console *c = container_of(op, struct console, write_op);
	pthread_mutex_lock(&c->lock);
	c->writing = false;
	if (res > 0) {
		c->out_head = (c->out_head + res) % CONSOLE_OUT_SIZE;
		c->out_len -= res;
	} else if (res != -EINTR && res != -EAGAIN) {
		/* The reader went away (EPIPE) or the fd failed: the guest
		 * keeps running, its output is counted as dropped. */
		c->out_broken = true;
		c->out_errno = res < 0 ? -res : EIO;
		c->dropped += c->out_len;
		c->out_len = 0;
	}
	start_write(c);
	pthread_mutex_unlock(&c->lock);
}

void console_out_byte(void *opaque, uint8_t byte)
{
	struct console *c = opaque;
	bool wake = false;
	pthread_mutex_lock(&c->lock);
	if (c->out_fd < 0) {
		/* no output wanted */
	} else if (c->out_broken || c->out_len == CONSOLE_OUT_SIZE) {
		c->dropped++;
	} else {
		/* Going from empty to non-empty with no write in flight is the
		 * only case the loop does not already know about. */
		wake = !c->out_len && !c->writing;
		c->out[(c->out_head + c->out_len++) % CONSOLE_OUT_SIZE] = byte;
	}
	pthread_mutex_unlock(&c->lock);
	if (wake)
		evloop_wake(c->loop);
}

/* Feeds buffered input to the UART; reads more once all of it is in. */
static void push_input(struct console *c)
{
	if (c->in_len) {
		size_t n = serial_input(c->serial, c->in + c->in_off, c->in_len);
		c->in_off += n;
		c->in_len -= n;
	}
	/* With input left over, console_rx_ready() brings us back. */
	if (!c->in_len && !c->reading && c->in_fd >= 0) {
		c->reading = true;
		evloop_read(c->loop, &c->read_op, c->in_fd, c->in, sizeof(c->in));
	}
}

static void read_done(struct ev_op *op, int res)
{
	struct console *c = container_of(op, struct console, read_op);
	c->reading = false;
	if (res == -EINTR || res == -EAGAIN) {
		push_input(c);
		return;
	}
	if (res <= 0) {
		/* End of input (or an input that cannot be read): the guest
		 * simply gets no more; that is not a reason to stop it. */
		c->in_fd = -1;
		return;
	}
	c->in_off = 0;
	c->in_len = res;
	push_input(c);
}

void console_rx_ready(void *opaque)
{
	struct console *c = opaque;
	evloop_wake(c->loop);
}

void console_start(struct console *c)
{
	if (c->in_fd >= 0 && isatty(c->in_fd) && tcgetattr(c->in_fd, &c->saved) == 0) {
		struct termios t = c->saved;
		cfmakeraw(&t);
		t.c_oflag = c->saved.c_oflag; /* keep output processing as it was */
		if (tcsetattr(c->in_fd, TCSANOW, &t) == 0)
			c->tty_fd = c->in_fd;
	}
	push_input(c);
}

bool console_poll(struct console *c)
{
	push_input(c);
	pthread_mutex_lock(&c->lock);
	start_write(c);
	bool idle = !c->writing;
	pthread_mutex_unlock(&c->lock);
	return idle;
}

void console_finish(struct console *c)
{
	/* The loop is gone: write what is left directly. */
	while (c->out_len && !c->out_broken) {
		size_t n = CONSOLE_OUT_SIZE - c->out_head;
		if (n > c->out_len)
			n = c->out_len;
		ssize_t w = write(c->out_fd, c->out + c->out_head, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			c->out_errno = w < 0 ? errno : EIO;
			c->dropped += c->out_len;
			break;
		}
		c->out_head = (c->out_head + w) % CONSOLE_OUT_SIZE;
		c->out_len -= w;
	}
	c->out_len = 0;
	if (c->tty_fd >= 0)
		tcsetattr(c->tty_fd, TCSANOW, &c->saved);
	c->tty_fd = -1;
	if (c->dropped && c->out_errno)
		fprintf(stderr, "vmm: console output: %s; %llu bytes of guest output dropped\n",
			strerror(c->out_errno), c->dropped);
	else if (c->dropped)
		fprintf(stderr,
			"vmm: %llu bytes of guest console output dropped (output not drained)\n",
			c->dropped);
}

void console_log_tail(const char *path, char *out, size_t len)
{
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)len - 1 ? end - ((off_t)len - 1) : 0;
	/* lseek and read, not pread: the loop's seccomp filter allows
	 * those. */
	ssize_t n = end > 0 && lseek(fd, from, SEEK_SET) == from ? read(fd, out, len - 1) : 0;
	close(fd);
	if (n <= 0)
		return;
	size_t start = 0, w = 0;
	if (from > 0) { /* a cut first line is dropped */
		char *nl = memchr(out, '\n', (size_t)n);
		start = nl ? (size_t)(nl - out) + 1 : (size_t)n;
	}
	for (size_t i = start; i < (size_t)n; i++) {
		unsigned char c = (unsigned char)out[i];
		if (c == '\r')
			continue; /* the serial console's CRLF */
		out[w++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
	}
	while (w > 0 && out[w - 1] == '\n')
		w--;
	out[w] = '\0';
}
