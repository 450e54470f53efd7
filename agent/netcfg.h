/*
 * netcfg: the agent's "network" request (proto.h) applied with rtnetlink,
 * hand-written: the agent is static and Debian ships no static libmnl.
 *
 * For each interface in order: link down when a MAC is to be set (most
 * drivers refuse a new MAC on a running link), the MAC, the MTU, the
 * addresses (IPv6 ones with IFA_F_NODAD, so they are usable at once
 * rather than after a second of duplicate detection), link up. Then the
 * routes. Every step is acknowledged by the kernel before the next; the
 * first failure stops it all.
 */
#ifndef VMM_AGENT_NETCFG_H
#define VMM_AGENT_NETCFG_H

#include <stddef.h>

#include "proto.h"

/* Applies n in the current network namespace. Returns 0, or -1 with one
 * line in err naming the interface or route, the step and the errno
 * ("eth0: add address fd00:3::2/64: Permission denied"). */
int netcfg_apply(const struct proto_network *n, char *err, size_t errlen);

/* netcfg_apply in the network namespace nsfd (an fd on /proc/PID/ns/net):
 * each of n's interfaces that is in the caller's namespace is moved there
 * first (a device that changes namespace comes up down and without
 * addresses, so the move must come before the rest); then the caller
 * enters it, applies n and returns to its own. Single-threaded callers
 * only (setns on the calling thread). Returns 0, or -1 with one line in
 * err ("eth0: move into the container's network namespace: ..."). */
int netcfg_apply_in(const struct proto_network *n, int nsfd, char *err, size_t errlen);

/* Brings up lo in the current namespace (a new one has it down, so even
 * 127.0.0.1 would be unreachable). Returns 0, or -1 with err. */
int netcfg_loopback_up(char *err, size_t errlen);

#endif
