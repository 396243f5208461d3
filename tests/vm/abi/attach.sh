#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: a core started before Linux (detached) is attached, not
# booted: detached -> attached, never "running"; firmware reads "unknown".
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_attach() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	assert_state "$r" detached
	assert_eq "$(sim_hw_running 0)" 1 "hw_running of a detached core"
	assert_eq "$(probe read "$r" firmware)" rproc-m4-fw "firmware of a detached core"
	probe_ok request "$r" start
	assert_state "$r" attached
	assert_eq "$(probe state "$r")" attached "state through librproc"
	assert_eq "$(probe read "$r" firmware)" unknown "firmware of an attached core"
	assert_eq "$(sim_hw_running 0)" 1 "hw_running"
	sim_counters 0
	assert_eq "$cnt_prepare $cnt_load $cnt_start $cnt_attach" "1 0 0 1" \
		"counters prepare load start attach"
}

test_attach_via_cdev() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_ok request "$r" start --cdev
	assert_state "$r" attached
	assert_eq "$(sim_counter 0 attach)" 1 "attach counter"
}

test_attach_blocks() {
	local t0 ms
	sim_load names=m4 detached=1 attach_ms=400
	r=$(sim_rproc 0)
	t0=$(date +%s%N)
	probe_ok request "$r" start
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms >= 400)) || _assert_fail "attach returned after $ms ms, before the 400 ms attach"
	assert_state "$r" attached
}

test_only_detached_one_attaches() {
	sim_load names=m4,m4 detached=0,1
	local r0 r1
	r0=$(sim_rproc 0)
	r1=$(sim_rproc 1)
	assert_state "$r0" offline
	assert_state "$r1" detached
	probe_ok request "$r1" start
	assert_state "$r1" attached
	assert_state "$r0" offline
	assert_eq "$(sim_counter 0 attach)" 0 "attach counter of the other core"
}

test_auto_boot_attaches() {
	sim_load names=m4 detached=1 auto_boot=1
	wait_state 0 attached 5
	assert_eq "$(sim_counter 0 attach)" 1 "attach counter"
}

test_case "detached core: start attaches it (detached -> attached)" test_attach
test_case "attach through the chardev" test_attach_via_cdev
test_case "an attach blocks for the whole attach" test_attach_blocks
test_case "two cores of one name: only the detached one attaches" test_only_detached_one_attaches
test_case "auto_boot attaches a detached core at registration" test_auto_boot_attaches
sim_unload
test_summary
