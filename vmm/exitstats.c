/* exitstats: VM exits by reason and port I/O by port. */
#include "exitstats.h"

#include <stdlib.h>
#include <string.h>

#define NPORTS	  65536
#define TOP_PORTS 8

void exit_stats_init(struct exit_stats *s, int ports)
{
	memset(s, 0, sizeof(*s));
	if (ports)
		s->pio = calloc(NPORTS, sizeof(*s->pio));
}

void exit_stats_free(struct exit_stats *s)
{
	free(s->pio);
	s->pio = NULL;
}

void exit_stats_add(struct exit_stats *into, const struct exit_stats *from)
{
	for (int i = 0; i < EXITSTATS_REASONS; i++)
		into->reason[i] += from->reason[i];
	into->mmio += from->mmio;
	if (into->pio && from->pio)
		for (int p = 0; p < NPORTS; p++)
			into->pio[p] += from->pio[p];
}

static const char *reason_name(int r)
{
	switch (r) {
	case KVM_EXIT_IO:
		return "io";
	case KVM_EXIT_MMIO:
		return "mmio";
	case KVM_EXIT_HLT:
		return "hlt";
	case KVM_EXIT_SHUTDOWN:
		return "shutdown";
	case KVM_EXIT_SYSTEM_EVENT:
		return "system-event";
	case KVM_EXIT_INTR:
		return "intr";
	case KVM_EXIT_FAIL_ENTRY:
		return "fail-entry";
	case KVM_EXIT_INTERNAL_ERROR:
		return "internal-error";
	default:
		return NULL;
	}
}

void exit_stats_print(const struct exit_stats *s, FILE *f)
{
	uint64_t total = 0;
	for (int i = 0; i < EXITSTATS_REASONS; i++)
		total += s->reason[i];
	fprintf(f, "vmm: exits: %llu total", (unsigned long long)total);
	for (int i = 0; i < EXITSTATS_REASONS; i++) {
		if (!s->reason[i])
			continue;
		const char *name = reason_name(i);
		if (name)
			fprintf(f, ", %s %llu", name, (unsigned long long)s->reason[i]);
		else
			fprintf(f, ", reason %d %llu", i, (unsigned long long)s->reason[i]);
	}
	fputc('\n', f);
	if (!s->pio)
		return;
	/* The busiest ports, by a few passes of selection: there are few. */
	int top[TOP_PORTS];
	int ntop = 0;
	for (; ntop < TOP_PORTS; ntop++) {
		int best = -1;
		for (int p = 0; p < NPORTS; p++) {
			int taken = 0;
			for (int j = 0; j < ntop; j++)
				taken |= top[j] == p;
			if (s->pio[p] && !taken && (best < 0 || s->pio[p] > s->pio[best]))
				best = p;
		}
		if (best < 0)
			break;
		top[ntop] = best;
	}
	if (!ntop)
		return;
	fprintf(f, "vmm: busiest ports:");
	for (int j = 0; j < ntop; j++)
		fprintf(f, "%s 0x%x %u", j ? "," : "", top[j], s->pio[top[j]]);
	fputc('\n', f);
}
