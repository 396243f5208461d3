#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: detach leaves the core running (attached -> detached), and
# only an attached core can be detached.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

attach_core() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_ok request "$r" start
	assert_state "$r" attached
}

test_detach() {
	attach_core
	probe_ok request "$r" detach
	assert_state "$r" detached
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after detach"
	sim_counters 0
	assert_eq "$cnt_detach $cnt_stop $cnt_start $cnt_load" "1 0 0 0" \
		"counters detach stop start load"
}

test_detach_via_cdev() {
	attach_core
	probe_ok request "$r" detach --cdev
	assert_state "$r" detached
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after detach"
}

test_reattach() {
	attach_core
	probe_ok request "$r" detach
	probe_ok request "$r" start
	assert_state "$r" attached
	sim_counters 0
	assert_eq "$cnt_attach $cnt_detach $cnt_start" "2 1 0" "counters attach detach start"
}

test_detach_booted_core() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	probe_err EINVAL request "$r" detach
	assert_state "$r" running
	assert_eq "$(sim_counter 0 detach)" 0 "detach counter"
}

test_detach_offline_detached() {
	sim_load names=m4,m4 detached=0,1
	probe_err EINVAL request "$(sim_rproc 0)" detach
	assert_state 0 offline
	probe_err EINVAL request "$(sim_rproc 1)" detach
	assert_state 1 detached
}

test_case "attached core detaches and keeps running" test_detach
test_case "detach through the chardev" test_detach_via_cdev
test_case "a detached core attaches again" test_reattach
test_case "a core Linux booted cannot be detached: EINVAL" test_detach_booted_core
test_case "offline and detached cores cannot be detached: EINVAL" test_detach_offline_detached
sim_unload
test_summary
