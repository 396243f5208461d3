#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: the refcount trap (5.19+). A second start of a running or
# attached core returns 0 and takes another power reference; one stop or
# detach then only drops that reference and the core keeps running.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

test_second_start_running() {
	sim_load names=m4
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	probe_ok request "$r" start
	assert_state "$r" running
	assert_eq "$(sim_counter 0 start)" 1 "start counter after the second start"

	probe_ok request "$r" stop
	assert_state "$r" running
	assert_eq "$(sim_counter 0 stop)" 0 "stop counter after the first stop"
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after the first stop"

	probe_ok request "$r" stop
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 stop)" 1 "stop counter after the second stop"
}

test_second_start_attached() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	probe_ok request "$r" start
	probe_ok request "$r" start
	assert_state "$r" attached
	assert_eq "$(sim_counter 0 attach)" 1 "attach counter"

	probe_ok request "$r" detach
	assert_state "$r" attached
	assert_eq "$(sim_counter 0 detach)" 0 "detach counter after the first detach"

	probe_ok request "$r" detach
	assert_state "$r" detached
	assert_eq "$(sim_counter 0 detach)" 1 "detach counter after the second detach"
}

test_case "second start of a running core: 0, and one stop leaves it running" \
	test_second_start_running
test_case "second start of an attached core: 0, and one detach leaves it attached" \
	test_second_start_attached
sim_unload
test_summary
