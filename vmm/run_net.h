/*
 * run_net: `vmm run --net none|tap=NAME[,mac=MAC][,ip=CIDR][,ip6=CIDR]
 * [,gw=ADDR][,gw6=ADDR][,mtu=N]`: the container's eth0. "none" (the
 * default) leaves the guest with loopback only. A tap gives the VM a
 * virtio-net device on it (net.h) and the agent a "network" request
 * (proto.h) for eth0: the device's MAC, the MTU (mtu=, else the tap's),
 * the addresses and the default routes through the gateways; vmm run
 * sends it once the agent is ready, before create.
 */
#ifndef VMM_RUN_NET_H
#define VMM_RUN_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "net.h"
#include "proto.h"

#define RUN_NET_IFACE "eth0" /* the guest's name for the one device */

struct run_net {
	bool enabled;		  /* tap=: a device, and cfg to send */
	struct net net;		  /* the tap and its device */
	struct proto_network cfg; /* eth0: one interface, up to two routes */
};

/* Parses the option's value into rn (nothing opened). Returns 0, or -1
 * with one line in why: a key it does not know or given twice, a value
 * that does not parse, an address of the wrong family, a gateway without
 * an address of its family or outside that address's network. */
int run_net_parse(const char *spec, struct run_net *rn, char *why, size_t whylen);

/* With a tap: opens it (net_open: attached, or created for the run) and,
 * without mtu=, gives eth0 the tap's MTU. Prints one line and returns -1
 * on failure. Nothing to do for "none". */
int run_net_open(struct run_net *rn);

/* Closes the tap, if open. */
void run_net_close(struct run_net *rn);

#endif
