/*
 * serial: a 16550A-compatible UART (8250 family) at COM1. Enough of the
 * register set for Linux's 8250 driver: divisor latch, FIFO control, line
 * and modem status, and the RX-data and THR-empty interrupts. Pure state
 * machine: output and the IRQ line leave through callbacks, input enters
 * through serial_input(), so it is unit-tested without a VM.
 */
#ifndef VMM_DEVICES_SERIAL_H
#define VMM_DEVICES_SERIAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ	 4
#define SERIAL_NREGS	 8
#define SERIAL_RX_SIZE	 64 /* the 16550A's FIFO depth is 16; a little slack */

struct serial {
	pthread_mutex_t lock; /* vCPU threads write, the event loop feeds input */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thre_pending; /* THR-empty interrupt latched, until IIR read/THR write */
	int irq_level;	  /* last level given to set_irq */
	uint8_t rx[SERIAL_RX_SIZE];
	size_t rx_head, rx_len;
	const struct serial_ops *ops;
	void *opaque;
};

/* Callbacks, all optional, called with the UART's lock held from the
 * thread that touched it (a vCPU thread, or serial_input's caller). They
 * must not block and must not call back into the UART. */
struct serial_ops {
	void (*out)(void *opaque, uint8_t byte);  /* a byte the guest sent */
	void (*set_irq)(void *opaque, int level); /* the IRQ line changed */
	void (*rx_ready)(void *opaque);		  /* serial_input() would take more now */
};

void serial_init(struct serial *s, const struct serial_ops *ops, void *opaque);

/* Bus callbacks: offset 0..7 from the base port, 1-byte accesses. */
void serial_read(void *s, uint64_t offset, uint8_t *data, uint32_t len);
void serial_write(void *s, uint64_t offset, const uint8_t *data, uint32_t len);

/* Queues host input for the guest; returns how many bytes it took. Input
 * is only taken while the guest's driver has the port open (receive
 * interrupt enabled, OUT2 raised): bytes sent before would be lost to the
 * FIFO reset the driver does on open. ops->rx_ready says when to retry. */
size_t serial_input(struct serial *s, const uint8_t *buf, size_t len);

/* How many more input bytes serial_input() would take now. */
size_t serial_input_room(struct serial *s);

#endif
