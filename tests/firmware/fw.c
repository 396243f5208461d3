// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A freestanding firmware image for the simulated remote processors: it
 * spins forever. Built by tests/firmware/build in several variants:
 *   WITH_RSC  a minimal valid resource table (ver 1, no entries)
 *   FW_NAME   the variant's name, part of the recognisable data pattern
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

#ifdef WITH_RSC
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
