/*
 * rtnet: the container's network, as Docker wires it and Kata takes it.
 *
 * The engine's prestart hook (Docker's libnetwork-setkey) puts an
 * interface (a veth, say eth0, with addresses, MAC, MTU and routes) into
 * the network namespace of the pid-file process: the shim, which is the
 * VMM and is already running the VM by then. So:
 *
 * 1. Before boot, the shim (in the container's network namespace, only
 *    when the config has one) makes a tap, RTNET_TAP, and gives the VM a
 *    virtio-net device on it (rtnet_open_tap). The tap lives as long as
 *    the shim: it goes when the VMM does, however it ends.
 * 2. After the prestart and createRuntime hooks, create (rtnet_connect)
 *    looks into the shim's namespace from a child process: the one
 *    Ethernet interface there that is not our tap is the container's.
 *    Its configuration is read, the tap brought up with its MTU, the two
 *    joined with tc (netlink_redirect), and the agent is sent a network
 *    request giving the guest's eth0 the same MAC, MTU, addresses and
 *    routes. No such interface (docker --network none): nothing to do.
 */
#ifndef VMM_RT_RTNET_H
#define VMM_RT_RTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net.h"
#include "netlink.h"
#include "proto.h"

#define RTNET_TAP   "vmmtap0"
#define RTNET_GUEST "eth0" /* the guest's name for its one NIC */

/* Shim, in the container's network namespace before boot: creates
 * RTNET_TAP into n (net_open) for the VM's NIC. A namespace that already
 * has one (another container's VM: a shared network namespace) is an
 * error. Returns 0, or -1 with err. */
int rtnet_open_tap(struct net *n, char *err, size_t errlen);

/* Which of links[0..n) is the container's interface: the Ethernet ones
 * but RTNET_TAP and the tunnel drivers' fallback devices (gretap0,
 * erspan0, which appear in every namespace once their module is loaded).
 * Returns its position, -1 for none, or -2 with err when there are
 * several (one NIC per VM here). Pure. */
int rtnet_pick(const struct netlink_link *links, int n, char *err, size_t errlen);

/* nw as netlink_read read the container's interface, made the guest's:
 * the interface and every route's device renamed RTNET_GUEST. Pure. */
void rtnet_for_guest(struct proto_network *nw);

/* Create, after the hooks: the steps of 2. above in the network
 * namespace of shim (/proc/SHIM/ns/net) from a child process, so the
 * caller never leaves its own; the agent reached through the vsock
 * socket in the state directory dir_fd. A namespace that is the caller's
 * own (the host's) is left alone. Returns 0 (*configured: whether there
 * was an interface), or -1 with one line in err. */
int rtnet_connect(pid_t shim, int dir_fd, bool *configured, char *err, size_t errlen);

#endif
