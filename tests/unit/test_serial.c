/* Unit tests for devices/serial.c: the 8250 as Linux's driver drives it. */
#include <check.h>

#include "check_main.h"
#include "serial.h"

#include <string.h>

static struct serial s;
static char out[256];
static size_t nout;
static int irq, irq_changes, ready;

static void on_out(void *opaque, uint8_t b)
{
	(void)opaque;
	if (nout < sizeof(out) - 1)
		out[nout++] = (char)b;
}

static void on_irq(void *opaque, int level)
{
	(void)opaque;
	irq = level;
	irq_changes++;
}

static void on_ready(void *opaque)
{
	(void)opaque;
	ready++;
}

static const struct serial_ops ops = {on_out, on_irq, on_ready};

static void setup(void)
{
	nout = 0;
	irq = irq_changes = ready = 0;
	memset(out, 0, sizeof(out));
	serial_init(&s, &ops, NULL);
}

static uint8_t rd(int reg)
{
	uint8_t v;
	/* The bus zero-fills reads; do the same here. */
	v = 0;
	serial_read(&s, reg, &v, 1);
	return v;
}

static void wr(int reg, uint8_t v)
{
	serial_write(&s, reg, &v, 1);
}

START_TEST(transmit_goes_out)
{
	wr(0, 'h');
	wr(0, 'i');
	ck_assert_str_eq(out, "hi");
	ck_assert_uint_eq(rd(5) & 0x60, 0x60); /* THRE | TEMT */
	ck_assert_int_eq(irq, 0);	       /* THRI not enabled */
}
END_TEST

START_TEST(divisor_latch_does_not_transmit)
{
	wr(3, 0x80); /* DLAB */
	wr(0, 0x01);
	wr(1, 0x00);
	ck_assert_uint_eq(rd(0), 0x01);
	wr(3, 0x03); /* 8N1, DLAB off */
	ck_assert_uint_eq(nout, 0);
	ck_assert_uint_eq(rd(3), 0x03);
}
END_TEST

START_TEST(thre_interrupt_cycle)
{
	/* Enabling THRI with an empty THR raises the line at once ... */
	wr(1, 0x02);
	ck_assert_int_eq(irq, 1);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x02);
	/* ... reading IIR acknowledges it ... */
	ck_assert_int_eq(irq, 0);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x01);
	/* ... and each byte written raises it again. */
	wr(0, 'x');
	ck_assert_int_eq(irq, 1);
	wr(1, 0x00);
	ck_assert_int_eq(irq, 0);
}
END_TEST

START_TEST(receive_with_interrupt)
{
	/* Until the driver opens the port, input waits: RDI alone is what
	 * Linux's probe sets; its open raises OUT2 too. */
	ck_assert_uint_eq(serial_input(&s, (const uint8_t *)"ab", 2), 0);
	wr(1, 0x01); /* RDI */
	ck_assert_uint_eq(serial_input_room(&s), 0);
	ck_assert_int_eq(ready, 0);
	wr(4, 0x0b);		    /* DTR RTS OUT2 */
	ck_assert_int_eq(ready, 1); /* the host may send now */
	ck_assert_int_eq(irq, 0);
	ck_assert_uint_eq(serial_input(&s, (const uint8_t *)"ab", 2), 2);
	ck_assert_int_eq(irq, 1);
	ck_assert_uint_eq(rd(5) & 0x01, 0x01);
	ck_assert_uint_eq(rd(2) & 0x0f, 0x04);
	ck_assert_uint_eq(rd(0), 'a');
	ck_assert_int_eq(irq, 1);
	ck_assert_int_eq(ready, 1);
	ck_assert_uint_eq(rd(0), 'b');
	ck_assert_int_eq(irq, 0);
	ck_assert_int_eq(ready, 2); /* drained: the host may send more */
	ck_assert_uint_eq(rd(5) & 0x01, 0);
	ck_assert_uint_eq(rd(0), 0); /* empty */
	ck_assert_int_eq(ready, 2);  /* reading an empty FIFO is no new event */
}
END_TEST

START_TEST(input_is_bounded)
{
	uint8_t buf[SERIAL_RX_SIZE + 10];
	memset(buf, 'z', sizeof(buf));
	wr(4, 0x08); /* OUT2 */
	wr(1, 0x01); /* RDI */
	ck_assert_uint_eq(serial_input(&s, buf, sizeof(buf)), SERIAL_RX_SIZE);
	ck_assert_uint_eq(serial_input_room(&s), 0);
	rd(0);
	ck_assert_uint_eq(serial_input_room(&s), 1);
	wr(2, 0x03); /* FIFO enable + clear RX */
	ck_assert_uint_eq(serial_input_room(&s), SERIAL_RX_SIZE);
	ck_assert_uint_eq(rd(2) & 0xc0, 0xc0);
}
END_TEST

START_TEST(loopback_for_the_driver_self_test)
{
	wr(4, 0x10); /* MCR loop */
	wr(0, 0x5a);
	ck_assert_uint_eq(nout, 0);
	ck_assert_uint_eq(rd(0), 0x5a);
}
END_TEST

START_TEST(odd_accesses_ignored)
{
	uint8_t v[2] = {'q', 'q'};
	serial_write(&s, 0, v, 2); /* 2-byte access */
	serial_write(&s, 8, v, 1); /* past the registers */
	ck_assert_uint_eq(nout, 0);
	ck_assert_uint_eq(rd(6), 0xb0); /* DCD DSR CTS */
	wr(7, 0x42);
	ck_assert_uint_eq(rd(7), 0x42);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("serial");
	TCase *tc = tcase_create("serial");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, transmit_goes_out);
	tcase_add_test(tc, divisor_latch_does_not_transmit);
	tcase_add_test(tc, thre_interrupt_cycle);
	tcase_add_test(tc, receive_with_interrupt);
	tcase_add_test(tc, input_is_bounded);
	tcase_add_test(tc, loopback_for_the_driver_self_test);
	tcase_add_test(tc, odd_accesses_ignored);
	suite_add_tcase(su, tc);
	return check_run(su);
}
