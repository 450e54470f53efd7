/*
 * console: the host side of the guest's serial console. Guest output is
 * appended by vCPU threads to a buffer that the event loop writes to the
 * output fd; host input is read by the event loop and fed to the UART as
 * fast as the guest drains its receive FIFO, once its driver is listening. So no vCPU thread ever waits
 * on a terminal or pipe. When the input is a terminal it is put in raw
 * mode, so keys (Ctrl-C too) go to the guest, and restored at the end.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "evloop.h"
#include "serial.h"

/* Output waiting for a slow reader is capped; beyond it bytes are dropped
 * and counted rather than stalling the guest. */
#define CONSOLE_OUT_SIZE (256 * 1024)

struct console {
	struct evloop *loop;
	struct serial *serial;
	int in_fd, out_fd; /* -1: none */

	pthread_mutex_t lock; /* guards the output buffer */
	uint8_t out[CONSOLE_OUT_SIZE];
	size_t out_head, out_len;
	bool writing; /* a write is in flight: its completion continues */
	bool out_broken;
	int out_errno; /* why the output broke (EPIPE: the reader went away) */
	unsigned long long dropped;
	struct ev_op write_op;

	uint8_t in[256]; /* loop thread only */
	size_t in_off, in_len;
	bool reading;
	struct ev_op read_op;

	int tty_fd; /* in raw mode, to restore; -1: untouched */
	struct termios saved;
};

/* Before the loop and the vCPUs start. */
void console_init(struct console *c, struct evloop *loop, struct serial *serial, int in_fd,
		  int out_fd);

/* Loop thread: starts reading input (raw mode if it is a terminal). */
void console_start(struct console *c);

/* Loop thread, from the loop's poll hook: moves pending input and output.
 * Returns true when no output is waiting or in flight. */
bool console_poll(struct console *c);

/* serial callbacks, vCPU threads: a byte the guest sent; the UART can take
 * input again. Never block. */
void console_out_byte(void *c, uint8_t byte);
void console_rx_ready(void *c);

/* After the loop and vCPUs stopped: writes anything left (only if the
 * loop ended early), restores the terminal, reports dropped output. */
void console_finish(struct console *c);

/* The last whole lines of a console log (path, as --console writes it)
 * that fit in out (len bytes with the NUL), for an error report: CR
 * dropped, every other control character but newline and tab shown as '?'
 * (the guest wrote them: they must not drive the reader's terminal), no
 * trailing newline; "" when the file is missing or empty. Only open,
 * lseek and read: callers run under the loop thread's seccomp filter. */
void console_log_tail(const char *path, char *out, size_t len);

#endif
