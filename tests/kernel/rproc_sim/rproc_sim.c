// SPDX-License-Identifier: GPL-2.0-only
/*
 * rproc_sim: simulated remote processors for the real remoteproc core.
 *
 * One platform device "rproc_sim.N" per name in names=, each registering a
 * remote processor with the kernel's remoteproc core. Firmware is loaded by
 * the core's own ELF loader into simulated device memory (vmalloc'ed, by
 * default 1 MiB at device address 0); segments outside it are refused.
 * Control files on the platform device let tests crash the core, make the
 * next operation fail, and see what the driver was asked to do.
 *
 * A firmware whose resource table has a trace entry gets a trace buffer the
 * simulated core writes to (a boot banner, a line per control-file write);
 * one with an rpmsg vdev entry gets the remote side of virtio-rpmsg: the
 * simulated core announces name-service channels (channels= and the rpmsg
 * control file) to Linux's virtio_rpmsg_bus and echoes every message sent
 * to one of its endpoints.
 *
 * The interface is documented in tests/vm/README.md; tests rely on it.
 */

#include <linux/atomic.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/elf.h>
#include <linux/err.h>
#include <linux/firmware.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/remoteproc.h>
#include <linux/rpmsg/byteorder.h>
#include <linux/rpmsg/ns.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "remoteproc_internal.h"

#define SIM_MAX 64
#define SIM_DEFAULT_MEM_SIZE 0x100000UL

/* VIRTIO_RPMSG_F_NS of drivers/rpmsg/virtio_rpmsg_bus.c (private there) */
#define SIM_VIRTIO_RPMSG_F_NS 0
/* The first address the remote side hands out, as Linux does (RPMSG_RESERVED_ADDRESSES) */
#define SIM_RPMSG_ADDR_FIRST 0x400
#define SIM_RPMSG_MAX_CHANNELS 16
/* Messages waiting for a Linux rx buffer; more are dropped (and counted) */
#define SIM_RPMSG_MAX_PENDING 64
#define SIM_TRACE_LINE_MAX 160
/*
 * Legacy virtio (no VIRTIO_F_VERSION_1 offered): the vrings and rpmsg headers
 * are in the CPU's byte order, which on the x86 test machines is little
 * endian (virtio_rpmsg_bus uses virtio_is_little_endian() the same way).
 */
#define SIM_LE true

static char *names[SIM_MAX] = { "sim0" };
static int n_names = 1;
module_param_array(names, charp, &n_names, 0444);
MODULE_PARM_DESC(names, "comma-separated core names, one instance per name (default sim0)");

static unsigned int detached[SIM_MAX];
static int n_detached;
module_param_array(detached, uint, &n_detached, 0444);
MODULE_PARM_DESC(detached, "per instance (or one for all): 1 = running at load, shown detached");

static unsigned int boot_ms[SIM_MAX];
static int n_boot_ms;
module_param_array(boot_ms, uint, &n_boot_ms, 0444);
MODULE_PARM_DESC(boot_ms, "per instance (or one for all): milliseconds a start takes");

static unsigned int attach_ms[SIM_MAX];
static int n_attach_ms;
module_param_array(attach_ms, uint, &n_attach_ms, 0444);
MODULE_PARM_DESC(attach_ms, "per instance (or one for all): milliseconds an attach takes");

static unsigned int rsc_required[SIM_MAX];
static int n_rsc_required;
module_param_array(rsc_required, uint, &n_rsc_required, 0444);
MODULE_PARM_DESC(rsc_required, "per instance (or one for all): 1 = refuse firmware without .resource_table");

static unsigned int attach_on_recovery[SIM_MAX];
static int n_attach_on_recovery;
module_param_array(attach_on_recovery, uint, &n_attach_on_recovery, 0444);
MODULE_PARM_DESC(attach_on_recovery, "per instance (or one for all): 1 = RPROC_FEAT_ATTACH_ON_RECOVERY");

static unsigned int auto_boot[SIM_MAX];
static int n_auto_boot;
module_param_array(auto_boot, uint, &n_auto_boot, 0444);
MODULE_PARM_DESC(auto_boot, "per instance (or one for all): rproc->auto_boot (default 0)");

static unsigned long mem_base[SIM_MAX];
static int n_mem_base;
module_param_array(mem_base, ulong, &n_mem_base, 0444);
MODULE_PARM_DESC(mem_base, "per instance (or one for all): device address of the memory (default 0)");

static unsigned long mem_size[SIM_MAX];
static int n_mem_size;
module_param_array(mem_size, ulong, &n_mem_size, 0444);
MODULE_PARM_DESC(mem_size, "per instance (or one for all): bytes of device memory (default 1 MiB)");

static char *channels[SIM_MAX];
static int n_channels;
module_param_array(channels, charp, &n_channels, 0444);
MODULE_PARM_DESC(channels,
		 "per instance (or one for all): rpmsg channels NAME[@ADDR] joined by '+', announced when Linux's rpmsg bus is up (default none)");

static unsigned int trace_wrap[SIM_MAX];
static int n_trace_wrap;
module_param_array(trace_wrap, uint, &n_trace_wrap, 0444);
MODULE_PARM_DESC(trace_wrap,
		 "per instance (or one for all): 1 = the trace buffer is a ring: text wraps to the start, with no NUL and no index (default 0: it stops when full)");

/* struct rpmsg_hdr of drivers/rpmsg/virtio_rpmsg_bus.c: the wire format */
struct sim_rpmsg_hdr {
	__rpmsg32 src;
	__rpmsg32 dst;
	__rpmsg32 reserved;
	__rpmsg16 len;
	__rpmsg16 flags;
} __packed;

/* A channel configured with channels= */
struct sim_channel {
	char name[RPMSG_NAME_SIZE];
	u32 addr;	/* RPMSG_ADDR_ANY: the next free one at each boot */
};

/* An endpoint of the remote side, announced to Linux as a channel */
struct sim_ept {
	struct list_head node;
	char name[RPMSG_NAME_SIZE];
	u32 addr;
};

/* A message from the remote side waiting for one of Linux's rx buffers */
struct sim_msg {
	struct list_head node;
	unsigned int len;	/* header and payload */
	u8 buf[];
};

/* The device side's view of one vring */
struct sim_vring {
	struct vring vr;
	u16 last_avail;
	u16 used_idx;	/* the used index we published last */
	int notifyid;
};

struct rproc_sim {
	struct rproc *rproc;
	unsigned int index;

	void *mem;
	u64 mem_da;
	size_t mem_size;
	unsigned int boot_ms;
	unsigned int attach_ms;
	bool rsc_required;

	bool hw_running;

	atomic_t fail_start;
	atomic_t fail_attach;
	atomic_t fail_stop;
	atomic_t fail_detach;

	atomic_t n_prepare;
	atomic_t n_load;
	/* What the core's loader was handed at the last load: its size and CRC-32. */
	size_t loaded_size;
	u32 loaded_crc;
	atomic_t n_start;
	atomic_t n_stop;
	atomic_t n_attach;
	atomic_t n_detach;

	/* channels= of this instance */
	struct sim_channel channel[SIM_RPMSG_MAX_CHANNELS];
	unsigned int n_channel;

	/*
	 * The running firmware's trace buffer and rpmsg device side, set up at
	 * each start from its (loaded) resource table. rpmsg_lock protects all
	 * of it; the vrings are only touched by rpmsg_work.
	 */
	struct mutex rpmsg_lock;
	char *trace;
	size_t trace_len;
	size_t trace_pos; /* where the next byte goes (trace_wrap) */
	bool trace_wrap;
	struct fw_rsc_vdev *vdev_rsc;
	struct rproc_subdev rpmsg_subdev;
	bool rpmsg_subdev_added;
	bool rpmsg_live;
	bool vrings_mapped;
	bool announced;
	struct sim_vring vring[2];
	struct list_head epts;
	struct list_head pending;
	unsigned int n_pending;
	struct work_struct rpmsg_work;
	unsigned long n_received;
	unsigned long n_echoed;
	unsigned long n_dropped;
};

static struct platform_device *sim_pdevs[SIM_MAX];

/* A per-instance parameter: its own value, the only one given, or the default. */
static unsigned long sim_param(const void *arr, size_t elem, int count, unsigned int i,
			       unsigned long def)
{
	if (count <= 0)
		return def;
	if (count == 1)
		i = 0;
	else if (i >= count)
		return def;
	if (elem == sizeof(unsigned long))
		return ((const unsigned long *)arr)[i];
	return ((const unsigned int *)arr)[i];
}

#define SIM_PARAM(name, i, def) \
	sim_param(name, sizeof(name[0]), n_##name, i, def)

/* The error injected into the next operation of a kind, once. */
static int sim_take_failure(atomic_t *fail)
{
	int err = atomic_xchg(fail, 0);

	return err > 0 ? -err : 0;
}

static void sim_add_dump_segment(struct rproc_sim *sim)
{
	/* The core empties the list on every cleanup; add it once per boot. */
	if (list_empty(&sim->rproc->dump_segments))
		rproc_coredump_add_segment(sim->rproc, sim->mem_da, sim->mem_size);
}

static void *sim_da_to_va(struct rproc *rproc, u64 da, size_t len, bool *is_iomem)
{
	struct rproc_sim *sim = rproc->priv;
	u64 offset;

	if (da < sim->mem_da)
		return NULL;
	offset = da - sim->mem_da;
	if (offset > sim->mem_size || len > sim->mem_size - offset)
		return NULL;
	if (is_iomem)
		*is_iomem = false;
	return sim->mem + offset;
}

/*
 * The trace buffer: text appended, NUL-terminated; a line that does not fit
 * is dropped. With trace_wrap=1 it is a ring as many firmwares keep it: the
 * bytes go on at the start once the end is reached, with no NUL after them
 * and no index, so the old text stays behind the newest.
 */
static void sim_trace_put_locked(struct rproc_sim *sim, const char *line, size_t len)
{
	size_t pos, n;

	lockdep_assert_held(&sim->rpmsg_lock);
	if (!sim->trace || !len)
		return;
	if (sim->trace_wrap) {
		while (len) {
			n = min(len, sim->trace_len - sim->trace_pos);
			memcpy(sim->trace + sim->trace_pos, line, n);
			sim->trace_pos = (sim->trace_pos + n) % sim->trace_len;
			line += n;
			len -= n;
		}
		return;
	}
	pos = strnlen(sim->trace, sim->trace_len);
	/* Stop when full: what is there stays, with its NUL. */
	if (pos + len + 1 > sim->trace_len)
		return;
	memcpy(sim->trace + pos, line, len);
	sim->trace[pos + len] = '\0';
}

static __printf(2, 3) void sim_trace_locked(struct rproc_sim *sim, const char *fmt, ...)
{
	char line[SIM_TRACE_LINE_MAX];
	size_t len;
	va_list args;

	va_start(args, fmt);
	len = vscnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	sim_trace_put_locked(sim, line, len);
}

/* A line for each write to a control file: "control FILE: TEXT" */
static void sim_trace_control(struct rproc_sim *sim, const char *file, const char *buf,
			      size_t count)
{
	while (count && (buf[count - 1] == '\n' || buf[count - 1] == '\0'))
		count--;
	mutex_lock(&sim->rpmsg_lock);
	sim_trace_locked(sim, "control %s: %.*s\n", file, (int)min_t(size_t, count, 80), buf);
	mutex_unlock(&sim->rpmsg_lock);
}

/* The remote side of virtio-rpmsg */

static struct sim_ept *sim_ept_find(struct rproc_sim *sim, u32 addr)
{
	struct sim_ept *ept;

	list_for_each_entry(ept, &sim->epts, node)
		if (ept->addr == addr)
			return ept;
	return NULL;
}

static u32 sim_ept_free_addr(struct rproc_sim *sim)
{
	u32 addr = SIM_RPMSG_ADDR_FIRST;

	while (sim_ept_find(sim, addr))
		addr++;
	return addr;
}

static bool sim_rpmsg_addr_valid(u32 addr)
{
	return addr != RPMSG_ADDR_ANY && addr != RPMSG_NS_ADDR;
}

static int sim_ept_add(struct rproc_sim *sim, const char *name, u32 addr, struct sim_ept **ret)
{
	struct sim_ept *ept;

	if (addr == RPMSG_ADDR_ANY)
		addr = sim_ept_free_addr(sim);
	if (!sim_rpmsg_addr_valid(addr))
		return -EINVAL;
	if (sim_ept_find(sim, addr))
		return -EADDRINUSE;
	ept = kzalloc(sizeof(*ept), GFP_KERNEL);
	if (!ept)
		return -ENOMEM;
	strscpy(ept->name, name, sizeof(ept->name));
	ept->addr = addr;
	list_add_tail(&ept->node, &sim->epts);
	*ret = ept;
	return 0;
}

/* Queue a message to Linux; rpmsg_work puts it into an rx buffer. */
static int sim_rpmsg_queue(struct rproc_sim *sim, u32 src, u32 dst, const void *data,
			   unsigned int len)
{
	struct sim_rpmsg_hdr *hdr;
	struct sim_msg *msg;

	lockdep_assert_held(&sim->rpmsg_lock);
	if (sim->n_pending >= SIM_RPMSG_MAX_PENDING) {
		sim->n_dropped++;
		return -ENOBUFS;
	}
	msg = kmalloc(sizeof(*msg) + sizeof(*hdr) + len, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = (struct sim_rpmsg_hdr *)msg->buf;
	hdr->src = __cpu_to_rpmsg32(SIM_LE, src);
	hdr->dst = __cpu_to_rpmsg32(SIM_LE, dst);
	hdr->reserved = 0;
	hdr->len = __cpu_to_rpmsg16(SIM_LE, len);
	hdr->flags = 0;
	memcpy(msg->buf + sizeof(*hdr), data, len);
	msg->len = sizeof(*hdr) + len;
	list_add_tail(&msg->node, &sim->pending);
	sim->n_pending++;
	return 0;
}

/* A name-service message (to address 53) for an endpoint, if Linux has the name service. */
static int sim_rpmsg_ns(struct rproc_sim *sim, struct sim_ept *ept, u32 flags)
{
	struct rpmsg_ns_msg ns;

	if (!(READ_ONCE(sim->vdev_rsc->gfeatures) & BIT(SIM_VIRTIO_RPMSG_F_NS)))
		return 0;
	memset(&ns, 0, sizeof(ns));
	strscpy(ns.name, ept->name, sizeof(ns.name));
	ns.addr = __cpu_to_rpmsg32(SIM_LE, ept->addr);
	ns.flags = __cpu_to_rpmsg32(SIM_LE, flags);
	return sim_rpmsg_queue(sim, ept->addr, RPMSG_NS_ADDR, &ns, sizeof(ns));
}

static void sim_rpmsg_free_pending(struct rproc_sim *sim)
{
	struct sim_msg *msg, *tmp;

	list_for_each_entry_safe(msg, tmp, &sim->pending, node) {
		list_del(&msg->node);
		kfree(msg);
	}
	sim->n_pending = 0;
}

static void sim_rpmsg_free_lists(struct rproc_sim *sim)
{
	struct sim_ept *ept, *tmp;

	list_for_each_entry_safe(ept, tmp, &sim->epts, node) {
		list_del(&ept->node);
		kfree(ept);
	}
	sim_rpmsg_free_pending(sim);
}

/*
 * The memory Linux allocated for a vring (a carveout of the remoteproc core,
 * dma_alloc_coherent() on our platform device): the device finds it by its
 * device address, as rproc_da_to_va() does, but without our own memory
 * first, which a fixed vring address may overlap.
 */
static void *sim_carveout_va(struct rproc *rproc, u32 da, size_t len)
{
	struct rproc_mem_entry *mem;

	list_for_each_entry(mem, &rproc->carveouts, node) {
		if (!mem->va || mem->is_iomem || da < mem->da)
			continue;
		if (da - mem->da > mem->len || len > mem->len - (da - mem->da))
			continue;
		return mem->va + (da - mem->da);
	}
	return NULL;
}

/*
 * A buffer address in a descriptor: virtio without VIRTIO_F_ACCESS_PLATFORM
 * puts physical addresses there (sg_phys()), of memory Linux allocated with
 * dma_alloc_coherent(), which on x86 is in the direct map.
 */
static void *sim_buf_va(u64 addr, u32 len)
{
	if (!len || addr + len < addr)
		return NULL;
	if (!pfn_valid(PHYS_PFN(addr)) || !pfn_valid(PHYS_PFN(addr + len - 1)))
		return NULL;
	return phys_to_virt(addr);
}

static bool sim_vring_map(struct rproc_sim *sim, unsigned int i)
{
	struct fw_rsc_vdev_vring *rsc = &sim->vdev_rsc->vring[i];
	struct sim_vring *q = &sim->vring[i];
	u32 num = READ_ONCE(rsc->num), align = READ_ONCE(rsc->align);
	void *va;

	if (!num || num > 0x8000 || !is_power_of_2(num) || !align || !is_power_of_2(align))
		return false;
	va = sim_carveout_va(sim->rproc, READ_ONCE(rsc->da), vring_size(num, align));
	if (!va)
		return false;
	vring_init(&q->vr, num, va, align);
	q->last_avail = 0;
	q->used_idx = __virtio16_to_cpu(SIM_LE, READ_ONCE(q->vr.used->idx));
	q->notifyid = READ_ONCE(rsc->notifyid);
	return true;
}

/* The next buffer Linux made available, or -1 */
static int sim_vring_next(struct sim_vring *q, u16 avail_idx)
{
	u16 head;

	if (q->last_avail == avail_idx)
		return -1;
	head = __virtio16_to_cpu(SIM_LE, READ_ONCE(q->vr.avail->ring[q->last_avail % q->vr.num]));
	if (head >= q->vr.num)
		return -1;
	return head;
}

static void sim_vring_put_used(struct sim_vring *q, unsigned int head, u32 len)
{
	struct vring_used *used = q->vr.used;
	u16 idx = q->used_idx;

	used->ring[idx % q->vr.num].id = __cpu_to_virtio32(SIM_LE, head);
	used->ring[idx % q->vr.num].len = __cpu_to_virtio32(SIM_LE, len);
	/* The buffer and the element before the index that publishes them */
	virt_wmb();
	WRITE_ONCE(used->idx, __cpu_to_virtio16(SIM_LE, idx + 1));
	q->used_idx = idx + 1;
	q->last_avail++;
}

/* Only the device writes the used index: another value means the ring was set up anew. */
static bool sim_vring_was_reset(struct sim_vring *q)
{
	return __virtio16_to_cpu(SIM_LE, READ_ONCE(q->vr.used->idx)) != q->used_idx;
}

static u16 sim_vring_avail_idx(struct sim_vring *q)
{
	u16 idx = __virtio16_to_cpu(SIM_LE, READ_ONCE(q->vr.avail->idx));

	/* The ring entries and buffers after the index that published them */
	virt_rmb();
	return idx;
}

static void sim_vring_interrupt(struct rproc_sim *sim, struct sim_vring *q)
{
	/* Linux suppresses tx-complete interrupts until a sender waits for a buffer. */
	virt_mb();
	if (__virtio16_to_cpu(SIM_LE, READ_ONCE(q->vr.avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	rproc_vq_interrupt(sim->rproc, q->notifyid);
}

/* One message from Linux: echoed (src and dst swapped) if it is for one of our endpoints. */
static void sim_rpmsg_handle(struct rproc_sim *sim, const void *buf, u32 len)
{
	const struct sim_rpmsg_hdr *hdr = buf;
	u32 src, dst;
	u16 plen;

	if (len < sizeof(*hdr)) {
		sim->n_dropped++;
		return;
	}
	src = __rpmsg32_to_cpu(SIM_LE, hdr->src);
	dst = __rpmsg32_to_cpu(SIM_LE, hdr->dst);
	plen = __rpmsg16_to_cpu(SIM_LE, hdr->len);
	if (plen > len - sizeof(*hdr) || !sim_ept_find(sim, dst)) {
		/* Linux's own name-service announcements (to 53) end here too. */
		sim->n_dropped++;
		return;
	}
	sim->n_received++;
	if (!sim_rpmsg_queue(sim, dst, src, buf + sizeof(*hdr), plen))
		sim->n_echoed++;
}

/* Linux -> remote: the "output" vring (vring 1) */
static void sim_rpmsg_receive(struct rproc_sim *sim)
{
	struct sim_vring *q = &sim->vring[1];
	u16 avail_idx = sim_vring_avail_idx(q);
	struct vring_desc *desc;
	bool used = false;
	void *buf;
	int head;
	u32 len;

	while ((head = sim_vring_next(q, avail_idx)) >= 0) {
		desc = &q->vr.desc[head];
		len = __virtio32_to_cpu(SIM_LE, READ_ONCE(desc->len));
		buf = sim_buf_va(__virtio64_to_cpu(SIM_LE, READ_ONCE(desc->addr)), len);
		if (buf)
			sim_rpmsg_handle(sim, buf, len);
		else
			sim->n_dropped++;
		sim_vring_put_used(q, head, 0);
		used = true;
	}
	if (used)
		sim_vring_interrupt(sim, q);
}

/* remote -> Linux: the "input" vring (vring 0), as long as Linux gave buffers */
static void sim_rpmsg_send(struct rproc_sim *sim)
{
	struct sim_vring *q = &sim->vring[0];
	u16 avail_idx = sim_vring_avail_idx(q);
	struct vring_desc *desc;
	struct sim_msg *msg;
	bool used = false;
	void *buf;
	int head;
	u32 len;

	while (!list_empty(&sim->pending) && (head = sim_vring_next(q, avail_idx)) >= 0) {
		msg = list_first_entry(&sim->pending, struct sim_msg, node);
		list_del(&msg->node);
		sim->n_pending--;
		desc = &q->vr.desc[head];
		len = __virtio32_to_cpu(SIM_LE, READ_ONCE(desc->len));
		buf = sim_buf_va(__virtio64_to_cpu(SIM_LE, READ_ONCE(desc->addr)), len);
		if (buf && msg->len <= len) {
			memcpy(buf, msg->buf, msg->len);
			sim_vring_put_used(q, head, msg->len);
			used = true;
		} else {
			/* The buffer stays Linux's; the message is lost. */
			sim->n_dropped++;
		}
		kfree(msg);
	}
	if (used)
		sim_vring_interrupt(sim, q);
}

/*
 * The device side, run for every kick (and every announce/destroy): once
 * Linux's driver is up (DRIVER_OK) find the vrings, announce the endpoints
 * once, take Linux's messages, then give Linux what is queued for it.
 */
static void sim_rpmsg_work(struct work_struct *work)
{
	struct rproc_sim *sim = container_of(work, struct rproc_sim, rpmsg_work);
	struct sim_ept *ept;

	mutex_lock(&sim->rpmsg_lock);
	if (!sim->rpmsg_live || !READ_ONCE(sim->hw_running))
		goto out;
	/*
	 * Linux reset the device (its driver was unbound; it may be bound again
	 * already, with zeroed vrings): forget the vrings and announce anew.
	 */
	if (sim->vrings_mapped &&
	    (!(READ_ONCE(sim->vdev_rsc->status) & VIRTIO_CONFIG_S_DRIVER_OK) ||
	     sim_vring_was_reset(&sim->vring[0]) || sim_vring_was_reset(&sim->vring[1]))) {
		sim->vrings_mapped = false;
		sim->announced = false;
		sim_rpmsg_free_pending(sim);
	}
	if (!(READ_ONCE(sim->vdev_rsc->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		goto out;
	if (!sim->vrings_mapped) {
		if (!sim_vring_map(sim, 0) || !sim_vring_map(sim, 1)) {
			dev_err_ratelimited(&sim->rproc->dev, "rpmsg vrings not found\n");
			goto out;
		}
		sim->vrings_mapped = true;
	}
	if (!sim->announced) {
		list_for_each_entry(ept, &sim->epts, node)
			sim_rpmsg_ns(sim, ept, RPMSG_NS_CREATE);
		sim->announced = true;
	}
	sim_rpmsg_receive(sim);
	sim_rpmsg_send(sim);
out:
	mutex_unlock(&sim->rpmsg_lock);
}

/* Linux kicked a vring: the device looks at it later, in the work. */
static void sim_kick(struct rproc *rproc, int vqid)
{
	struct rproc_sim *sim = rproc->priv;

	if (READ_ONCE(sim->rpmsg_live))
		schedule_work(&sim->rpmsg_work);
}

/*
 * Added at each start behind the vdev's subdevice, so the core stops it
 * first: the device side is quiet before virtio_rpmsg_bus frees its buffers.
 */
static void sim_rpmsg_subdev_stop(struct rproc_subdev *subdev, bool crashed)
{
	struct rproc_sim *sim = container_of(subdev, struct rproc_sim, rpmsg_subdev);

	mutex_lock(&sim->rpmsg_lock);
	sim->rpmsg_live = false;
	mutex_unlock(&sim->rpmsg_lock);
	cancel_work_sync(&sim->rpmsg_work);
}

/* The firmware's trace and rpmsg vdev entries, in the resource table it was loaded with */
static void sim_rsc_scan(struct rproc_sim *sim)
{
	struct resource_table *table = sim->rproc->table_ptr;
	size_t size = sim->rproc->table_sz;
	struct fw_rsc_trace *trace;
	struct fw_rsc_vdev *vdev;
	struct fw_rsc_hdr *hdr;
	size_t avail;
	u32 i, off;
	void *va;

	/* Only a table in the core's memory (not the core's cached copy) */
	if (!table || (void *)table < sim->mem || size > sim->mem_size ||
	    (void *)table - sim->mem > sim->mem_size - size || size < sizeof(*table) ||
	    table->num > (size - sizeof(*table)) / sizeof(u32))
		return;

	for (i = 0; i < table->num; i++) {
		off = table->offset[i];
		if (off < sizeof(*table) || off >= size || size - off < sizeof(*hdr))
			return;
		hdr = (void *)table + off;
		avail = size - off - sizeof(*hdr);
		if (hdr->type == RSC_TRACE && !sim->trace && avail >= sizeof(*trace)) {
			trace = (void *)hdr->data;
			va = NULL;
			if (trace->len)
				va = sim_da_to_va(sim->rproc, trace->da, trace->len, NULL);
			if (va) {
				/* The firmware starts its trace afresh at each boot. */
				memset(va, 0, trace->len);
				sim->trace = va;
				sim->trace_len = trace->len;
				sim->trace_pos = 0;
			}
		} else if (hdr->type == RSC_VDEV && !sim->vdev_rsc && avail >= sizeof(*vdev)) {
			vdev = (void *)hdr->data;
			if (vdev->id == VIRTIO_ID_RPMSG && vdev->num_of_vrings >= 2 &&
			    avail >= struct_size(vdev, vring, 2))
				sim->vdev_rsc = vdev;
		}
	}
}

/* At start: the trace banner and, with an rpmsg vdev, the device side with channels= */
static void sim_rpmsg_start(struct rproc_sim *sim)
{
	struct sim_ept *ept;
	unsigned int i;

	mutex_lock(&sim->rpmsg_lock);
	sim_rsc_scan(sim);
	sim_trace_locked(sim, "rproc_sim %s: boot %d, firmware %s\n", sim->rproc->name,
			 atomic_read(&sim->n_start) + 1, sim->rproc->firmware);
	if (sim->vdev_rsc) {
		for (i = 0; i < sim->n_channel; i++) {
			if (sim_ept_add(sim, sim->channel[i].name, sim->channel[i].addr, &ept))
				dev_warn(&sim->rproc->dev, "channel %s not created\n",
					 sim->channel[i].name);
		}
		sim->vrings_mapped = false;
		sim->announced = false;
		sim->rpmsg_live = true;
		if (!sim->rpmsg_subdev_added) {
			rproc_add_subdev(sim->rproc, &sim->rpmsg_subdev);
			sim->rpmsg_subdev_added = true;
		}
		sim_trace_locked(sim, "rproc_sim %s: rpmsg vdev, %u channels\n", sim->rproc->name,
				 sim->n_channel);
	}
	mutex_unlock(&sim->rpmsg_lock);
}

/* At stop (or detach, or a failed start): the firmware, its trace and endpoints are gone. */
static void sim_rpmsg_stop(struct rproc_sim *sim)
{
	mutex_lock(&sim->rpmsg_lock);
	sim->rpmsg_live = false;
	mutex_unlock(&sim->rpmsg_lock);
	cancel_work_sync(&sim->rpmsg_work);

	mutex_lock(&sim->rpmsg_lock);
	if (sim->rpmsg_subdev_added) {
		/* Called with the rproc lock held, as the core changes the list. */
		rproc_remove_subdev(sim->rproc, &sim->rpmsg_subdev);
		sim->rpmsg_subdev_added = false;
	}
	sim_rpmsg_free_lists(sim);
	sim->vdev_rsc = NULL;
	sim->trace = NULL;
	sim->trace_len = 0;
	mutex_unlock(&sim->rpmsg_lock);
}

static int sim_prepare(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;

	sim_add_dump_segment(sim);
	atomic_inc(&sim->n_prepare);
	return 0;
}

static int sim_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	struct rproc_sim *sim = rproc->priv;
	const struct elf32_hdr *ehdr = (const struct elf32_hdr *)fw->data;
	int ret;

	/* The dump describes the image that runs (sanity_check passed). */
	rproc_coredump_set_elf_info(rproc, ehdr->e_ident[EI_CLASS], ehdr->e_machine);

	ret = rproc_elf_load_rsc_table(rproc, fw);
	if (ret && !sim->rsc_required) {
		dev_info(&rproc->dev, "no resource table in %s, going on without\n",
			 rproc->firmware);
		return 0;
	}
	return ret;
}

static int sim_load(struct rproc *rproc, const struct firmware *fw)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	ret = rproc_elf_load_segments(rproc, fw);
	if (!ret) {
		/* The bytes the kernel read: tests compare them with the file they checked. */
		WRITE_ONCE(sim->loaded_size, fw->size);
		WRITE_ONCE(sim->loaded_crc, ~crc32_le(~0, fw->data, fw->size));
		atomic_inc(&sim->n_load);
	}
	return ret;
}

static int sim_start(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	if (sim->boot_ms)
		msleep(sim->boot_ms);
	ret = sim_take_failure(&sim->fail_start);
	if (ret)
		return ret;
	WRITE_ONCE(sim->hw_running, true);
	sim_rpmsg_start(sim);
	atomic_inc(&sim->n_start);
	return 0;
}

static int sim_stop(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	/* The core stopped the subdevices already, even if this stop fails. */
	sim_rpmsg_stop(sim);
	ret = sim_take_failure(&sim->fail_stop);
	if (ret)
		return ret;
	WRITE_ONCE(sim->hw_running, false);
	atomic_inc(&sim->n_stop);
	return 0;
}

static int sim_attach(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	if (sim->attach_ms)
		msleep(sim->attach_ms);
	ret = sim_take_failure(&sim->fail_attach);
	if (ret)
		return ret;
	/* After a crash the remote side has restarted itself by now. */
	WRITE_ONCE(sim->hw_running, true);
	atomic_inc(&sim->n_attach);
	return 0;
}

static int sim_detach(struct rproc *rproc)
{
	struct rproc_sim *sim = rproc->priv;
	int ret;

	sim_rpmsg_stop(sim);
	ret = sim_take_failure(&sim->fail_detach);
	if (ret)
		return ret;
	/* The core keeps running: that is what detaching means. */
	atomic_inc(&sim->n_detach);
	return 0;
}

static const struct rproc_ops sim_ops = {
	.prepare = sim_prepare,
	.start = sim_start,
	.stop = sim_stop,
	.attach = sim_attach,
	.detach = sim_detach,
	.kick = sim_kick,
	.da_to_va = sim_da_to_va,
	.load = sim_load,
	.parse_fw = sim_parse_fw,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
};

/* Control files on the platform device */

static ssize_t crash_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);
	enum rproc_state state = READ_ONCE(sim->rproc->state);
	enum rproc_crash_type type = RPROC_WATCHDOG;
	unsigned int val;

	sim_trace_control(sim, "crash", buf, count);
	/* Linux only notices crashes of a core it runs or is attached to. */
	if (state != RPROC_RUNNING && state != RPROC_ATTACHED)
		return -EINVAL;
	if (!kstrtouint(buf, 0, &val) && val <= RPROC_FATAL_ERROR)
		type = val;
	WRITE_ONCE(sim->hw_running, false);
	rproc_report_crash(sim->rproc, type);
	return count;
}
static DEVICE_ATTR_WO(crash);

#define SIM_FAIL_ATTR(op)							\
static ssize_t fail_##op##_show(struct device *dev,				\
				struct device_attribute *attr, char *buf)	\
{										\
	struct rproc_sim *sim = dev_get_drvdata(dev);				\
										\
	return sysfs_emit(buf, "%d\n", atomic_read(&sim->fail_##op));		\
}										\
static ssize_t fail_##op##_store(struct device *dev,				\
				 struct device_attribute *attr,		\
				 const char *buf, size_t count)			\
{										\
	struct rproc_sim *sim = dev_get_drvdata(dev);				\
	unsigned int val;							\
	int ret;								\
										\
	sim_trace_control(sim, "fail_" #op, buf, count);			\
	ret = kstrtouint(buf, 0, &val);						\
	if (ret)								\
		return ret;							\
	if (val > MAX_ERRNO)							\
		return -ERANGE;							\
	atomic_set(&sim->fail_##op, val);					\
	return count;								\
}										\
static DEVICE_ATTR_RW(fail_##op)

SIM_FAIL_ATTR(start);
SIM_FAIL_ATTR(attach);
SIM_FAIL_ATTR(stop);
SIM_FAIL_ATTR(detach);

static ssize_t hw_running_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(sim->hw_running));
}
static DEVICE_ATTR_RO(hw_running);

static ssize_t counters_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "prepare=%d load=%d start=%d stop=%d attach=%d detach=%d\n",
			  atomic_read(&sim->n_prepare), atomic_read(&sim->n_load),
			  atomic_read(&sim->n_start), atomic_read(&sim->n_stop),
			  atomic_read(&sim->n_attach), atomic_read(&sim->n_detach));
}
static DEVICE_ATTR_RO(counters);

static ssize_t loaded_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);

	return sysfs_emit(buf, "size=%zu crc32=%08x\n", READ_ONCE(sim->loaded_size),
			  READ_ONCE(sim->loaded_crc));
}
static DEVICE_ATTR_RO(loaded);

static ssize_t rpmsg_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);
	const char *vdev = "none";
	struct sim_ept *ept;
	int len;

	mutex_lock(&sim->rpmsg_lock);
	if (sim->rpmsg_live)
		vdev = sim->announced ? "ready" : "waiting";
	len = sysfs_emit(buf, "vdev=%s received=%lu echoed=%lu dropped=%lu\n", vdev,
			 sim->n_received, sim->n_echoed, sim->n_dropped);
	list_for_each_entry(ept, &sim->epts, node)
		len += sysfs_emit_at(buf, len, "%s 0x%x\n", ept->name, ept->addr);
	mutex_unlock(&sim->rpmsg_lock);
	return len;
}

/* announce NAME [ADDR] | destroy NAME [ADDR]: NS_CREATE / NS_DESTROY at run time */
static ssize_t rpmsg_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);
	char *copy, *p, *cmd, *name, *addr_s, *extra;
	struct sim_ept *ept, *tmp;
	u32 addr = RPMSG_ADDR_ANY;
	bool found = false;
	int ret = 0;

	sim_trace_control(sim, "rpmsg", buf, count);
	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = strim(copy);
	cmd = strsep(&p, " \t");
	name = p ? strsep(&p, " \t") : NULL;
	addr_s = p ? strsep(&p, " \t") : NULL;
	extra = p;
	if (!name || !*name || strlen(name) >= RPMSG_NAME_SIZE || (extra && *extra) ||
	    (addr_s && (kstrtou32(addr_s, 0, &addr) || !sim_rpmsg_addr_valid(addr)))) {
		ret = -EINVAL;
		goto out_free;
	}

	mutex_lock(&sim->rpmsg_lock);
	if (!sim->rpmsg_live) {
		/* No firmware with an rpmsg vdev runs. */
		ret = -ENODEV;
	} else if (!strcmp(cmd, "announce")) {
		ret = sim_ept_add(sim, name, addr, &ept);
		if (!ret && sim->announced)
			ret = sim_rpmsg_ns(sim, ept, RPMSG_NS_CREATE);
	} else if (!strcmp(cmd, "destroy")) {
		list_for_each_entry_safe(ept, tmp, &sim->epts, node) {
			if (strcmp(ept->name, name) || (addr_s && ept->addr != addr))
				continue;
			if (sim->announced)
				ret = sim_rpmsg_ns(sim, ept, RPMSG_NS_DESTROY) ?: ret;
			list_del(&ept->node);
			kfree(ept);
			found = true;
		}
		if (!found)
			ret = -ENOENT;
	} else {
		ret = -EINVAL;
	}
	if (!ret)
		schedule_work(&sim->rpmsg_work);
	mutex_unlock(&sim->rpmsg_lock);
out_free:
	kfree(copy);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(rpmsg);

/* What the firmware prints: the text written, as one line (a newline added if missing) */
static ssize_t trace_store(struct device *dev, struct device_attribute *attr, const char *buf,
			   size_t count)
{
	struct rproc_sim *sim = dev_get_drvdata(dev);
	char line[SIM_TRACE_LINE_MAX + 1];
	size_t len = count;
	ssize_t ret = count;

	while (len && buf[len - 1] == '\n')
		len--;
	if (!len || len >= SIM_TRACE_LINE_MAX || memchr(buf, '\0', len) || memchr(buf, '\n', len))
		return -EINVAL;
	/* One line with its newline, written (or, when full, dropped) whole. */
	memcpy(line, buf, len);
	line[len++] = '\n';
	mutex_lock(&sim->rpmsg_lock);
	if (!sim->trace || !READ_ONCE(sim->hw_running))
		ret = -ENODEV; /* no firmware runs to print it */
	else
		sim_trace_put_locked(sim, line, len);
	mutex_unlock(&sim->rpmsg_lock);
	return ret;
}
static DEVICE_ATTR_WO(trace);

static struct attribute *sim_attrs[] = {
	&dev_attr_crash.attr,
	&dev_attr_fail_start.attr,
	&dev_attr_fail_attach.attr,
	&dev_attr_fail_stop.attr,
	&dev_attr_fail_detach.attr,
	&dev_attr_hw_running.attr,
	&dev_attr_counters.attr,
	&dev_attr_loaded.attr,
	&dev_attr_rpmsg.attr,
	&dev_attr_trace.attr,
	NULL,
};
ATTRIBUTE_GROUPS(sim);

static void sim_free_mem(void *mem)
{
	vfree(mem);
}

/* After the remote processor is deleted (and so stopped) */
static void sim_rpmsg_cleanup(void *data)
{
	struct rproc_sim *sim = data;

	cancel_work_sync(&sim->rpmsg_work);
	mutex_lock(&sim->rpmsg_lock);
	sim_rpmsg_free_lists(sim);
	mutex_unlock(&sim->rpmsg_lock);
}

/* channels= of instance i: NAME[@ADDR] joined by '+' ("" for none) */
static int sim_parse_channels(struct rproc_sim *sim, unsigned int i)
{
	const char *param = NULL;
	char *copy, *p, *tok, *at;
	struct sim_channel *ch;
	int ret = 0;

	if (n_channels == 1)
		param = channels[0];
	else if (i < n_channels)
		param = channels[i];
	if (!param || !*param)
		return 0;

	copy = kstrdup(param, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	p = copy;
	while ((tok = strsep(&p, "+"))) {
		if (sim->n_channel >= SIM_RPMSG_MAX_CHANNELS) {
			ret = -E2BIG;
			break;
		}
		ch = &sim->channel[sim->n_channel];
		ch->addr = RPMSG_ADDR_ANY;
		at = strchr(tok, '@');
		if (at) {
			*at++ = '\0';
			if (kstrtou32(at, 0, &ch->addr) || !sim_rpmsg_addr_valid(ch->addr)) {
				ret = -EINVAL;
				break;
			}
		}
		if (!*tok || strlen(tok) >= RPMSG_NAME_SIZE) {
			ret = -EINVAL;
			break;
		}
		strscpy(ch->name, tok, sizeof(ch->name));
		sim->n_channel++;
	}
	kfree(copy);
	return ret;
}

static int sim_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	unsigned int i = pdev->id;
	struct rproc_sim *sim;
	struct rproc *rproc;
	int ret;

	if (i >= n_names)
		return -ENODEV;

	rproc = devm_rproc_alloc(dev, names[i], &sim_ops, NULL, sizeof(*sim));
	if (!rproc)
		return -ENOMEM;

	sim = rproc->priv;
	sim->rproc = rproc;
	sim->index = i;
	sim->mem_da = SIM_PARAM(mem_base, i, 0);
	sim->mem_size = SIM_PARAM(mem_size, i, SIM_DEFAULT_MEM_SIZE);
	sim->boot_ms = SIM_PARAM(boot_ms, i, 0);
	sim->attach_ms = SIM_PARAM(attach_ms, i, 0);
	sim->rsc_required = SIM_PARAM(rsc_required, i, 0);
	sim->trace_wrap = SIM_PARAM(trace_wrap, i, 0);

	if (!sim->mem_size || sim->mem_da + sim->mem_size < sim->mem_da)
		return -EINVAL;
	sim->mem = vzalloc(sim->mem_size);
	if (!sim->mem)
		return -ENOMEM;
	ret = devm_add_action_or_reset(dev, sim_free_mem, sim->mem);
	if (ret)
		return ret;

	mutex_init(&sim->rpmsg_lock);
	INIT_LIST_HEAD(&sim->epts);
	INIT_LIST_HEAD(&sim->pending);
	INIT_WORK(&sim->rpmsg_work, sim_rpmsg_work);
	sim->rpmsg_subdev.stop = sim_rpmsg_subdev_stop;
	ret = sim_parse_channels(sim, i);
	if (ret)
		return dev_err_probe(dev, ret, "bad channels= for %s\n", names[i]);
	/* Registered before the remote processor, so it runs after rproc_del(). */
	ret = devm_add_action_or_reset(dev, sim_rpmsg_cleanup, sim);
	if (ret)
		return ret;

	rproc->auto_boot = SIM_PARAM(auto_boot, i, 0);
	if (SIM_PARAM(attach_on_recovery, i, 0))
		rproc_set_feature(rproc, RPROC_FEAT_ATTACH_ON_RECOVERY);
	/* The class is replaced by the firmware's when one is loaded. */
	rproc_coredump_set_elf_info(rproc, ELFCLASS32, EM_NONE);

	if (SIM_PARAM(detached, i, 0)) {
		/* Started by a "bootloader": the core is running before Linux. */
		sim->hw_running = true;
		rproc->state = RPROC_DETACHED;
	}

	platform_set_drvdata(pdev, sim);

	ret = devm_rproc_add(dev, rproc);
	if (ret)
		return dev_err_probe(dev, ret, "rproc_add failed\n");

	dev_info(dev, "simulated core %s: %zu bytes at 0x%llx%s\n", names[i], sim->mem_size,
		 (unsigned long long)sim->mem_da, sim->hw_running ? ", detached" : "");
	return 0;
}

static struct platform_driver sim_driver = {
	.probe = sim_probe,
	.driver = {
		.name = "rproc_sim",
		.dev_groups = sim_groups,
	},
};

static void sim_unregister_devices(void)
{
	int i;

	for (i = SIM_MAX - 1; i >= 0; i--) {
		if (sim_pdevs[i])
			platform_device_unregister(sim_pdevs[i]);
		sim_pdevs[i] = NULL;
	}
}

static int __init sim_init(void)
{
	struct platform_device *pdev;
	int ret, i;

	if (n_names < 1 || n_names > SIM_MAX)
		return -EINVAL;
	for (i = 0; i < n_names; i++)
		if (!names[i] || !names[i][0])
			return -EINVAL;

	ret = platform_driver_register(&sim_driver);
	if (ret)
		return ret;

	for (i = 0; i < n_names; i++) {
		pdev = platform_device_register_simple("rproc_sim", i, NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			goto fail;
		}
		sim_pdevs[i] = pdev;
		if (!platform_get_drvdata(pdev)) {
			/* probe failed: say so instead of leaving a bare device */
			ret = -ENODEV;
			goto fail;
		}
	}
	return 0;

fail:
	sim_unregister_devices();
	platform_driver_unregister(&sim_driver);
	return ret;
}

static void __exit sim_exit(void)
{
	/* Unbinding deletes the remote processors (stopping running cores). */
	sim_unregister_devices();
	platform_driver_unregister(&sim_driver);
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated remote processors for the remoteproc core (rprocd test bench)");
MODULE_LICENSE("GPL");
