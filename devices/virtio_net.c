/* virtio_net: the virtio network device, with the frames moved by a backend. */
#include "virtio_net.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "byte_ring.h" /* iov_copy */

#define F(bit) (1ULL << (bit))

/* What we always offer: a tap takes partial checksums and TSO frames on
 * write whatever its offloads say (they only govern what it hands us). */
#define FEATURES                                                                                   \
	(F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |                \
	 F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |            \
	 F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_RING_F_INDIRECT_DESC) | F(VIRTIO_RING_F_EVENT_IDX))
#define GUEST_OFFLOADS                                                                             \
	(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |    \
	 F(VIRTIO_NET_F_GUEST_ECN) | F(VIRTIO_NET_F_GUEST_UFO))
#define GUEST_GSO                                                                                  \
	(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_UFO))

/* ---- transport callbacks: vCPU threads, transport lock held ---- */

static void config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_net *v = dev;
	/* struct virtio_net_config up to status: mac[6], le16 status. */
	uint8_t cfg[8];
	memcpy(cfg, v->mac, 6);
	cfg[6] = v->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	cfg[7] = 0;
	if (offset < sizeof(cfg))
		memcpy(data, cfg + offset, len < sizeof(cfg) - offset ? len : sizeof(cfg) - offset);
}

static int activate(void *dev, uint64_t features)
{
	/* The queues took INDIRECT and EVENT_IDX already; the loop sets the
	 * backend's offloads before it reads a frame for this driver. */
	struct virtio_net *v = dev;
	v->active = true;
	v->features = features;
	v->gen++;
	v->broken = v->broken_told = false;
	v->wake(v->opaque);
	return 0;
}

static void reset(void *dev)
{
	/* The held receive chains and a frame in flight are the loop's to
	 * forget when it sees gen move; until then nothing touches the
	 * queues (active is false). */
	struct virtio_net *v = dev;
	v->active = false;
	v->gen++;
	v->wake(v->opaque);
}

static void irq(void *dev)
{
	struct virtio_net *v = dev;
	v->irq(v->opaque);
}

static const struct virtio_dev_ops net_ops = {
	.config_read = config_read,
	.activate = activate,
	.reset = reset,
	.irq = irq,
};

void virtio_net_init(struct virtio_net *v, const uint8_t mac[6], uint64_t guest_offloads,
		     bool host_ufo, const struct guestmem *gm, struct net_backend *be,
		     void (*irq_fn)(void *), void (*wake)(void *), void *opaque)
{
	memset(v, 0, sizeof(*v));
	uint64_t features = FEATURES | (guest_offloads & GUEST_OFFLOADS);
	if (host_ufo)
		features |= F(VIRTIO_NET_F_HOST_UFO);
	virtio_mmio_init(&v->transport, VIRTIO_ID_NET, features, NET_NQUEUES, VIRTIO_NET_QUEUE_SIZE,
			 gm, &net_ops, v);
	memcpy(v->mac, mac, 6);
	v->link_up = true;
	v->be = be;
	v->irq = irq_fn;
	v->wake = wake;
	v->opaque = opaque;
}

/* ---- the queues: loop thread, transport lock held ---- */

static bool mrg(const struct virtio_net *v)
{
	return v->features & F(VIRTIO_NET_F_MRG_RXBUF);
}

/* Acts on activations and resets the loop has not seen yet. A frame in
 * flight stays in flight (the backend has one slot each way); its result
 * is dropped when it comes back to a later generation. */
static void sync_gen(struct virtio_net *v)
{
	if (v->gen_seen != v->gen) {
		v->gen_seen = v->gen;
		v->rx_n = v->rx_niov = 0;
		v->rx_bytes = 0;
		v->offload_set = false;
		/* A read waiting for a frame would write it into memory the
		 * driver no longer gives us, whenever one came. */
		if (v->receiving)
			v->be->cancel_recv(v->be);
		/* Without MRG_RXBUF every chain must hold a frame on its own
		 * (the driver sizes them); with it, gather enough chains for
		 * the largest frame the offloads allow. */
		uint32_t frame = v->features & GUEST_GSO ? NET_MAX_FRAME : NET_MAX_MTU_FRAME;
		v->rx_need = NET_HDR_LEN + frame;
	}
	if (v->active && !v->offload_set) {
		/* On failure the host keeps offloads the driver may not take;
		 * net_rx_fix_hdr drops such frames. */
		v->be->set_offload(v->be, v->features & GUEST_OFFLOADS);
		v->offload_set = true;
	}
}

static bool running(const struct virtio_net *v, int q)
{
	return v->active && !v->broken && v->transport.queue_ready[q];
}

static int pop(struct virtio_net *v, struct virtq *q)
{
	int r = virtq_pop(q, &v->chain);
	if (r == 0 && q->event_idx) {
		/* 2.7.10: ask to be told about the next one, then look once
		 * more so one made meanwhile is not missed. */
		virtq_set_avail_event(q);
		r = virtq_pop(q, &v->chain);
	}
	if (r < 0)
		v->broken = true;
	return r;
}

/* Takes receive chains from the driver until a read can have room for
 * any frame (or the driver has no more). */
static void fill_rx(struct virtio_net *v)
{
	struct virtq *q = &v->transport.queue[NET_RXQ];
	while (running(v, NET_RXQ) && v->rx_n < q->size &&
	       v->rx_niov + NET_RX_CHAIN_IOV <= NET_RX_IOV_MAX &&
	       (mrg(v) ? v->rx_bytes < v->rx_need : v->rx_n < 1)) {
		if (pop(v, q) <= 0)
			return;
		const struct virtq_chain *c = &v->chain;
		if (c->nread || c->n > NET_RX_CHAIN_IOV || c->write_len < NET_HDR_LEN ||
		    c->write_len > UINT32_MAX) {
			/* Cannot take a frame: given back unused. */
			virtq_push(q, c->head, 0);
			v->pushed_rx = true;
			continue;
		}
		struct net_rx_chain *e = &v->rx[v->rx_n++];
		*e = (struct net_rx_chain){c->head, (uint16_t)c->n, (uint32_t)c->write_len};
		for (int i = 0; i < c->n; i++)
			v->rx_iov[v->rx_niov++] = (struct iovec){c->buf[i].host, c->buf[i].len};
		v->rx_bytes += e->len;
	}
}

/* Starts a read when the chains held can take any frame: one chain, or
 * with MRG_RXBUF rx_need bytes, or all the driver can give at once (a
 * driver sizes its buffers so that a full ring holds the largest frame). */
static void start_rx(struct virtio_net *v)
{
	if (!running(v, NET_RXQ) || !v->link_up || v->receiving || !v->offload_set || !v->rx_n)
		return;
	int niov = v->rx[0].niov;
	if (mrg(v)) {
		if (v->rx_bytes < v->rx_need && v->rx_n < v->transport.queue[NET_RXQ].size &&
		    v->rx_niov + NET_RX_CHAIN_IOV <= NET_RX_IOV_MAX)
			return;
		niov = v->rx_niov;
	}
	v->receiving = true;
	v->rx_offered = mrg(v) ? v->rx_bytes : v->rx[0].len;
	v->recv_gen = v->gen_seen;
	v->be->recv(v->be, v->rx_iov, niov);
}

/* Sends transmit frames, one at a time; with the link down drops them. */
static void pump_tx(struct virtio_net *v)
{
	struct virtq *q = &v->transport.queue[NET_TXQ];
	while (running(v, NET_TXQ) && !v->sending) {
		if (pop(v, q) <= 0)
			return;
		int err = v->link_up ? net_tx_parse(&v->chain, v->features, &v->tx) : -1;
		if (err) {
			if (err > 0)
				v->stats.tx_errors++;
			else
				v->stats.tx_dropped++;
			virtq_push(q, v->chain.head, 0);
			v->pushed_tx = true;
			continue;
		}
		v->tx_iov[0] = (struct iovec){&v->tx.hdr, NET_HDR_LEN};
		memcpy(v->tx_iov + 1, v->tx.iov, (size_t)v->tx.niov * sizeof(struct iovec));
		v->sending = true;
		v->send_gen = v->gen_seen;
		v->tx_head = v->chain.head;
		v->be->send(v->be, v->tx_iov, v->tx.niov + 1);
	}
}

/* Every loop-thread entry point: lock, act on activations and resets, do
 * the work... */
static void enter(struct virtio_net *v)
{
	pthread_mutex_lock(&v->transport.lock);
	sync_gen(v);
}

/* ... then move what can move, unlock and raise what needs raising. */
static void leave(struct virtio_net *v)
{
	fill_rx(v);
	start_rx(v);
	pump_tx(v);
	bool notify = false;
	if (v->active && !v->broken) {
		if (v->pushed_rx)
			notify |= virtq_should_notify(&v->transport.queue[NET_RXQ]);
		if (v->pushed_tx)
			notify |= virtq_should_notify(&v->transport.queue[NET_TXQ]);
	}
	v->pushed_rx = v->pushed_tx = false;
	/* DEVICE_NEEDS_RESET once per malformed queue. */
	bool broken = v->broken && !v->broken_told;
	v->broken_told = v->broken;
	bool config = v->link_changed && v->active;
	v->link_changed = false;
	pthread_mutex_unlock(&v->transport.lock);
	if (broken)
		virtio_mmio_needs_reset(&v->transport);
	else if (notify)
		virtio_mmio_signal_used(&v->transport);
	if (config && !broken)
		virtio_mmio_signal_config(&v->transport);
}

void virtio_net_rx_kick(struct virtio_net *v)
{
	enter(v);
	leave(v);
}

void virtio_net_tx_kick(struct virtio_net *v)
{
	enter(v);
	leave(v);
}

void virtio_net_poll(struct virtio_net *v)
{
	enter(v);
	leave(v);
}

/* Puts a received frame of len bytes (header included) into the chains
 * held, in order; returns false if it has to be dropped. */
static bool deliver(struct virtio_net *v, uint32_t len)
{
	/* Chains taken while the read was in flight were not offered. */
	if (len < NET_HDR_LEN || len > v->rx_offered)
		return false; /* a header short, or truncated by the read */
	uint16_t head[VIRTIO_NET_QUEUE_SIZE];
	uint32_t used[VIRTIO_NET_QUEUE_SIZE];
	int nb = 0, niov = 0;
	for (uint32_t left = len; left; nb++) {
		used[nb] = left < v->rx[nb].len ? left : v->rx[nb].len;
		head[nb] = v->rx[nb].head;
		niov += v->rx[nb].niov;
		left -= used[nb];
	}
	struct virtio_net_hdr_v1 h;
	struct iovec hiov = {&h, NET_HDR_LEN};
	iov_copy(&hiov, 1, 0, v->rx_iov, niov, 0, NET_HDR_LEN);
	if (net_rx_fix_hdr(&h, v->features, (uint16_t)nb))
		return false;
	iov_copy(v->rx_iov, niov, 0, &hiov, 1, 0, NET_HDR_LEN);
	/* All of a merged frame's chains appear at once: a driver that saw
	 * the first before the rest would count them missing. */
	virtq_push_n(&v->transport.queue[NET_RXQ], head, used, nb);
	v->pushed_rx = true;
	v->rx_n -= nb;
	v->rx_niov -= niov;
	for (int i = 0; i < nb; i++)
		v->rx_bytes -= v->rx[i].len;
	memmove(v->rx, v->rx + nb, (size_t)v->rx_n * sizeof(v->rx[0]));
	memmove(v->rx_iov, v->rx_iov + niov, (size_t)v->rx_niov * sizeof(v->rx_iov[0]));
	return true;
}

void virtio_net_received(struct virtio_net *v, int res)
{
	enter(v);
	v->receiving = false;
	/* A frame read for a driver that has since reset is dropped. */
	if (v->recv_gen == v->gen_seen && v->active) {
		if (res >= 0 && deliver(v, (uint32_t)res))
			v->stats.rx_packets++;
		else
			v->stats.rx_dropped++;
	}
	leave(v);
}

void virtio_net_sent(struct virtio_net *v, int res)
{
	enter(v);
	v->sending = false;
	if (v->send_gen == v->gen_seen && v->active) {
		virtq_push(&v->transport.queue[NET_TXQ], v->tx_head, 0);
		v->pushed_tx = true;
		if (res >= 0)
			v->stats.tx_packets++;
		else
			v->stats.tx_dropped++;
	}
	leave(v);
}

void virtio_net_set_link(struct virtio_net *v, bool up)
{
	enter(v);
	if (v->link_up != up) {
		v->link_up = up;
		v->link_changed = true;
	}
	leave(v);
}
