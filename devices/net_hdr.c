/* net_hdr: virtio-net headers on the transmit and receive paths. */
#include "net_hdr.h"

#include <string.h>

#define F(bit) (1ULL << (bit))

/* Copies len bytes from offset off of the chain's readable buffers. */
static void read_bytes(const struct virtq_chain *c, uint32_t off, uint8_t *dst, uint32_t len)
{
	for (int i = 0; i < c->nread && len; i++) {
		const struct virtq_buf *b = &c->buf[i];
		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		uint32_t n = b->len - off < len ? b->len - off : len;
		memcpy(dst, b->host + off, n);
		dst += n;
		len -= n;
		off = 0;
	}
}

/* The GSO type the other side may send: TCPV4/TCPV6/UDP each with its
 * feature, ECN only with TCP and its feature. */
static int gso_allowed(uint8_t type, uint64_t features, int tso4, int tso6, int ufo, int ecn)
{
	uint8_t base = type & ~VIRTIO_NET_HDR_GSO_ECN;
	if ((type & VIRTIO_NET_HDR_GSO_ECN) &&
	    (!(features & F(ecn)) || base == VIRTIO_NET_HDR_GSO_UDP))
		return 0;
	switch (base) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return !!(features & F(tso4));
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return !!(features & F(tso6));
	case VIRTIO_NET_HDR_GSO_UDP:
		return !!(features & F(ufo));
	default:
		return 0;
	}
}

int net_tx_parse(const struct virtq_chain *c, uint64_t features, struct net_tx_pkt *p)
{
	if (c->nread != c->n)
		return NET_TX_EWRITABLE;
	if (c->read_len < NET_HDR_LEN + NET_ETH_HLEN)
		return NET_TX_ESHORT;
	if (c->read_len > NET_HDR_LEN + NET_MAX_FRAME)
		return NET_TX_ELONG;
	read_bytes(c, 0, (uint8_t *)&p->hdr, NET_HDR_LEN);
	p->hdr.num_buffers = 0; /* the driver's value means nothing here (5.1.6.2) */
	p->len = (uint32_t)(c->read_len - NET_HDR_LEN);
	const struct virtio_net_hdr_v1 *h = &p->hdr;
	bool csum = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	if ((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
	    (csum && !(features & F(VIRTIO_NET_F_CSUM))))
		return NET_TX_EFLAGS;
	if (csum && (uint32_t)h->csum_start + h->csum_offset + 2 > p->len)
		return NET_TX_ECSUM;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	    (!gso_allowed(h->gso_type, features, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
			  VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_ECN) ||
	     !h->gso_size || !csum))
		return NET_TX_EGSO;
	/* The frame: every readable byte after the header. */
	uint32_t skip = NET_HDR_LEN;
	p->niov = 0;
	for (int i = 0; i < c->nread; i++) {
		const struct virtq_buf *b = &c->buf[i];
		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		p->iov[p->niov++] = (struct iovec){b->host + skip, b->len - skip};
		skip = 0;
	}
	return NET_TX_OK;
}

int net_rx_fix_hdr(struct virtio_net_hdr_v1 *h, uint64_t features, uint16_t nbufs)
{
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	    !gso_allowed(h->gso_type, features, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
			 VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_ECN))
		return -1;
	if (features & F(VIRTIO_NET_F_GUEST_CSUM)) {
		h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	} else {
		if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
			return -1;
		h->flags = 0;
	}
	h->num_buffers = nbufs;
	return 0;
}

const char *net_tx_strerror(int err)
{
	static const char *const msg[NET_TX_ERROR_COUNT] = {
		[NET_TX_OK] = "ok",
		[NET_TX_EWRITABLE] = "device-writable buffer in a transmit chain",
		[NET_TX_ESHORT] = "shorter than a header and an Ethernet header",
		[NET_TX_ELONG] = "frame longer than 65553 bytes",
		[NET_TX_EFLAGS] = "header flags not allowed",
		[NET_TX_ECSUM] = "checksum position past the frame",
		[NET_TX_EGSO] = "GSO type not negotiated or incomplete",
	};
	return err >= 0 && err < NET_TX_ERROR_COUNT ? msg[err] : "unknown error";
}
