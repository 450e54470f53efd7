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

#endif
