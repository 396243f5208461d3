#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: an offline core boots from its firmware file (offline ->
# running), and the kernel's errors for firmware it refuses.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# boot_image IMAGE [SIM_PARAMS...] - load the sim, install IMAGE, start core 0
boot_image() {
	local image=$1
	shift
	sim_load names=m4 "$@"
	r=$(sim_rproc 0)
	fw_install "$image"
	probe_ok write "$r" firmware "$image.elf"
}

test_boot_elf64() {
	boot_image fw64
	assert_state "$r" offline
	assert_eq "$(sim_hw_running 0)" 0 "hw_running before start"
	assert_eq "$(probe read "$r" firmware)" fw64.elf "firmware read back"
	probe_ok request "$r" start
	assert_state "$r" running
	assert_eq "$(probe state "$r")" running "state through librproc"
	assert_eq "$(sim_hw_running 0)" 1 "hw_running after start"
	sim_counters 0
	assert_eq "$cnt_prepare $cnt_load $cnt_start $cnt_stop $cnt_attach" "1 1 1 0 0" \
		"counters prepare load start stop attach"
	assert_contains "$(case_klog)" "Booting fw image fw64.elf" "kernel log"
}

test_boot_elf32() {
	boot_image fw32
	probe_ok request "$r" start
	assert_state "$r" running
	assert_eq "$(sim_counter 0 start)" 1 "start counter"
}

test_list() {
	sim_load names=m4,dsp detached=0,1
	local out
	out=$(probe_ok list)
	assert_contains "$out" "$(sim_rproc 0) m4 offline /sys/devices/platform/rproc_sim.0/remoteproc/$(sim_rproc 0)"
	assert_contains "$out" "$(sim_rproc 1) dsp detached /sys/devices/platform/rproc_sim.1/remoteproc/$(sim_rproc 1)"
}

test_start_blocks_for_boot() {
	local t0 ms
	boot_image fw64 boot_ms=400
	t0=$(date +%s%N)
	probe_ok request "$r" start
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms >= 400)) || _assert_fail "start returned after $ms ms, before the 400 ms boot"
	assert_state "$r" running
}

test_no_rsc_table_optional() {
	boot_image fw64-norsc rsc_required=0
	probe_ok request "$r" start
	assert_state "$r" running
}

test_no_rsc_table_required() {
	boot_image fw32-norsc rsc_required=1
	probe_err EINVAL request "$r" start
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 start)" 0 "start counter"
}

test_segment_outside_memory() {
	boot_image fw64-outside
	probe_err EINVAL request "$r" start
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 load)" 0 "load counter"
	assert_contains "$(case_klog)" "bad phdr da" "kernel log"
}

test_missing_firmware() {
	sim_load names=m4
	r=$(sim_rproc 0)
	probe_ok write "$r" firmware does-not-exist.elf
	probe_err ENOENT request "$r" start
	assert_state "$r" offline
	assert_eq "$(sim_counter 0 prepare)" 0 "prepare counter"
}

test_not_elf() {
	sim_load names=m4
	r=$(sim_rproc 0)
	printf 'this is not an ELF image, just some bytes of text\n' >/lib/firmware/text.bin
	probe_ok write "$r" firmware text.bin
	probe_err EINVAL request "$r" start
	assert_state "$r" offline
}

test_case "ELF64 image boots: offline -> running" test_boot_elf64
test_case "ELF32 image boots" test_boot_elf32
test_case "cores are listed with name, state and device path" test_list
test_case "a start blocks for the whole boot" test_start_blocks_for_boot
test_case "no resource table, driver does not need one: boots" test_no_rsc_table_optional
test_case "no resource table, driver needs one: EINVAL, offline" test_no_rsc_table_required
test_case "segment outside device memory: EINVAL, offline" test_segment_outside_memory
test_case "missing firmware file: ENOENT, offline" test_missing_firmware
test_case "not an ELF image: EINVAL, offline" test_not_elf
sim_unload
test_summary
