/* mptable: an MP Specification 1.4 table for CPUs, IOAPIC and ISA IRQs. */
#include "mptable.h"

#include <errno.h>
#include <string.h>

#include "layout.h"

/* Layouts from the MP Specification 1.4, chapter 4. */
struct __attribute__((packed)) mpf {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;  /* configuration table */
	uint8_t length;	   /* in 16-byte units: 1 */
	uint8_t spec_rev;  /* 4 = 1.4 */
	uint8_t checksum;
	uint8_t feature[5]; /* all 0: a configuration table is present */
};

struct __attribute__((packed)) mpc_header {
	char signature[4]; /* "PCMP" */
	uint16_t length;   /* base table, header included */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_ptr;
	uint16_t oem_size;
	uint16_t count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
};

struct __attribute__((packed)) mpc_cpu {
	uint8_t type; /* 0 */
	uint8_t apic_id;
	uint8_t apic_ver;
	uint8_t flags; /* bit 0 enabled, bit 1 boot CPU */
	uint32_t signature;
	uint32_t features;
	uint32_t reserved[2];
};

struct __attribute__((packed)) mpc_bus {
	uint8_t type; /* 1 */
	uint8_t id;
	char name[6];
};

struct __attribute__((packed)) mpc_ioapic {
	uint8_t type; /* 2 */
	uint8_t id;
	uint8_t ver;
	uint8_t flags; /* bit 0 enabled */
	uint32_t addr;
};

struct __attribute__((packed)) mpc_irq {
	uint8_t type;	 /* 3: I/O interrupt, 4: local interrupt */
	uint8_t irqtype; /* 0 INT, 1 NMI, 3 ExtINT */
	uint16_t flags;	 /* 0: polarity and trigger conform to the bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst_apic; /* 0xff: every local APIC */
	uint8_t dst_pin;
};

enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define APIC_VERSION   0x14
#define IOAPIC_VERSION 0x11
#define ISA_BUS	       0

static uint8_t checksum(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)p)[i];
	return (uint8_t)-sum;
}

static size_t mptable_size(int ncpus)
{
	return sizeof(struct mpc_header) + ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) + (MPTABLE_IOAPIC_PINS + 3) * sizeof(struct mpc_irq);
}

int mptable_write(const struct guestmem *gm, int ncpus)
{
	if (ncpus < 1 || ncpus > MPTABLE_MAX_CPUS)
		return -EINVAL;
	size_t size = mptable_size(ncpus);
	uint8_t *table = gm_ptr(gm, LAYOUT_MPTABLE, size);
	struct mpf *mpf = gm_ptr(gm, LAYOUT_MPF, sizeof(struct mpf));
	if (!table || !mpf || LAYOUT_MPTABLE + size > LAYOUT_MPF)
		return -EINVAL;
	memset(table, 0, size);

	struct mpc_header *h = (struct mpc_header *)table;
	uint8_t *p = table + sizeof(*h);
	uint16_t count = 0;
	for (int i = 0; i < ncpus; i++, count++, p += sizeof(struct mpc_cpu))
		*(struct mpc_cpu *)p = (struct mpc_cpu){
			.type = 0,
			.apic_id = (uint8_t)i,
			.apic_ver = APIC_VERSION,
			.flags = 1 | (i == 0 ? 2 : 0),
			.signature = 0x600, /* family 6: only informative */
		};
	*(struct mpc_bus *)p = (struct mpc_bus){.type = 1, .id = ISA_BUS, .name = "ISA   "};
	p += sizeof(struct mpc_bus), count++;
	/* The IOAPIC's ID follows the CPUs' so the two never clash. */
	const uint8_t ioapic_id = (uint8_t)ncpus;
	*(struct mpc_ioapic *)p = (struct mpc_ioapic){.type = 2,
						      .id = ioapic_id,
						      .ver = IOAPIC_VERSION,
						      .flags = 1,
						      .addr = MPTABLE_IOAPIC_ADDR};
	p += sizeof(struct mpc_ioapic), count++;
	/* ISA IRQ n arrives on IOAPIC pin n, as KVM's default GSI routing has
	 * it (the PIT on pin 0, no override to pin 2); pin 0 also carries the
	 * PIC's ExtINT, which Linux's timer check looks for. Pins 16..23
	 * serve virtio-mmio devices. */
	for (int i = -1; i < MPTABLE_IOAPIC_PINS; i++, count++, p += sizeof(struct mpc_irq)) {
		uint8_t pin = i < 0 ? 0 : (uint8_t)i;
		*(struct mpc_irq *)p = (struct mpc_irq){.type = 3,
							.irqtype = i < 0 ? MP_EXTINT : MP_INT,
							.src_bus = ISA_BUS,
							.src_irq = pin,
							.dst_apic = ioapic_id,
							.dst_pin = pin};
	}
	/* LINT0 takes ExtINT and LINT1 NMI on every local APIC. */
	const uint8_t lint_type[2] = {MP_EXTINT, MP_NMI};
	for (int lint = 0; lint < 2; lint++, count++, p += sizeof(struct mpc_irq))
		*(struct mpc_irq *)p = (struct mpc_irq){.type = 4,
							.irqtype = lint_type[lint],
							.src_bus = ISA_BUS,
							.dst_apic = 0xff,
							.dst_pin = (uint8_t)lint};

	memcpy(h->signature, "PCMP", 4);
	h->length = (uint16_t)size;
	h->spec_rev = 4;
	memcpy(h->oem, "VMM     ", 8);
	memcpy(h->product, "MICROVM     ", 12);
	h->count = count;
	h->lapic = MPTABLE_LAPIC_ADDR;
	h->checksum = checksum(table, size);

	memset(mpf, 0, sizeof(*mpf));
	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = LAYOUT_MPTABLE;
	mpf->length = 1;
	mpf->spec_rev = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
