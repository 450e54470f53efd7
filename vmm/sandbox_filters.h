/*
 * sandbox_filters: each sandbox kind's seccomp filter as classic BPF,
 * compiled at build time by sandbox_gen (vmm/sandbox_gen.c, which holds the
 * allowlists and builds them with libseccomp) into sandbox_filters.c in the
 * build tree. vmm loads them as they are: no filter is compiled at run
 * time, which cost each confining thread tens of milliseconds of its boot
 * (libseccomp's rule database and BPF generation), and vmm carries no
 * filter compiler.
 */
#ifndef VMM_SANDBOX_FILTERS_H
#define VMM_SANDBOX_FILTERS_H

#include <linux/filter.h>

#include "sandbox.h"

#define SANDBOX_KINDS 4

/* What a filter does with a call that is on no list. */
enum sandbox_refusal {
	SANDBOX_KILL, /* SECCOMP_RET_KILL_PROCESS: the VMM dies of SIGSYS */
	SANDBOX_TRAP, /* SECCOMP_RET_TRAP: SIGSYS to the thread (VMM_SECCOMP_LOG) */
};

struct sandbox_filter {
	const struct sock_filter *insns;
	unsigned short len;
};

/* [kind][refusal]. In both, a call through another ABI (int 0x80, x32)
 * kills the process. */
extern const struct sandbox_filter sandbox_filters[SANDBOX_KINDS][2];

#endif
