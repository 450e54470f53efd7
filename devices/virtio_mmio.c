/* virtio_mmio: the virtio-mmio (version 2) transport state machine. */
#include "virtio_mmio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>

#define MAGIC	  0x74726976 /* "virt" */
#define VENDOR_ID 0x00766d6d /* "vmm" */

enum {
	S_ACK = VIRTIO_CONFIG_S_ACKNOWLEDGE,
	S_DRV = VIRTIO_CONFIG_S_DRIVER,
	S_FOK = VIRTIO_CONFIG_S_FEATURES_OK,
	S_DOK = VIRTIO_CONFIG_S_DRIVER_OK,
	S_NEEDS_RESET = VIRTIO_CONFIG_S_NEEDS_RESET,
	S_FAILED = VIRTIO_CONFIG_S_FAILED,
};

/* The driver's initialisation sequence (3.1.1), one bit at a time. */
static const struct {
	uint32_t from, to;
} transitions[] = {
	{0, S_ACK},
	{S_ACK, S_ACK | S_DRV},
	{S_ACK | S_DRV, S_ACK | S_DRV | S_FOK},
	{S_ACK | S_DRV | S_FOK, S_ACK | S_DRV | S_FOK | S_DOK},
};

bool virtio_status_allowed(uint32_t from, uint32_t to)
{
	from &= ~(uint32_t)S_NEEDS_RESET; /* the device's bit, not the driver's */
	if (to == 0)
		return true; /* reset, from anywhere */
	if (to & S_NEEDS_RESET)
		return false;
	if (to == (from | S_FAILED))
		return true; /* the driver gives up, from anywhere */
	for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
		if (transitions[i].from == from && transitions[i].to == to)
			return true;
	return false;
}

void virtio_mmio_init(struct virtio_mmio *m, uint32_t device_id, uint64_t features, int nqueues,
		      uint16_t queue_max, const struct guestmem *gm,
		      const struct virtio_dev_ops *ops, void *dev)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->device_id = device_id;
	m->device_features = features | (1ULL << VIRTIO_F_VERSION_1);
	m->nqueues = nqueues < VIRTIO_MMIO_MAX_QUEUES ? nqueues : VIRTIO_MMIO_MAX_QUEUES;
	m->queue_max = queue_max;
	for (int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		m->queue[i].gm = gm;
	m->ops = ops;
	m->dev = dev;
}

static void device_reset(struct virtio_mmio *m)
{
	m->status = 0;
	m->driver_features = 0;
	m->dev_features_sel = m->drv_features_sel = m->queue_sel = 0;
	m->interrupt_status = 0;
	for (int i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		virtq_reset(&m->queue[i]);
		m->queue_ready[i] = false;
	}
	if (m->ops->reset)
		m->ops->reset(m->dev);
}

/* Lock held. Returns whether the caller should raise the interrupt. */
static bool set_needs_reset(struct virtio_mmio *m)
{
	m->status |= S_NEEDS_RESET;
	if (!(m->status & S_DOK))
		return false; /* the driver checks status before DRIVER_OK */
	m->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
	return true;
}

/* The selected queue, if it exists and may still be configured: the
 * driver set FEATURES_OK but not DRIVER_OK, and the queue is not ready. */
static struct virtq *setup_queue(struct virtio_mmio *m)
{
	if (m->queue_sel >= (uint32_t)m->nqueues || !(m->status & S_FOK) || (m->status & S_DOK) ||
	    m->queue_ready[m->queue_sel])
		return NULL;
	return &m->queue[m->queue_sel];
}

static void set_low(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

static void set_high(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | (uint64_t)hi << 32;
}

/* Lock held. Starts the selected queue; false if it cannot. */
static bool queue_ready(struct virtio_mmio *m)
{
	struct virtq *q = setup_queue(m);
	if (!q)
		return true; /* a write in the wrong state: ignored */
	if (q->size > m->queue_max)
		return false;
	q->indirect = m->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	q->event_idx = m->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	if (virtq_start(q))
		return false;
	m->queue_ready[m->queue_sel] = true;
	return true;
}

/* Lock held. Returns whether to raise the interrupt. */
static bool write_status(struct virtio_mmio *m, uint32_t v)
{
	if (!virtio_status_allowed(m->status, v))
		return set_needs_reset(m);
	if (v == 0) {
		device_reset(m);
		return false;
	}
	uint32_t added = v & ~m->status;
	if (added & S_FOK) {
		/* 3.1.1 step 5: refuse features we did not offer, and legacy
		 * drivers; the driver sees FEATURES_OK stay clear. */
		if ((m->driver_features & ~m->device_features) ||
		    !(m->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			return false;
	}
	m->status = v | (m->status & S_NEEDS_RESET);
	if ((added & S_DOK) && m->ops->activate && m->ops->activate(m->dev, m->driver_features))
		return set_needs_reset(m);
	return false;
}

void virtio_mmio_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *m = opaque;
	pthread_mutex_lock(&m->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		memset(data, 0, len);
		if (m->ops->config_read)
			m->ops->config_read(m->dev, offset - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	uint32_t v = 0;
	if (len == 4 && offset % 4 == 0) {
		switch (offset) {
		case VIRTIO_MMIO_MAGIC_VALUE:
			v = MAGIC;
			break;
		case VIRTIO_MMIO_VERSION:
			v = 2;
			break;
		case VIRTIO_MMIO_DEVICE_ID:
			v = m->device_id;
			break;
		case VIRTIO_MMIO_VENDOR_ID:
			v = VENDOR_ID;
			break;
		case VIRTIO_MMIO_DEVICE_FEATURES:
			if (m->dev_features_sel < 2)
				v = (uint32_t)(m->device_features >> (32 * m->dev_features_sel));
			break;
		case VIRTIO_MMIO_QUEUE_NUM_MAX:
			v = m->queue_sel < (uint32_t)m->nqueues ? m->queue_max : 0;
			break;
		case VIRTIO_MMIO_QUEUE_READY:
			v = m->queue_sel < (uint32_t)m->nqueues && m->queue_ready[m->queue_sel];
			break;
		case VIRTIO_MMIO_INTERRUPT_STATUS:
			v = m->interrupt_status;
			break;
		case VIRTIO_MMIO_STATUS:
			v = m->status;
			break;
		case VIRTIO_MMIO_SHM_LEN_LOW:
		case VIRTIO_MMIO_SHM_LEN_HIGH:
			v = 0xffffffff; /* all ones: no shared memory region */
			break;
		case VIRTIO_MMIO_CONFIG_GENERATION:
			v = m->config_generation;
			break;
		}
	}
	memcpy(data, &v, len < 4 ? len : 4);
	pthread_mutex_unlock(&m->lock);
}

void virtio_mmio_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *m = opaque;
	bool irq = false;
	int notify = -1;
	pthread_mutex_lock(&m->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		if (m->ops->config_write && (m->status & S_DRV))
			m->ops->config_write(m->dev, offset - VIRTIO_MMIO_CONFIG, data, len);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	if (len != 4 || offset % 4) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	uint32_t v;
	memcpy(&v, data, 4);
	struct virtq *q;
	bool features_open = (m->status & S_DRV) && !(m->status & S_FOK);
	switch (offset) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (features_open && m->drv_features_sel == 0)
			set_low(&m->driver_features, v);
		else if (features_open && m->drv_features_sel == 1)
			set_high(&m->driver_features, v);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if ((q = setup_queue(m)))
			q->size = (uint16_t)(v <= 0xffff ? v : 0);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if ((q = setup_queue(m))) {
			uint64_t *a = offset < VIRTIO_MMIO_QUEUE_AVAIL_LOW  ? &q->desc_gpa
				      : offset < VIRTIO_MMIO_QUEUE_USED_LOW ? &q->avail_gpa
									    : &q->used_gpa;
			(offset % 8 ? set_high : set_low)(a, v);
		}
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (v == 1 && !queue_ready(m))
			irq = set_needs_reset(m);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if ((m->status & S_DOK) && v < (uint32_t)m->nqueues && m->queue_ready[v])
			notify = (int)v;
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		m->interrupt_status &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		irq = write_status(m, v);
		break;
	}
	if (notify >= 0 && m->ops->notify)
		m->ops->notify(m->dev, notify);
	pthread_mutex_unlock(&m->lock);
	if (irq && m->ops->irq)
		m->ops->irq(m->dev);
}

static void signal_bits(struct virtio_mmio *m, uint32_t bits)
{
	pthread_mutex_lock(&m->lock);
	m->interrupt_status |= bits;
	if (bits & VIRTIO_MMIO_INT_CONFIG)
		m->config_generation++; /* the driver rereads a changed config */
	pthread_mutex_unlock(&m->lock);
	if (m->ops->irq)
		m->ops->irq(m->dev);
}

void virtio_mmio_signal_used(struct virtio_mmio *m)
{
	signal_bits(m, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_signal_config(struct virtio_mmio *m)
{
	signal_bits(m, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_needs_reset(struct virtio_mmio *m)
{
	pthread_mutex_lock(&m->lock);
	bool irq = set_needs_reset(m);
	pthread_mutex_unlock(&m->lock);
	if (irq && m->ops->irq)
		m->ops->irq(m->dev);
}
