/*
 * netlink: host-side rtnetlink (libnl-route-3), groundwork for the OCI
 * runtime, which finds a container's network as an interface (a veth)
 * in the network namespace the engine made and must give the guest the
 * same: its configuration read here is the agent's network request
 * (proto.h) for it.
 *
 * Not yet: connecting the tap and the veth with tc (ingress qdiscs and
 * mirred egress redirects both ways, as Kata does).
 */
#ifndef VMM_NETLINK_H
#define VMM_NETLINK_H

#include <stddef.h>

#include "proto.h"

/* Reads interface name in the calling thread's network namespace into
 * n: one interface (its name, MAC, MTU and its global-scope addresses,
 * IPv4 and IPv6; link-local ones are the guest's own business) and the
 * routes of the main table out through it that someone added (not the
 * kernel's own prefix routes, which the guest's kernel makes itself from
 * the addresses), their device the interface's name: the caller renames
 * both to the guest's. A route with several next hops is left out. At
 * most PROTO_MAX_ADDRS addresses and PROTO_MAX_ROUTES routes: more is an
 * error. Returns 0, or -1 with one line in err. */
int netlink_read(const char *name, struct proto_network *n, char *err, size_t errlen);

#endif
