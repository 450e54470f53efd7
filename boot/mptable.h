/*
 * mptable: writes an Intel MultiProcessor Specification 1.4 table, which is
 * how a guest without ACPI learns its CPUs, its IOAPIC and how ISA IRQs
 * reach it. Pure code over struct guestmem.
 */
#ifndef VMM_BOOT_MPTABLE_H
#define VMM_BOOT_MPTABLE_H

#include "guestmem.h"

#define MPTABLE_MAX_CPUS    64
#define MPTABLE_IOAPIC_ADDR 0xfec00000u
#define MPTABLE_LAPIC_ADDR  0xfee00000u
#define MPTABLE_IOAPIC_PINS 24

/* Writes the floating pointer at LAYOUT_MPF and the configuration table at
 * LAYOUT_MPTABLE for ncpus CPUs (APIC IDs 0..ncpus-1, 0 the boot CPU).
 * Returns 0, or -EINVAL for a CPU count out of range or memory too small. */
int mptable_write(const struct guestmem *gm, int ncpus);

#endif
