// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A freestanding firmware image for the simulated remote processors: it
 * spins forever. Built by tests/firmware/build in several variants:
 *   WITH_RSC    a minimal valid resource table (ver 1, no entries)
 *   WITH_RPMSG  instead, a resource table with a trace buffer and an rpmsg
 *               virtio device (what rproc_sim needs to play the remote side
 *               of virtio-rpmsg)
 *   FW_NAME     the variant's name, part of the recognisable data pattern
 */

#include <stdint.h>

#ifndef FW_NAME
#define FW_NAME "fw"
#endif

/*
 * Recognisable bytes in the data segment: a coredump of the core must show
 * them at the same device address (first bytes of the data PT_LOAD).
 */
__attribute__((used, aligned(16))) char fw_pattern[128] =
	"RPROCD-TEST-FIRMWARE " FW_NAME " "
	"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

__attribute__((used)) volatile uint32_t fw_counter = 0x5eed5eed;

#if defined(WITH_RPMSG)
/*
 * The layout of include/linux/remoteproc.h (rsc_table.h on newer kernels):
 * struct resource_table with two offsets, then a struct fw_rsc_hdr before
 * each entry: a struct fw_rsc_trace and a struct fw_rsc_vdev with two
 * struct fw_rsc_vdev_vring. All little-endian u32 words, packed.
 */
#define FW_RSC_ADDR_ANY	  0xffffffffu
#define RSC_TRACE	  2
#define RSC_VDEV	  3
#define VIRTIO_ID_RPMSG	  7
#define VIRTIO_RPMSG_F_NS 0

/*
 * The trace buffer lies at a fixed device address in the simulated memory,
 * above the image's segments (a C initializer cannot truncate a symbol's
 * address to 32 bits); rproc_sim clears it when the core starts.
 */
#define FW_TRACE_DA  0x10000u
#define FW_TRACE_LEN 0x1000u
/* Two vrings of 16 buffers each, allocated by Linux (FW_RSC_ADDR_ANY) */
#define FW_VRING_NUM   16u
#define FW_VRING_ALIGN 4096u

struct fw_rsc_trace {
	uint32_t da;
	uint32_t len;
	uint32_t reserved;
	char name[32];
} __attribute__((packed));

struct fw_rsc_vdev_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
	uint32_t pa;
} __attribute__((packed));

struct fw_rsc_vdev {
	uint32_t id;
	uint32_t notifyid;
	uint32_t dfeatures;
	uint32_t gfeatures;
	uint32_t config_len;
	uint8_t status;
	uint8_t num_of_vrings;
	uint8_t reserved[2];
	struct fw_rsc_vdev_vring vring[2];
} __attribute__((packed));

struct fw_resource_table {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
	uint32_t offset[2];
	uint32_t trace_type;
	struct fw_rsc_trace trace;
	uint32_t vdev_type;
	struct fw_rsc_vdev vdev;
} __attribute__((packed));

__attribute__((used, section(".resource_table"), aligned(8)))
const struct fw_resource_table fw_resource_table = {
	.ver = 1,
	.num = 2,
	.offset = {
		__builtin_offsetof(struct fw_resource_table, trace_type),
		__builtin_offsetof(struct fw_resource_table, vdev_type),
	},
	.trace_type = RSC_TRACE,
	.trace = {
		.da = FW_TRACE_DA,
		.len = FW_TRACE_LEN,
		.name = "trace",
	},
	.vdev_type = RSC_VDEV,
	.vdev = {
		.id = VIRTIO_ID_RPMSG,
		.dfeatures = 1u << VIRTIO_RPMSG_F_NS,
		.num_of_vrings = 2,
		.vring = {
			{ .da = FW_RSC_ADDR_ANY, .align = FW_VRING_ALIGN, .num = FW_VRING_NUM,
			  .notifyid = FW_RSC_ADDR_ANY },
			{ .da = FW_RSC_ADDR_ANY, .align = FW_VRING_ALIGN, .num = FW_VRING_NUM,
			  .notifyid = FW_RSC_ADDR_ANY },
		},
	},
};
#elif defined(WITH_RSC)
/* struct resource_table of include/linux/remoteproc.h, with no entries */
struct fw_resource_table {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
};

__attribute__((used, section(".resource_table"), aligned(8)))
const struct fw_resource_table fw_resource_table = {
	.ver = 1,
	.num = 0,
};
#endif

__attribute__((noreturn, section(".text.start"))) void _start(void);

void _start(void)
{
	for (;;)
		fw_counter++;
}
