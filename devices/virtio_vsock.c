/* virtio_vsock: stream sockets between the guest and the host, with the
 * host side left to a backend. */
#include "virtio_vsock.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <string.h>

#define FEATURES  ((1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX))
#define SHUT_BOTH (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)

/* ---- transport callbacks: vCPU threads, transport lock held ---- */

static void config_read(void *dev, uint32_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_vsock *v = dev;
	uint8_t cfg[8];
	for (int i = 0; i < 8; i++)
		cfg[i] = (uint8_t)(v->cid >> (8 * i)); /* le64 guest_cid */
	if (offset < sizeof(cfg))
		memcpy(data, cfg + offset, len < sizeof(cfg) - offset ? len : sizeof(cfg) - offset);
}

static int activate(void *dev, uint64_t features)
{
	struct virtio_vsock *v = dev;
	(void)features; /* the queues took INDIRECT and EVENT_IDX already */
	v->active = true;
	v->broken = v->broken_told = false;
	return 0;
}

static void reset(void *dev)
{
	/* The connections are the loop's: it drops them when it sees gen
	 * move. Until then nothing touches the queues (active is false). */
	struct virtio_vsock *v = dev;
	v->active = false;
	v->gen++;
	v->wake(v->opaque);
}

static void irq(void *dev)
{
	struct virtio_vsock *v = dev;
	v->irq(v->opaque);
}

static const struct virtio_dev_ops vsock_ops = {
	.config_read = config_read,
	.activate = activate,
	.reset = reset,
	.irq = irq,
};

void virtio_vsock_init(struct virtio_vsock *v, uint64_t cid, const struct guestmem *gm,
		       struct vsock_backend *be, void (*irq_fn)(void *), void (*wake)(void *),
		       void *opaque)
{
	memset(v, 0, sizeof(*v));
	virtio_mmio_init(&v->transport, VIRTIO_ID_VSOCK, FEATURES, VSOCK_NQUEUES, VSOCK_QUEUE_SIZE,
			 gm, &vsock_ops, v);
	v->cid = cid;
	v->be = be;
	v->irq = irq_fn;
	v->wake = wake;
	v->opaque = opaque;
	v->next_port = VSOCK_LOCAL_PORT0;
}

/* ---- connections: loop thread, transport lock held ---- */

static struct vsock_conn *lookup(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	/* A closing connection is gone for the guest: a new one may reuse
	 * its ports at once. */
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state != VSOCK_FREE && c->state != VSOCK_CLOSING && c->local_port == local &&
		    c->peer_port == peer)
			return c;
	}
	return NULL;
}

static struct vsock_conn *alloc_conn(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state != VSOCK_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		if (byte_ring_init(&c->tx, VSOCK_BUF_SIZE) ||
		    byte_ring_init(&c->rx, VSOCK_RX_BUF_SIZE)) {
			byte_ring_free(&c->tx);
			return NULL;
		}
		c->local_port = local;
		c->peer_port = peer;
		c->backend_open = true;
		return c;
	}
	return NULL;
}

static void unlist(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (!c->listed)
		return;
	struct vsock_conn **p = &v->head, *prev = NULL;
	while (*p != c) {
		prev = *p;
		p = &(*p)->next;
	}
	*p = c->next;
	if (v->tail == c)
		v->tail = prev;
	c->next = NULL;
	c->listed = false;
}

static void maybe_free(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_CLOSING || c->backend_open || c->owed)
		return;
	unlist(v, c);
	byte_ring_free(&c->tx);
	byte_ring_free(&c->rx);
	c->state = VSOCK_FREE;
}

/* Puts c on the RX service list (if not on it): it may have a packet for
 * the guest. */
static void enlist(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->listed)
		return;
	c->listed = true;
	c->next = NULL;
	if (v->tail)
		v->tail->next = c;
	else
		v->head = c;
	v->tail = c;
}

/* Ends c: an RST to the guest if rst, and the backend closes. */
static void close_conn(struct virtio_vsock *v, struct vsock_conn *c, bool rst)
{
	if (c->state == VSOCK_CLOSING)
		return;
	c->state = VSOCK_CLOSING;
	c->owed = rst ? VSOCK_OWE_RST : 0;
	if (rst)
		enlist(v, c);
	v->be->close(v->be, c);
}

/* Host -> guest bytes the guest has room for (5.10.6.3: buf_alloc minus
 * what we sent that it has not consumed). A guest reporting more consumed
 * than it got only stalls itself. */
static uint32_t peer_credit(const struct vsock_conn *c)
{
	uint32_t unread = c->rx_cnt - c->peer_fwd_cnt;
	return unread > c->peer_buf_alloc ? 0 : c->peer_buf_alloc - unread;
}

static void start_recv(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_ESTABLISHED || c->receiving || c->host_eof ||
	    (c->guest_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) || byte_ring_space(&c->rx) == 0)
		return;
	struct iovec iov[2];
	int n = byte_ring_free_space(&c->rx, iov);
	c->receiving = true;
	v->be->recv(v->be, c, iov, n);
}

static void start_send(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_ESTABLISHED || c->sending || byte_ring_used(&c->tx) == 0)
		return;
	struct iovec iov[2];
	int n = byte_ring_data(&c->tx, UINT32_MAX, iov);
	c->sending = true;
	v->be->send(v->be, c, iov, n);
}

/* Guest -> host bytes are all sent: pass on a half-close, or end the
 * connection once the guest has shut both ways (5.10.6.6: the peer then
 * expects an RST). */
static void tx_drained(struct virtio_vsock *v, struct vsock_conn *c)
{
	if (c->state != VSOCK_ESTABLISHED || c->sending || byte_ring_used(&c->tx))
		return;
	if ((c->guest_shutdown & SHUT_BOTH) == SHUT_BOTH) {
		close_conn(v, c, true);
	} else if ((c->guest_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) && !c->wr_shut) {
		c->wr_shut = true;
		v->be->shutdown_write(v->be, c);
	}
}

/* An RST for a packet that has no connection (never for an RST). */
static void rst_reply(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	if (h->op == VIRTIO_VSOCK_OP_RST || v->nrst == VSOCK_RST_BACKLOG)
		return; /* a guest flooding bad packets loses some answers */
	v->rst[v->nrst++] = (struct vsock_hdr){
		.src_cid = h->dst_cid,
		.dst_cid = h->src_cid,
		.src_port = h->dst_port,
		.dst_port = h->src_port,
		.type = h->type,
		.op = VIRTIO_VSOCK_OP_RST,
	};
}

/* Takes a RW packet's payload into c's TX ring. */
static void take_data(struct virtio_vsock *v, struct vsock_conn *c, const struct vsock_hdr *h)
{
	if (c->state != VSOCK_ESTABLISHED || (c->guest_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
	    h->len > byte_ring_space(&c->tx)) {
		/* Not connected, after its own shutdown, or past its credit. */
		close_conn(v, c, true);
		return;
	}
	struct iovec iov[2];
	int n = byte_ring_free_space(&c->tx, iov);
	vsock_pkt_read_payload(&v->chain, iov, n, h->len);
	byte_ring_produce(&c->tx, h->len);
	c->recv_cnt += h->len;
	start_send(v, c);
}

/* One packet from the guest (its header parsed, payload in v->chain). */
static void handle(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	if (h->src_cid != v->cid)
		return; /* not from this guest: no answer at all */
	if (h->dst_cid != VSOCK_HOST_CID || h->type != VIRTIO_VSOCK_TYPE_STREAM) {
		rst_reply(v, h); /* nobody else here; SEQPACKET was not offered */
		return;
	}
	struct vsock_conn *c = lookup(v, h->dst_port, h->src_port);
	if (!c) {
		if (h->op != VIRTIO_VSOCK_OP_REQUEST ||
		    !(c = alloc_conn(v, h->dst_port, h->src_port))) {
			rst_reply(v, h);
			return;
		}
		c->state = VSOCK_CONNECTING;
		c->peer_buf_alloc = h->buf_alloc;
		c->peer_fwd_cnt = h->fwd_cnt;
		if (v->be->connect(v->be, c)) {
			/* Never reached the backend: only the RST is owed. */
			c->state = VSOCK_CLOSING;
			c->backend_open = false;
			c->owed = VSOCK_OWE_RST;
			enlist(v, c);
		}
		return;
	}
	/* Every packet carries the sender's credit (5.10.6.3). */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->credit_requested = false;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_REQUESTED) {
			close_conn(v, c, true);
			break;
		}
		c->state = VSOCK_ESTABLISHED;
		v->be->accepted(v->be, c);
		start_recv(v, c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		close_conn(v, c, false);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->guest_shutdown |= h->flags & SHUT_BOTH;
		tx_drained(v, c);
		break;
	case VIRTIO_VSOCK_OP_RW:
		take_data(v, c, h);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owed |= VSOCK_OWE_CREDIT_UPDATE;
		break;
	default: /* REQUEST on a live connection, or nonsense */
		close_conn(v, c, true);
		break;
	}
	if (c->state != VSOCK_FREE)
		enlist(v, c); /* credit or owed packets may have changed */
}

/* The next packet c has for the guest, in *h (payload length in h->len);
 * false if none now. room is what the RX buffer can take. */
static bool next_packet(struct vsock_conn *c, struct vsock_hdr *h, uint32_t room)
{
	uint32_t avail = byte_ring_used(&c->rx);
	bool data_ok = c->state == VSOCK_ESTABLISHED &&
		       !(c->guest_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) && avail > 0;
	uint32_t credit = peer_credit(c);
	if (data_ok && credit == 0 && !c->credit_requested) {
		c->owed |= VSOCK_OWE_CREDIT_REQUEST;
		c->credit_requested = true;
	}
	h->len = 0;
	h->flags = 0;
	if (c->owed & VSOCK_OWE_RST)
		h->op = VIRTIO_VSOCK_OP_RST;
	else if (c->owed & VSOCK_OWE_REQUEST)
		h->op = VIRTIO_VSOCK_OP_REQUEST;
	else if (c->owed & VSOCK_OWE_RESPONSE)
		h->op = VIRTIO_VSOCK_OP_RESPONSE;
	else if (data_ok && credit > 0 && room > 0) {
		h->op = VIRTIO_VSOCK_OP_RW;
		uint32_t n = avail < credit ? avail : credit;
		n = n < room ? n : room;
		h->len = n < VSOCK_MAX_PAYLOAD ? n : VSOCK_MAX_PAYLOAD;
	} else if (c->state == VSOCK_ESTABLISHED && c->host_eof && avail == 0 &&
		   !c->shutdown_sent) {
		h->op = VIRTIO_VSOCK_OP_SHUTDOWN;
		h->flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	} else if (c->owed & VSOCK_OWE_CREDIT_UPDATE)
		h->op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
	else if (c->owed & VSOCK_OWE_CREDIT_REQUEST)
		h->op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
	else
		return false;
	return true;
}

/* After a packet of c went to the guest. */
static void packet_sent(struct virtio_vsock *v, struct vsock_conn *c, const struct vsock_hdr *h)
{
	c->fwd_told = c->fwd_cnt; /* every packet carries it */
	c->owed &= ~VSOCK_OWE_CREDIT_UPDATE;
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RST:
		c->owed = 0;
		maybe_free(v, c);
		break;
	case VIRTIO_VSOCK_OP_REQUEST:
		c->owed &= ~VSOCK_OWE_REQUEST;
		break;
	case VIRTIO_VSOCK_OP_RESPONSE:
		c->owed &= ~VSOCK_OWE_RESPONSE;
		break;
	case VIRTIO_VSOCK_OP_RW:
		byte_ring_consume(&c->rx, h->len);
		c->rx_cnt += h->len;
		start_recv(v, c);
		break;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		c->shutdown_sent = true;
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->owed &= ~VSOCK_OWE_CREDIT_REQUEST;
		break;
	}
}

/* Pops an RX buffer that can hold a header; false if there is none. */
static bool pop_rx(struct virtio_vsock *v, bool *pushed)
{
	struct virtq *q = &v->transport.queue[VSOCK_RXQ];
	for (;;) {
		int r = virtq_pop(q, &v->chain);
		if (r == 0 && q->event_idx) {
			/* 2.7.10: ask for a kick on new buffers, look again. */
			virtq_set_avail_event(q);
			r = virtq_pop(q, &v->chain);
		}
		if (r < 0)
			v->broken = true;
		if (r <= 0)
			return false;
		if (vsock_pkt_room(&v->chain) >= 0)
			return true;
		virtq_push(q, v->chain.head, 0); /* too small for a header: unused */
		*pushed = true;
	}
}

/* Fills RX buffers: RSTs owed to strays first, then one packet per
 * connection in turn (round robin, so one busy stream cannot starve the
 * others). Returns whether anything was pushed. */
static bool pump_rx(struct virtio_vsock *v)
{
	struct virtq *q = &v->transport.queue[VSOCK_RXQ];
	bool pushed = false;
	while (v->nrst > 0) {
		if (!pop_rx(v, &pushed))
			return pushed; /* the next RX kick brings us back */
		v->nrst--;
		virtq_push(q, v->chain.head, vsock_pkt_write(&v->chain, &v->rst[v->nrst], NULL, 0));
		pushed = true;
	}
	while (v->head) {
		struct vsock_conn *c = v->head;
		struct vsock_hdr h;
		if (!next_packet(c, &h, VSOCK_MAX_PAYLOAD)) {
			unlist(v, c);
			continue;
		}
		if (!pop_rx(v, &pushed))
			return pushed;
		if (!next_packet(c, &h, (uint32_t)vsock_pkt_room(&v->chain))) {
			/* Data, but this buffer has no room for any. */
			virtq_push(q, v->chain.head, 0);
			pushed = true;
			continue;
		}
		h.src_cid = VSOCK_HOST_CID;
		h.dst_cid = v->cid;
		h.src_port = c->local_port;
		h.dst_port = c->peer_port;
		h.type = VIRTIO_VSOCK_TYPE_STREAM;
		h.buf_alloc = VSOCK_BUF_SIZE;
		h.fwd_cnt = c->fwd_cnt;
		struct iovec iov[2];
		int n = byte_ring_data(&c->rx, h.len, iov);
		virtq_push(q, v->chain.head, vsock_pkt_write(&v->chain, &h, iov, n));
		pushed = true;
		/* Round robin: to the back of the list. */
		unlist(v, c);
		enlist(v, c);
		packet_sent(v, c, &h);
	}
	return pushed;
}

/* Drops every connection after a device reset: the guest forgot them,
 * so no RST is owed. */
static void sync_reset(struct virtio_vsock *v)
{
	if (v->gen_seen == v->gen)
		return;
	v->gen_seen = v->gen;
	v->nrst = 0;
	v->head = v->tail = NULL;
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		struct vsock_conn *c = &v->conn[i];
		if (c->state == VSOCK_FREE)
			continue;
		c->listed = false;
		c->owed = 0;
		close_conn(v, c, false);
		maybe_free(v, c);
	}
}

/* Every loop-thread entry point: lock, act on a reset, do the work. */
static void enter(struct virtio_vsock *v)
{
	pthread_mutex_lock(&v->transport.lock);
	sync_reset(v);
}

/* ... then fill RX buffers, unlock and raise what needs raising. */
static void leave(struct virtio_vsock *v, bool tx_pushed)
{
	bool notify = false;
	if (v->active && !v->broken) {
		if (pump_rx(v))
			notify = virtq_should_notify(&v->transport.queue[VSOCK_RXQ]);
		if (tx_pushed)
			notify |= virtq_should_notify(&v->transport.queue[VSOCK_TXQ]);
	}
	/* DEVICE_NEEDS_RESET once per malformed queue. */
	bool broken = v->broken && !v->broken_told;
	v->broken_told = v->broken;
	pthread_mutex_unlock(&v->transport.lock);
	if (broken)
		virtio_mmio_needs_reset(&v->transport);
	else if (notify)
		virtio_mmio_signal_used(&v->transport);
}

void virtio_vsock_tx_kick(struct virtio_vsock *v)
{
	struct virtq *q = &v->transport.queue[VSOCK_TXQ];
	bool pushed = false;
	enter(v);
	while (v->active && !v->broken) {
		int r = virtq_pop(q, &v->chain);
		if (r == 0 && q->event_idx) {
			virtq_set_avail_event(q);
			r = virtq_pop(q, &v->chain);
		}
		if (r < 0)
			v->broken = true;
		if (r <= 0)
			break;
		struct vsock_hdr h;
		if (vsock_pkt_parse(&v->chain, &h) == 0)
			handle(v, &h);
		/* else: not even a header to answer; the buffer goes back. */
		virtq_push(q, v->chain.head, 0);
		pushed = true;
	}
	leave(v, pushed);
}

void virtio_vsock_rx_kick(struct virtio_vsock *v)
{
	enter(v);
	leave(v, false);
}

void virtio_vsock_poll(struct virtio_vsock *v)
{
	enter(v);
	leave(v, false);
}

struct vsock_conn *virtio_vsock_host_connect(struct virtio_vsock *v, uint32_t port, void *host)
{
	struct vsock_conn *c = NULL;
	enter(v);
	if (v->active && !v->broken) {
		/* A local port no live connection to that guest port uses. */
		uint32_t local = v->next_port;
		for (int tries = 0; tries <= VSOCK_MAX_CONNS && lookup(v, local, port); tries++)
			local = local + 1 < VSOCK_LOCAL_PORT0 ? VSOCK_LOCAL_PORT0 : local + 1;
		c = alloc_conn(v, local, port);
		v->next_port = local + 1 < VSOCK_LOCAL_PORT0 ? VSOCK_LOCAL_PORT0 : local + 1;
	}
	if (c) {
		c->state = VSOCK_REQUESTED;
		c->host = host;
		c->owed = VSOCK_OWE_REQUEST;
		enlist(v, c);
	}
	leave(v, false);
	return c;
}

void virtio_vsock_connect_done(struct virtio_vsock *v, struct vsock_conn *c, int err)
{
	enter(v);
	if (c->state == VSOCK_CONNECTING) {
		if (err) {
			close_conn(v, c, true);
		} else {
			c->state = VSOCK_ESTABLISHED;
			c->owed |= VSOCK_OWE_RESPONSE;
			enlist(v, c);
			start_recv(v, c);
		}
	}
	leave(v, false);
}

void virtio_vsock_sent(struct virtio_vsock *v, struct vsock_conn *c, int res)
{
	enter(v);
	c->sending = false;
	if (c->state == VSOCK_ESTABLISHED) {
		if (res < 0 || (uint32_t)res > byte_ring_used(&c->tx)) {
			close_conn(v, c, true);
		} else {
			byte_ring_consume(&c->tx, (uint32_t)res);
			c->fwd_cnt += (uint32_t)res;
			/* Tell the guest about freed space before it runs dry:
			 * once it believes less than half is free, in steps
			 * of an eighth (or all of it), not on every send. */
			uint32_t believed_used = c->recv_cnt - c->fwd_told;
			uint32_t untold = c->fwd_cnt - c->fwd_told;
			if (believed_used > VSOCK_BUF_SIZE / 2 &&
			    (untold >= VSOCK_BUF_SIZE / 8 ||
			     (untold && byte_ring_used(&c->tx) == 0))) {
				c->owed |= VSOCK_OWE_CREDIT_UPDATE;
				enlist(v, c);
			}
			start_send(v, c);
			tx_drained(v, c);
		}
	}
	leave(v, false);
}

void virtio_vsock_received(struct virtio_vsock *v, struct vsock_conn *c, int res)
{
	enter(v);
	c->receiving = false;
	if (c->state == VSOCK_ESTABLISHED) {
		if (res < 0 || (uint32_t)res > byte_ring_space(&c->rx)) {
			close_conn(v, c, true);
		} else if (res == 0) {
			c->host_eof = true;
			enlist(v, c);
		} else {
			byte_ring_produce(&c->rx, (uint32_t)res);
			enlist(v, c);
			start_recv(v, c);
		}
	}
	leave(v, false);
}

void virtio_vsock_closed(struct virtio_vsock *v, struct vsock_conn *c)
{
	enter(v);
	c->backend_open = false;
	maybe_free(v, c);
	leave(v, false);
}

void virtio_vsock_destroy(struct virtio_vsock *v)
{
	for (int i = 0; i < VSOCK_MAX_CONNS; i++) {
		byte_ring_free(&v->conn[i].tx);
		byte_ring_free(&v->conn[i].rx);
	}
}
