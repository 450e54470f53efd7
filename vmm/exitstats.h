/*
 * exitstats: counts a vCPU's VM exits by reason and its port I/O by port,
 * to see where boot time goes (every exit is a round trip through KVM and
 * this process). One struct per vCPU, written only by its thread; merged
 * and printed after the vCPUs stopped.
 */
#ifndef VMM_EXITSTATS_H
#define VMM_EXITSTATS_H

#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>

#define EXITSTATS_REASONS 64 /* KVM exit reasons are small numbers */

struct exit_stats {
	uint64_t reason[EXITSTATS_REASONS]; /* the last slot counts anything larger */
	uint32_t *pio;			    /* 65536 per-port access counts, or NULL */
	uint64_t mmio;
};

/* Zeroes s; with ports, allocates the per-port table (left NULL if that
 * fails: the reasons are still counted). */
void exit_stats_init(struct exit_stats *s, int ports);
void exit_stats_free(struct exit_stats *s);

/* Counts the exit in run. A rep ins/outs counts once per element. */
static inline void exit_stats_count(struct exit_stats *s, const struct kvm_run *run)
{
	uint32_t r = run->exit_reason;
	s->reason[r < EXITSTATS_REASONS ? r : EXITSTATS_REASONS - 1]++;
	if (r == KVM_EXIT_IO && s->pio)
		s->pio[run->io.port] += run->io.count;
	else if (r == KVM_EXIT_MMIO)
		s->mmio++;
}

/* Adds from into into (into->pio must be allocated if from->pio is). */
void exit_stats_add(struct exit_stats *into, const struct exit_stats *from);

/* One line of exits by reason, one of the busiest ports. */
void exit_stats_print(const struct exit_stats *s, FILE *f);

#endif
