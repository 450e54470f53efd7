/*
 * net: one `--net tap=NAME[,mac=MAC]`: a tap device (opened, or created
 * when it does not exist, with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), its
 * virtio-net device on virtio-mmio, and the host side of it on the event
 * loop: one readv and one writev at a time on the tap through io_uring,
 * the tap's offloads (TUNSETOFFLOAD) set to what the guest's driver
 * negotiated, the queue kicks as KVM ioeventfds and the interrupt as a
 * KVM irqfd. The device reads only into buffers the guest gave, so
 * frames for a guest that gives none wait in the tap's own queue.
 *
 * A tap that goes away or fails (the interface deleted: reads say EBADFD)
 * is reported once on stderr and the guest sees its link go down; the VM
 * runs on.
 */
#ifndef VMM_NET_H
#define VMM_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "evloop.h"
#include "kvm.h"
#include "virtio_net.h"

struct net {
	char tap[IFNAMSIZ];
	uint8_t mac[6];
	int fd;
	uint64_t guest_offloads; /* VIRTIO_NET_F_GUEST_*: what the tap can hand us */
	bool host_ufo;
	bool lost; /* the tap failed: link down for good */
	struct evloop *loop;
	struct virtio_net dev;
	struct net_backend be;
	int kick_fd[2], irq_fd; /* RX and TX queue kicks */
	uint64_t kick_buf[2];
	struct ev_op kick_op[2], rx_op, tx_op, cancel_op;
};

/* Parses "tap=NAME[,mac=MAC]"; without a MAC the guest gets
 * 52:54:00:12:34:(0x56 + index), locally administered. Returns 0, or -1
 * with a message in why. */
int net_parse_spec(const char *spec, int index, struct net *n, char *why, size_t whylen);

/* Opens or creates the tap and finds which offloads it takes, before any
 * KVM work. On failure prints one line and returns -1. */
int net_open(struct net *n);

/* Creates the device at MMIO base with interrupt gsi and wires the
 * ioeventfds and the irqfd. On failure writes why and returns -errno. */
int net_attach(struct net *n, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
	       uint64_t base, int gsi, char *why, size_t whylen);

/* Loop thread: starts listening for queue kicks. */
void net_start(struct net *n);

/* Loop thread, after every batch of completions: acts on a driver's
 * activation or reset. */
void net_poll(struct net *n);

/* After the loop has stopped. A tap this VMM created goes with it. */
void net_close(struct net *n);

#endif
