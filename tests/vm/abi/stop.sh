#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: stop shuts a running or attached core down (-> offline; an
# attached core is not detached), and is refused from offline.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

boot_core() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	assert_state "$r" running
}

test_stop_running() {
	boot_core
	probe_ok request "$r" stop
	assert_state "$r" offline
	assert_eq "$(sim_hw_running 0)" 0 "hw_running after stop"
	assert_eq "$(sim_counter 0 stop)" 1 "stop counter"
}

test_stop_via_cdev() {
	boot_core
	probe_ok request "$r" stop --cdev
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 stop)" 1 "stop counter"
}

test_stop_attached() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_ok request "$r" start
	assert_state "$r" attached
	probe_ok request "$r" stop
	assert_state "$r" offline
	assert_eq "$(sim_hw_running 0)" 0 "hw_running after stopping an attached core"
	sim_counters 0
	assert_eq "$cnt_stop $cnt_detach" "1 0" "counters stop detach"
}

test_stop_offline() {
	sim_load names=m4
	r=$(sim_rproc 0)
	probe_err EINVAL request "$r" stop
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 stop)" 0 "stop counter"
}

test_stop_detached() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_err EINVAL request "$r" stop
	assert_state "$r" detached
	assert_eq "$(sim_hw_running 0)" 1 "hw_running"
}

test_boot_again() {
	boot_core
	probe_ok request "$r" stop
	probe_ok request "$r" start
	assert_state "$r" running
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop $cnt_load $cnt_prepare" "2 1 2 2" \
		"counters start stop load prepare"
}

test_rmmod_stops() {
	boot_core
	sim_unload
	assert_not_exists "/sys/class/remoteproc/$r"
	assert_contains "$(case_klog)" "stopped remote processor m4" "kernel log"
	sim_load names=m4
	assert_state 0 offline
}

test_case "running -> stop -> offline" test_stop_running
test_case "stop through the chardev" test_stop_via_cdev
test_case "attached -> stop -> offline (shut down, not detached)" test_stop_attached
test_case "stop of an offline core: EINVAL" test_stop_offline
test_case "stop of a detached core: EINVAL" test_stop_detached
test_case "a stopped core boots again" test_boot_again
test_case "removing the module stops a running core; re-insertion works" test_rmmod_stops
sim_unload
test_summary
