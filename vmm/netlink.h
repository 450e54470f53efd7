/*
 * netlink: host-side rtnetlink (libnl-route-3), groundwork for the OCI
 * runtime, which finds a container's network as an interface (a veth)
 * in the network namespace the engine made and must give the guest the
 * same: its configuration read here is the agent's network request
 * (proto.h) for it.
 *
 * The runtime then joins that interface to the VM's tap with tc, as
 * Kata's default "tcfilter" model does (netlink_redirect), so the guest
 * answers for the veth's addresses and its frames flow straight through.
 */
#ifndef VMM_NETLINK_H
#define VMM_NETLINK_H

#include <stddef.h>
#include <stdint.h>

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

/* One link of a network namespace, as netlink_links lists it. */
struct netlink_link {
	char name[16]; /* IFNAMSIZ */
	int index;
	unsigned arptype; /* ARPHRD_*: ARPHRD_ETHER for veths and taps */
	char kind[16];	  /* IFLA_INFO_KIND ("veth", "tun", ...), "" if none */
};

/* Lists the calling thread's network namespace's links into out (at
 * most max of them). Returns how many there are (more than max: only
 * max were written), or -1 with err. */
int netlink_links(struct netlink_link *out, int max, char *err, size_t errlen);

/* Sets interface name's MTU (0: leaves it) and brings it up. Returns 0
 * or -1 with err. */
int netlink_link_up(const char *name, uint32_t mtu, char *err, size_t errlen);

/* Joins interfaces a and b: an ingress qdisc on each (one already there
 * is used) and on each a u32 filter matching every frame with a mirred
 * egress redirect to the other. Whatever arrives on one then leaves by
 * the other, bypassing this namespace's own stack: with a veth and a
 * VM's tap, the guest has the veth's link. Returns 0, or -1 with err
 * naming the interface and the step. */
int netlink_redirect(const char *a, const char *b, char *err, size_t errlen);

#endif
