#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: a driver error is passed through unchanged. A failed start
# leaves the core offline (no power reference held: the next start boots);
# failed attach, stop and detach leave the state as it was.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_fail_start() {
	setup_core
	sim_fail 0 start 5
	probe_err EIO request "$r" start
	assert_state "$r" offline
	assert_eq "$(sim_hw_running 0)" 0 "hw_running"
	sim_counters 0
	assert_eq "$cnt_prepare $cnt_load $cnt_start" "1 1 0" "counters prepare load start"
	assert_contains "$(case_klog)" "can't start rproc m4: -5" "kernel log"

	probe_ok request "$r" start
	assert_state "$r" running
	assert_eq "$(sim_counter 0 start)" 1 "start counter after the second start"
	probe_ok request "$r" stop
	assert_state "$r" offline
}

test_fail_start_cdev() {
	setup_core
	sim_fail 0 start 19
	probe_err ENODEV request "$r" start --cdev
	assert_state "$r" offline
}

test_fail_attach() {
	setup_core detached=1
	sim_fail 0 attach 110
	probe_err ETIMEDOUT request "$r" start
	assert_state "$r" detached
	assert_eq "$(sim_counter 0 attach)" 0 "attach counter"
	probe_ok request "$r" start
	assert_state "$r" attached
}

test_fail_stop() {
	setup_core
	probe_ok request "$r" start
	sim_fail 0 stop 16
	probe_err EBUSY request "$r" stop
	assert_state "$r" running
	assert_eq "$(sim_hw_running 0)" 1 "hw_running"
	probe_ok request "$r" stop
	assert_state "$r" offline
}

test_fail_detach() {
	setup_core detached=1
	probe_ok request "$r" start
	sim_fail 0 detach 5
	probe_err EIO request "$r" detach
	assert_state "$r" attached
	probe_ok request "$r" detach
	assert_state "$r" detached
}

test_case "fail_start: the driver's errno, offline, and the next start boots" test_fail_start
test_case "fail_start through the chardev: the same errno" test_fail_start_cdev
test_case "fail_attach: the errno, still detached" test_fail_attach
test_case "fail_stop: the errno, still running" test_fail_stop
test_case "fail_detach: the errno, still attached" test_fail_detach
sim_unload
test_summary
