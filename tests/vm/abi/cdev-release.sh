#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: /dev/remoteprocN with shutdown-on-release set stops a running
# core (detaches an attached one) when its holder dies. The flag belongs to
# the remote processor, not to the file descriptor.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_release_stops() {
	setup_core
	assert_eq "$(stat -c %A "/dev/$r")" crw------- "mode of /dev/$r"
	cdev_hold "$r" --shutdown-on-release --start
	assert_state "$r" running
	cdev_release KILL
	wait_state "$r" offline 5
	assert_eq "$(sim_hw_running 0)" 0 "hw_running after release"
	assert_eq "$(sim_counter 0 stop)" 1 "stop counter"
}

test_release_without_flag() {
	setup_core
	cdev_hold "$r" --start
	assert_state "$r" running
	cdev_release KILL
	assert_state_stays "$r" running 500
	assert_eq "$(sim_counter 0 stop)" 0 "stop counter"
}

test_release_detaches_attached() {
	setup_core detached=1
	cdev_hold "$r" --shutdown-on-release --start
	assert_state "$r" attached
	cdev_release TERM
	wait_state "$r" detached 5
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after release"
	sim_counters 0
	assert_eq "$cnt_detach $cnt_stop" "1 0" "counters detach stop"
}

test_flag_per_core() {
	setup_core
	# The holder only sets the flag; the core is started through sysfs.
	cdev_hold "$r" --shutdown-on-release
	probe_ok request "$r" start
	assert_state "$r" running
	cdev_release KILL
	wait_state "$r" offline 5

	# The flag outlives the fd that set it: any later open + close stops the core.
	probe_ok request "$r" start
	assert_state "$r" running
	assert_eq "$(probe_ok cdev-flag "$r")" 1 "flag read through a new fd"
	wait_state "$r" offline 5
	assert_eq "$(sim_counter 0 stop)" 2 "stop counter"

	# Until someone clears it.
	probe_ok cdev-flag "$r" 0
	probe_ok request "$r" start
	assert_eq "$(probe_ok cdev-flag "$r")" 0 "flag after clearing"
	assert_state_stays "$r" running 300
}

test_case "shutdown-on-release: the holder dies, the running core stops" test_release_stops
test_case "without the flag the core keeps running" test_release_without_flag
test_case "shutdown-on-release on an attached core detaches it" test_release_detaches_attached
test_case "the flag is per remote processor and persists" test_flag_per_core
sim_unload
test_summary
