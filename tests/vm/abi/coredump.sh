#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: with coredump=enabled a crash creates
# /sys/class/devcoredump/devcdN whose failing_device is the remoteproc
# device and whose data is an ELF core of the device memory.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120 # cnt_* are set by sim_counters
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

boot_core() {
	local image=$1
	shift
	devcd_clear
	sim_load names=m4 "$@"
	r=$(sim_rproc 0)
	fw_install "$image"
	probe_ok write "$r" firmware "$image.elf"
	probe_ok request "$r" start
	assert_state "$r" running
}

# wait_devcd CORE - print the core's devcoredump directory once it appears
wait_devcd() {
	local i d
	for ((i = 0; i < 100; i++)); do
		d=$(devcd_for "$1")
		[[ -n "$d" ]] && echo "$d" && return 0
		sleep 0.05
	done
	_assert_fail "no devcoredump for $1 after 5 s"
}

# check_dump DUMP IMAGE CLASS - DUMP is an ELF core of the 1 MiB device
# memory holding IMAGE's data segment at its device address
check_dump() {
	local dump=$1 image=$2 class=$3 hdr load fwdata off da filesz dump_off
	hdr=$(readelf -hW "$dump")
	assert_match "$hdr" "Class: +ELF$class" "dump class"
	assert_match "$hdr" "Type: +CORE" "dump type"
	load=$(readelf -lW "$dump" | awk '$1 == "LOAD"')
	assert_eq "$(wc -l <<<"$load")" 1 "LOAD segments in the dump"
	read -r _ dump_off da _ filesz _ <<<"$load"
	assert_eq "$((da))" 0 "dump segment address"
	assert_eq "$((filesz))" $((0x100000)) "dump segment size"

	# The firmware's data segment (the writable PT_LOAD) must be in the dump.
	fwdata=$(readelf -lW "$(fw_image "$image")" | awk '$1 == "LOAD" && $7 == "RW"')
	read -r _ off da _ filesz _ <<<"$fwdata"
	assert_success cmp -n $((filesz)) -i $((off)):$((dump_off + da)) "$(fw_image "$image")" "$dump"
	assert_contains "$(strings "$dump")" "RPROCD-TEST-FIRMWARE $image" "pattern in the dump"
}

test_no_dump_by_default() {
	boot_core fw64
	assert_eq "$(probe read "$r" coredump)" disabled "default coredump"
	sim_crash 0
	wait_state "$r" running 5
	sleep 0.3
	assert_eq "$(devcd_for "$r")" "" "devcoredump with coredump disabled"
}

test_dump_enabled() {
	local d
	boot_core fw64
	probe_ok write "$r" coredump enabled
	assert_eq "$(probe read "$r" coredump)" enabled "coredump read back"
	sim_crash 0
	d=$(wait_devcd "$r")
	wait_state "$r" running 5
	assert_eq "$(readlink -f "$d/failing_device")" "$(readlink -f "/sys/class/remoteproc/$r")" \
		"failing_device"
	cat "$d/data" >/tmp/dump
	check_dump /tmp/dump fw64 64
	echo 1 >"$d/data"
	sleep 0.2
	assert_not_exists "$d" "devcoredump after it was freed"
}

test_dump_elf32() {
	local d
	boot_core fw32
	probe_ok write "$r" coredump enabled
	sim_crash 0
	d=$(wait_devcd "$r")
	cat "$d/data" >/tmp/dump32
	check_dump /tmp/dump32 fw32 32
	echo 1 >"$d/data"
}

test_dump_on_recover() {
	local d
	boot_core fw64
	probe_ok write "$r" coredump enabled
	probe_ok write "$r" recovery disabled
	sim_crash 0
	wait_state "$r" crashed 5
	sleep 0.3
	assert_eq "$(devcd_for "$r")" "" "devcoredump while crashed, before recovery"
	probe_ok write "$r" recovery recover
	d=$(wait_devcd "$r")
	wait_state "$r" running 5
	echo 1 >"$d/data"
}

test_case "coredump disabled (default): a crash leaves no dump" test_no_dump_by_default
test_case "coredump enabled: devcoredump of the remoteproc device with the memory" \
	test_dump_enabled
test_case "an ELF32 firmware gives an ELF32 dump" test_dump_elf32
test_case "recovery disabled: the dump is taken when recovery runs" test_dump_on_recover
sim_unload
test_summary
