#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: a crash with recovery enabled reboots the core (back to
# running, a new start); with recovery disabled it stays crashed until
# "recover". An attached core is recovered by booting its firmware file,
# unless the driver set attach-on-recovery (detach + attach).
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

boot_core() {
	sim_load names=m4 "$@"
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	assert_state "$r" running
}

test_recovery_enabled() {
	boot_core
	assert_eq "$(probe read "$r" recovery)" enabled "default recovery"
	sim_crash 0
	wait_state "$r" running 5
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after recovery"
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop $cnt_load $cnt_prepare" "2 1 2 1" \
		"counters start stop load prepare"
	local klog
	klog=$(case_klog)
	assert_contains "$klog" "crash detected in m4: type watchdog" "kernel log"
	assert_contains "$klog" "handling crash #1 in m4" "kernel log"
}

test_recovery_disabled() {
	boot_core
	probe_ok write "$r" recovery disabled
	assert_eq "$(probe read "$r" recovery)" disabled "recovery read back"
	sim_crash 0 2
	wait_state "$r" crashed 5
	assert_state_stays "$r" crashed 500
	assert_eq "$(sim_counter 0 start)" 1 "start counter while crashed"
	assert_eq "$(sim_hw_running 0)" 0 "hw_running while crashed"
	probe_err EBUSY write "$r" coredump enabled
	assert_contains "$(case_klog)" "crash detected in m4: type fatal error" "kernel log"

	probe_ok write "$r" recovery recover
	wait_state "$r" running 5
	assert_eq "$(probe read "$r" recovery)" disabled "recovery after a one-time recover"
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop" "2 1" "counters start stop after recover"
}

test_recovery_enable_recovers() {
	boot_core
	probe_ok write "$r" recovery disabled
	sim_crash 0
	wait_state "$r" crashed 5
	probe_ok write "$r" recovery enabled
	wait_state "$r" running 5
	assert_eq "$(sim_counter 0 start)" 2 "start counter"
}

test_crashed_stop() {
	boot_core
	probe_ok write "$r" recovery disabled
	sim_crash 0
	wait_state "$r" crashed 5
	probe_ok request "$r" stop
	assert_state "$r" offline
	probe_ok request "$r" start
	assert_state "$r" running
}

test_attached_crash_boots_firmware() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	# The recovery boots the default firmware name of the core.
	fw_install fw64 rproc-m4-fw
	probe_ok request "$r" start
	assert_state "$r" attached
	sim_crash 0
	wait_state "$r" running 5
	sim_counters 0
	assert_eq "$cnt_attach $cnt_stop $cnt_load $cnt_start $cnt_detach" "1 1 1 1 0" \
		"counters attach stop load start detach"
}

test_attach_on_recovery() {
	sim_load names=m4 detached=1 attach_on_recovery=1
	r=$(sim_rproc 0)
	probe_ok request "$r" start
	assert_state "$r" attached
	sim_crash 0
	wait_state "$r" attached 5
	# and stays there: a boot recovery would end in "running"
	assert_state_stays "$r" attached 300
	sim_counters 0
	assert_eq "$cnt_attach $cnt_detach $cnt_stop $cnt_load $cnt_start" "2 1 0 0 0" \
		"counters attach detach stop load start"
	# KERNEL-ABI.md: 6.12 runs ops->prepare again for the re-attach, 6.1 does not.
	case "${RPROCD_VM_KERNEL_BASE:-${RPROCD_VM_KERNEL:-}}" in
	6.1) assert_eq "$cnt_prepare" 1 "prepare counter on 6.1" ;;
	6.12) assert_eq "$cnt_prepare" 2 "prepare counter on 6.12" ;;
	esac
	assert_contains "$(case_klog)" "handling crash #1 in m4" "kernel log"
}

test_failed_recovery_wedge() {
	boot_core
	rm /lib/firmware/fw64.elf
	sim_crash 0
	wait_state "$r" offline 5
	assert_contains "$(case_klog)" "request_firmware failed" "kernel log"
	# The power reference of the failed recovery is still held.
	fw_install fw64
	probe_ok request "$r" start
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 start)" 1 "start counter after the no-op start"
	probe_err EINVAL request "$r" stop
}

test_case "crash, recovery enabled: back to running with a new start" test_recovery_enabled
test_case "crash, recovery disabled: stays crashed; recover restarts" test_recovery_disabled
test_case "crashed, recovery set to enabled: recovers now" test_recovery_enable_recovers
test_case "crashed core: stop takes it offline" test_crashed_stop
test_case "attached core crashes: recovered by booting the firmware file" \
	test_attached_crash_boots_firmware
test_case "attach-on-recovery: detach + attach, no boot" test_attach_on_recovery
test_case "failed recovery: offline with a power reference held (the wedge)" \
	test_failed_recovery_wedge
sim_unload
test_summary
