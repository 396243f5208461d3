/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One table of abi-layout.h; ABI_LAYOUT_NAME says which (tests/unit/meson.build). */
#include "abi-layout.h"
#include "rproc/config.h"
#include "rproc/firmware.h"

#define STRUCT(t)                          \
	{                                  \
#t, sizeof(t), _Alignof(t) \
	}
#define MEMBER(t, m)                                            \
	{                                                       \
#t "." #m, offsetof(t, m), sizeof(((t *) 0)->m) \
	}

const struct abi_entry ABI_LAYOUT_NAME[] = {
	/* Which flags this unit saw, for the test's log. */
	{ "off_t, time_t (not compared)", sizeof(off_t), sizeof(time_t) },
	STRUCT(struct rproc_fw_expect),
	STRUCT(struct rproc_fw_info),
	MEMBER(struct rproc_fw_info, size),
	MEMBER(struct rproc_fw_info, entry),
	MEMBER(struct rproc_fw_info, load_memsz),
	MEMBER(struct rproc_fw_info, build_id_len),
	MEMBER(struct rproc_fw_info, build_id),
	MEMBER(struct rproc_fw_info, dev),
	MEMBER(struct rproc_fw_info, ino),
	MEMBER(struct rproc_fw_info, mtime_nsec),
	STRUCT(struct rproc_config_origin),
	STRUCT(struct rproc_config_diag),
	STRUCT(struct rproc_core_settings),
	MEMBER(struct rproc_core_settings, restart_usec),
	MEMBER(struct rproc_core_settings, coredump_max_use),
	MEMBER(struct rproc_core_settings, ready_timeout_usec),
	STRUCT(struct rproc_core_config),
	MEMBER(struct rproc_core_config, settings),
	MEMBER(struct rproc_core_config, origin),
	MEMBER(struct rproc_core_config, n_diags),
	STRUCT(struct rproc_daemon_config),
	MEMBER(struct rproc_daemon_config, defaults),
	MEMBER(struct rproc_daemon_config, n_diags),
	{ NULL, 0, 0 },
};
