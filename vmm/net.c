/* net: a --net tap behind virtio-net, its frames read and written with io_uring. */
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "errf.h"

#define F(bit) (1ULL << (bit))

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char end;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &end) != 6 ||
	    strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A station address: not multicast (nor broadcast), not all zero. */
	if (mac[0] & 1 || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return -1;
	return 0;
}

int net_parse_spec(const char *spec, int index, struct net *n, char *why, size_t whylen)
{
	memset(n, 0, sizeof(*n));
	n->fd = n->kick_fd[0] = n->kick_fd[1] = n->irq_fd = -1;
	static const uint8_t base_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	memcpy(n->mac, base_mac, 6);
	n->mac[5] = (uint8_t)(n->mac[5] + index);
	char buf[128];
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		goto bad;
	bool have_tap = false;
	for (char *save, *opt = strtok_r(buf, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "tap=", 4)) {
			const char *name = opt + 4;
			if (!*name || strlen(name) >= IFNAMSIZ || strchr(name, '/') ||
			    strchr(name, '%'))
				return errf(why, whylen,
					    "'%s' is not an interface name (1 to %d bytes)", name,
					    IFNAMSIZ - 1);
			snprintf(n->tap, sizeof(n->tap), "%s", name);
			have_tap = true;
		} else if (!strncmp(opt, "mac=", 4)) {
			if (parse_mac(opt + 4, n->mac))
				return errf(
					why, whylen,
					"'%s' is not a unicast MAC address like 52:54:00:12:34:56",
					opt + 4);
		} else {
			goto bad;
		}
	}
	if (have_tap)
		return 0;
bad:
	return errf(why, whylen, "'%s' is not tap=NAME[,mac=MAC]", spec);
}

/* Which receive offloads the tap takes, tried one set after another and
 * then cleared: the driver's choice sets them later. TSO needs checksum
 * offload; UFO is what newer kernels may refuse. */
static void probe_offloads(struct net *n)
{
	static const struct {
		unsigned tun;
		uint64_t virtio;
	} steps[] = {
		{TUN_F_CSUM, F(VIRTIO_NET_F_GUEST_CSUM)},
		{TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
		 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
			 F(VIRTIO_NET_F_GUEST_ECN)},
	};
	unsigned have = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (ioctl(n->fd, TUNSETOFFLOAD, have | steps[i].tun) < 0)
			break;
		have |= steps[i].tun;
		n->guest_offloads |= steps[i].virtio;
	}
	if (have & TUN_F_CSUM && ioctl(n->fd, TUNSETOFFLOAD, have | TUN_F_UFO) == 0) {
		n->guest_offloads |= F(VIRTIO_NET_F_GUEST_UFO);
		n->host_ufo = true;
	}
	ioctl(n->fd, TUNSETOFFLOAD, 0);
}

int net_open(struct net *n)
{
	/* O_NONBLOCK: tun does not say it handles IOCB_NOWAIT (no
	 * FMODE_NOWAIT, Linux 6.1), so on a blocking fd io_uring hands every
	 * read and write to a worker thread; on a non-blocking one it tries
	 * inline and, for a read with nothing to read, polls the tap and
	 * retries (io_uring/io_uring.c: io_file_supports_nowait). */
	n->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (n->fd < 0) {
		fprintf(stderr, "vmm: net %s: /dev/net/tun: %s\n", n->tap, strerror(errno));
		return -1;
	}
	unsigned features = 0;
	if (ioctl(n->fd, TUNGETFEATURES, &features) < 0 || !(features & IFF_VNET_HDR)) {
		fprintf(stderr, "vmm: net %s: the tun driver has no IFF_VNET_HDR\n", n->tap);
		goto fail;
	}
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	memcpy(ifr.ifr_name, n->tap, sizeof(n->tap));
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		fprintf(stderr, "vmm: net %s: %s%s\n", n->tap, strerror(e),
			e == EPERM    ? " (creating or attaching a tap needs CAP_NET_ADMIN)"
			: e == EBUSY  ? " (another process has it open)"
			: e == EINVAL ? " (is it a tun device, or a multi-queue tap?)"
				      : "");
		goto fail;
	}
	/* VERSION_1: the header is always 12 bytes, num_buffers included;
	 * little-endian like this host (the tap's default here). */
	int hdr = NET_HDR_LEN;
	if (ioctl(n->fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		fprintf(stderr, "vmm: net %s: TUNSETVNETHDRSZ: %s\n", n->tap, strerror(errno));
		goto fail;
	}
	probe_offloads(n);
	return 0;
fail:
	close(n->fd);
	n->fd = -1;
	return -1;
}

/* The tap failed for good: say so once, and the guest's link goes down. */
static void lost(struct net *n, const char *what, int err)
{
	if (n->lost)
		return;
	n->lost = true;
	fprintf(stderr, "vmm: net %s: %s: %s; the guest's link is down\n", n->tap, what,
		strerror(err));
	virtio_net_set_link(&n->dev, false);
}

/* ---- the backend the device drives ---- */

static struct net *of(struct net_backend *b)
{
	return container_of(b, struct net, be);
}

static int be_set_offload(struct net_backend *b, uint64_t features)
{
	struct net *n = of(b);
	unsigned tun = 0;
	if (features & F(VIRTIO_NET_F_GUEST_CSUM)) {
		tun |= TUN_F_CSUM;
		tun |= features & F(VIRTIO_NET_F_GUEST_TSO4) ? TUN_F_TSO4 : 0;
		tun |= features & F(VIRTIO_NET_F_GUEST_TSO6) ? TUN_F_TSO6 : 0;
		/* tun refuses ECN without TSO (as 5.1.3.1 has the driver). */
		if (tun & (TUN_F_TSO4 | TUN_F_TSO6) && features & F(VIRTIO_NET_F_GUEST_ECN))
			tun |= TUN_F_TSO_ECN;
		tun |= features & F(VIRTIO_NET_F_GUEST_UFO) ? TUN_F_UFO : 0;
	}
	return ioctl(n->fd, TUNSETOFFLOAD, tun) < 0 ? -errno : 0;
}

static void rx_done(struct ev_op *op, int res)
{
	struct net *n = container_of(op, struct net, rx_op);
	/* A kernel whose io_uring hands a non-blocking fd's EAGAIN back
	 * instead of polling would have us spin: blocking it is, then. */
	if (res == -EAGAIN)
		fcntl(n->fd, F_SETFL, fcntl(n->fd, F_GETFL) & ~O_NONBLOCK);
	if (res < 0 && res != -EINTR && res != -EAGAIN && res != -ECANCELED)
		lost(n, "read", -res);
	virtio_net_received(&n->dev, res);
}

static void be_recv(struct net_backend *b, const struct iovec *iov, int cnt)
{
	struct net *n = of(b);
	evloop_readv(n->loop, &n->rx_op, n->fd, iov, cnt, (uint64_t)-1);
}

static void cancel_done(struct ev_op *op, int res)
{
	(void)op, (void)res; /* the read's own completion says how it ended */
}

static void be_cancel_recv(struct net_backend *b)
{
	struct net *n = of(b);
	/* Cancels all on the tap: a write caught too ends as a dropped frame,
	 * which is all a reset asks. */
	evloop_cancel_fd(n->loop, &n->cancel_op, n->fd);
}

static void tx_done(struct ev_op *op, int res)
{
	struct net *n = container_of(op, struct net, tx_op);
	/* A frame the tap refuses (EINVAL, EIO while it is down) is only
	 * dropped; the tap gone is the end. */
	if (res == -EBADFD || res == -ENODEV)
		lost(n, "write", -res);
	virtio_net_sent(&n->dev, res);
}

static void be_send(struct net_backend *b, const struct iovec *iov, int cnt)
{
	struct net *n = of(b);
	evloop_writev(n->loop, &n->tx_op, n->fd, iov, cnt, (uint64_t)-1);
}

/* ---- wiring ---- */

static void raise_irq(void *opaque)
{
	struct net *n = opaque;
	eventfd_write(n->irq_fd, 1); /* never blocks; see disk.c */
}

static void wake(void *opaque)
{
	struct net *n = opaque;
	evloop_wake(n->loop);
}

static void arm_kick(struct net *n, int q)
{
	evloop_read(n->loop, &n->kick_op[q], n->kick_fd[q], &n->kick_buf[q],
		    sizeof(n->kick_buf[q]));
}

static void rx_kicked(struct ev_op *op, int res)
{
	struct net *n = container_of(op, struct net, kick_op[NET_RXQ]);
	(void)res;
	virtio_net_rx_kick(&n->dev);
	arm_kick(n, NET_RXQ);
}

static void tx_kicked(struct ev_op *op, int res)
{
	struct net *n = container_of(op, struct net, kick_op[NET_TXQ]);
	(void)res;
	virtio_net_tx_kick(&n->dev);
	arm_kick(n, NET_TXQ);
}

int net_attach(struct net *n, struct kvm_vm *kvm, const struct guestmem *gm, struct evloop *loop,
	       uint64_t base, int gsi, char *why, size_t whylen)
{
	n->loop = loop;
	n->be = (struct net_backend){be_set_offload, be_recv, be_send, be_cancel_recv};
	n->cancel_op.complete = cancel_done;
	n->rx_op.complete = rx_done;
	n->tx_op.complete = tx_done;
	n->kick_op[NET_RXQ].complete = rx_kicked;
	n->kick_op[NET_TXQ].complete = tx_kicked;
	virtio_net_init(&n->dev, n->mac, n->guest_offloads, n->host_ufo, gm, &n->be, raise_irq,
			wake, n);
	int err = 0;
	for (int q = 0; q < 2 && !err; q++) {
		n->kick_fd[q] = eventfd(0, EFD_CLOEXEC);
		err = n->kick_fd[q] < 0 ? -errno
					: kvm_ioeventfd(kvm, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
							(uint64_t)q, n->kick_fd[q]);
	}
	if (!err) {
		n->irq_fd = eventfd(0, EFD_CLOEXEC);
		err = n->irq_fd < 0 ? -errno : kvm_irqfd(kvm, gsi, n->irq_fd);
	}
	if (err)
		snprintf(why, whylen, "net %s: eventfds: %s", n->tap, strerror(-err));
	return err;
}

void net_start(struct net *n)
{
	arm_kick(n, NET_RXQ);
	arm_kick(n, NET_TXQ);
}

void net_poll(struct net *n)
{
	virtio_net_poll(&n->dev);
}

void net_close(struct net *n)
{
	int *fds[] = {&n->fd, &n->kick_fd[0], &n->kick_fd[1], &n->irq_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
