#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: "firmware" can only be written while the core is offline
# (EBUSY while running, attached, detached or crashed); empty is EINVAL.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_busy_running() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64
	fw_install fw32
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	probe_err EBUSY write "$r" firmware fw32.elf
	assert_eq "$(probe read "$r" firmware)" fw64.elf "firmware after the refused write"
	assert_state "$r" running
	probe_ok request "$r" stop
	probe_ok write "$r" firmware fw32.elf
	assert_eq "$(probe read "$r" firmware)" fw32.elf "firmware written while offline"
}

test_busy_detached_attached() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_err EBUSY write "$r" firmware fw64.elf
	probe_ok request "$r" start
	probe_err EBUSY write "$r" firmware fw64.elf
	assert_eq "$(probe read "$r" firmware)" unknown "firmware of the attached core"
}

test_busy_crashed() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok write "$r" recovery disabled
	probe_ok request "$r" start
	sim_crash 0
	wait_state "$r" crashed
	probe_err EBUSY write "$r" firmware fw64.elf
}

test_empty_name() {
	sim_load names=m4
	r=$(sim_rproc 0)
	probe_err EINVAL write-raw "$r" firmware $'\n'
	assert_eq "$(probe read "$r" firmware)" rproc-m4-fw "firmware after the refused write"
}

test_subdirectory_name() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64 sub/dir/m4.elf
	probe_ok write "$r" firmware sub/dir/m4.elf
	probe_ok request "$r" start
	assert_state "$r" running
}

test_case "firmware while running: EBUSY; while offline: accepted" test_busy_running
test_case "firmware while detached or attached: EBUSY" test_busy_detached_attached
test_case "firmware while crashed: EBUSY" test_busy_crashed
test_case "an empty firmware name: EINVAL" test_empty_name
test_case "firmware names may have subdirectories" test_subdirectory_name
sim_unload
test_summary
