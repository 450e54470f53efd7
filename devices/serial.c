/* serial: a 16550A-compatible UART (8250 family) at COM1. */
#include "serial.h"

#include <stdbool.h>
#include <string.h>

/* Register offsets (DLAB selects the divisor latch at 0 and 1). */
enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

#define IER_RDI	     0x01 /* received data available */
#define IER_THRI     0x02 /* transmitter holding register empty */
#define IIR_NONE     0x01
#define IIR_THRI     0x02
#define IIR_RDI	     0x04
#define IIR_FIFO     0xc0 /* FIFOs enabled (16550A) */
#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB     0x80
#define LSR_DR	     0x01
#define LSR_THRE     0x20
#define LSR_TEMT     0x40
#define MCR_OUT2     0x08
#define MCR_LOOP     0x10
#define MSR_CTS	     0x10
#define MSR_DSR	     0x20
#define MSR_DCD	     0x80

void serial_init(struct serial *s, const struct serial_ops *ops, void *opaque)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	s->ops = ops;
	s->opaque = opaque;
}

static uint8_t iir(const struct serial *s)
{
	uint8_t fifo = (s->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((s->ier & IER_RDI) && s->rx_len)
		return IIR_RDI | fifo;
	if ((s->ier & IER_THRI) && s->thre_pending)
		return IIR_THRI | fifo;
	return IIR_NONE | fifo;
}

/* The interrupt line follows IIR; only changes are passed on. */
static void update_irq(struct serial *s)
{
	int level = !(iir(s) & IIR_NONE);
	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->ops->set_irq)
			s->ops->set_irq(s->opaque, level);
	}
}

/* Whether host input is taken: the driver has the port open, which on a PC
 * means receive interrupts on and the OUT2 line (the IRQ gate) raised.
 * Linux's probe sets IER without OUT2, and its open clears the FIFOs
 * before it sets both, so input offered earlier would be lost. */
static bool accepting(const struct serial *s)
{
	return (s->ier & IER_RDI) && (s->mcr & MCR_OUT2) && !(s->mcr & MCR_LOOP);
}

static size_t input_room(const struct serial *s)
{
	return accepting(s) ? SERIAL_RX_SIZE - s->rx_len : 0;
}

static void push_rx(struct serial *s, uint8_t byte)
{
	if (s->rx_len == SERIAL_RX_SIZE)
		return; /* overrun: dropped, as real hardware would */
	s->rx[(s->rx_head + s->rx_len++) % SERIAL_RX_SIZE] = byte;
}

void serial_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;
	if (len != 1 || offset >= SERIAL_NREGS)
		return;
	pthread_mutex_lock(&s->lock);
	bool dlab = s->lcr & LCR_DLAB;
	switch (offset) {
	case RBR_THR:
		if (dlab) {
			data[0] = s->dll;
		} else if (s->rx_len) {
			data[0] = s->rx[s->rx_head];
			s->rx_head = (s->rx_head + 1) % SERIAL_RX_SIZE;
			if (--s->rx_len == 0 && s->ops->rx_ready)
				s->ops->rx_ready(s->opaque);
		}
		break;
	case IER:
		data[0] = dlab ? s->dlm : s->ier;
		break;
	case IIR_FCR:
		data[0] = iir(s);
		/* Reading IIR while it reports THR empty acknowledges it. */
		if ((data[0] & 0x0f) == IIR_THRI)
			s->thre_pending = 0;
		break;
	case LCR:
		data[0] = s->lcr;
		break;
	case MCR:
		data[0] = s->mcr;
		break;
	case LSR:
		/* We transmit instantly: the transmitter is always empty. */
		data[0] = LSR_THRE | LSR_TEMT | (s->rx_len ? LSR_DR : 0);
		break;
	case MSR:
		/* A modem that is always there and ready. */
		data[0] = MSR_DCD | MSR_DSR | MSR_CTS;
		break;
	case SCR:
		data[0] = s->scr;
		break;
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

void serial_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct serial *s = opaque;
	if (len != 1 || offset >= SERIAL_NREGS)
		return;
	uint8_t v = data[0];
	pthread_mutex_lock(&s->lock);
	bool was_accepting = accepting(s);
	bool dlab = s->lcr & LCR_DLAB;
	switch (offset) {
	case RBR_THR:
		if (dlab) {
			s->dll = v;
			break;
		}
		if (s->mcr & MCR_LOOP)
			push_rx(s, v); /* loopback: the 8250 driver's self-test */
		else if (s->ops->out)
			s->ops->out(s->opaque, v);
		s->thre_pending = 1;
		break;
	case IER:
		if (dlab) {
			s->dlm = v;
			break;
		}
		/* Enabling THRI with the THR empty raises it at once, which
		 * is what starts the driver's interrupt-driven TX. */
		if ((v & IER_THRI) && !(s->ier & IER_THRI))
			s->thre_pending = 1;
		s->ier = v & 0x0f;
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			s->rx_len = 0;
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	}
	update_irq(s);
	if (!was_accepting && accepting(s) && s->ops->rx_ready)
		s->ops->rx_ready(s->opaque);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_input(struct serial *s, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	size_t n = 0;
	for (size_t room = input_room(s); n < len && n < room; n++)
		push_rx(s, buf[n]);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_input_room(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	size_t room = input_room(s);
	pthread_mutex_unlock(&s->lock);
	return room;
}
