#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# After a crash: coredumps saved and freed (enabled and inline, whose unread
# dump would stall the kernel's recovery), their limits, a crash the kernel
# recovers faster than the poll seen through its dump, and FallbackFirmware=
# after a refused image and after a crash right after boot.
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

DUMPS=/var/lib/rprocd/coredump

# wait_dumps N - N dump files of m4
wait_dumps() {
	local i n
	for ((i = 0; i < 80; i++)); do
		n=$(find "$DUMPS" -name 'm4-*.core' 2>/dev/null | wc -l)
		((n == $1)) && return 0
		sleep 0.1
	done
	_assert_fail "$n dumps of m4, expected $1: $(ls -l "$DUMPS" 2>&1)"
}

# check_dump FILE - an ELF core of the simulated memory holding fw64's data
check_dump() {
	local dump=$1 load dump_off fwdata off da filesz
	assert_match "$(readelf -hW "$dump")" "Type: +CORE" "dump type"
	load=$(readelf -lW "$dump" | awk '$1 == "LOAD"')
	read -r _ dump_off _ _ _ _ <<<"$load"
	fwdata=$(readelf -lW "$(fw_image fw64)" | awk '$1 == "LOAD" && $7 == "RW"')
	read -r _ off da _ filesz _ <<<"$fwdata"
	assert_success cmp -n $((filesz)) -i $((off)):$((dump_off + da)) "$(fw_image fw64)" "$dump"
	assert_contains "$(strings "$dump")" "RPROCD-TEST-FIRMWARE fw64" "firmware pattern in the dump"
}

m4_conf() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
$1"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	devcd_clear
}

test_coredump_enabled_kernel_recovery() {
	local f boot_id
	m4_conf "Coredump=enabled
OnCrash=kernel"
	rprocd_up
	assert_eq "$(rproc_attr 0 coredump)" enabled "coredump mode written"
	sim_crash 0
	wait_dumps 1
	f=$(find "$DUMPS" -name 'm4-*.core')
	boot_id=$(tr -d '-' </proc/sys/kernel/random/boot_id)
	assert_match "${f##*/}" "^m4-$boot_id-[0-9]+\.core$" "dump file name"
	check_dump "$f"
	wait_prop m4 LastCoredump "$f"
	# The kernel's copy was freed, and the crash was counted even if the poll missed it.
	assert_eq "$(devcd_for 0)" "" "devcoredump freed"
	wait_prop m4 CrashCount 1
	wait_state 0 running 5
	assert_contains "$(rprocd_log)" "id=3a815a55" "COREDUMP MESSAGE_ID"
	assert_contains "$(rprocctl status m4)" "Coredump: $f" "rprocctl status shows the dump"
}

test_coredump_inline_never_stalls() {
	m4_conf "Coredump=inline
OnCrash=kernel"
	rprocd_up
	sim_crash 0
	# An unread inline dump holds recovery for up to 5 minutes; rprocd reads it at once.
	wait_state 0 running 10
	wait_dumps 1
	assert_eq "$(sim_counter 0 start)" 2 "recovered"
	check_dump "$(find "$DUMPS" -name 'm4-*.core')"
}

test_coredump_restart_policy() {
	m4_conf "Coredump=inline
OnCrash=restart
RestartSec=100ms"
	rprocd_up
	sim_crash 0
	wait_prop m4 CrashCount 1
	wait_state 0 running 10
	wait_dumps 1
	sleep 0.5
	assert_eq "$(prop m4 CrashCount)" 1 "one crash, counted once (poll and dump)"
}

test_coredump_limits() {
	local i newest
	m4_conf "Coredump=enabled
OnCrash=kernel
CoredumpMaxFiles=2"
	rprocd_up
	for i in 1 2 3; do
		sim_crash 0
		wait_prop m4 CrashCount "$i"
		wait_state 0 running 5
		sleep 0.3
	done
	wait_dumps 2
	newest=$(ls -t "$DUMPS"/m4-*.core | head -n1)
	assert_eq "$(prop m4 LastCoredump)" "$newest" "the newest dump is kept"
	# A size limit below one dump: the old ones make room, the new one is
	# dropped while it is written (never fills the disk first), and says so.
	rprocd_kill
	printf '[Core]\nCoredumpMaxUse=1K\n' >/etc/rprocd/cores/m4.core.d.tmp
	mkdir -p /etc/rprocd/cores/m4.core.d
	mv /etc/rprocd/cores/m4.core.d.tmp /etc/rprocd/cores/m4.core.d/size.conf
	rprocd_up
	sim_crash 0
	for _ in $(seq 100); do
		[[ "$(prop m4 LastError)" == *CoredumpMaxUse* ]] && break
		sleep 0.2
	done
	assert_contains "$(prop m4 LastError)" "CoredumpMaxUse" "a dump over CoredumpMaxUse= is reported"
	assert_eq "$(find "$DUMPS" -name 'm4-*.core' | wc -l)" "0" "no dump over CoredumpMaxUse= is kept"
}

test_fallback_after_refused_image() {
	sim_load names=m4
	fw_install fw64-outside app.elf
	fw_install fw64 safe.elf
	core_conf m4 "[Core]
Firmware=app.elf
FallbackFirmware=safe.elf"
	rprocd_up
	assert_state 0 running
	assert_eq "$(prop m4 Firmware)" safe.elf "the fallback runs"
	assert_contains "$(prop m4 FallbackReason)" "app.elf" "reason names the image"
	assert_contains "$(prop m4 FallbackReason)" "EINVAL" "reason has the kernel's error"
	assert_contains "$(rprocd_log)" "id=2d05206b" "FALLBACK MESSAGE_ID"
	# Not tried again until asked: a restart boots the fallback again.
	assert_eq "$(dbus_error m4 Restart)" ok "Restart"
	assert_eq "$(prop m4 Firmware)" safe.elf "still the fallback"
	assert_eq "$(sim_counter 0 start)" 2 "two boots, both of the fallback"
}

test_fallback_after_invalid_image() {
	dmesg -C
	sim_load names=m4
	fw_install fw64 safe.elf
	head -c 150 "$(fw_image fw64)" >/lib/firmware/app.elf
	core_conf m4 "[Core]
Firmware=app.elf
FallbackFirmware=safe.elf"
	rprocd_up
	assert_eq "$(prop m4 Firmware)" safe.elf "the fallback runs"
	assert_contains "$(prop m4 FallbackReason)" "refused" "validation refused the image"
	assert_not_contains "$(dmesg)" "app.elf" "the kernel never saw the broken image"
}

test_fallback_after_early_crash() {
	sim_load names=m4
	fw_install fw64 app.elf
	fw_install fw32 safe.elf
	core_conf m4 "[Core]
Firmware=app.elf
FallbackFirmware=safe.elf
OnCrash=leave
SettleSec=30s"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	assert_eq "$(prop m4 Firmware)" app.elf "the configured image first"
	sim_crash 0
	wait_prop m4 Firmware safe.elf 10
	wait_state 0 running 5
	assert_contains "$(prop m4 FallbackReason)" "after boot" "reason"
	# SetFirmware is the operator asking again: the configured image may run.
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:app.elf)" ok "SetFirmwareAndRestart"
	assert_eq "$(prop m4 Firmware)" app.elf "configured image again"
	assert_eq "$(prop m4 FallbackReason)" "" "reason cleared"
}

for t in test_coredump_enabled_kernel_recovery test_coredump_inline_never_stalls \
	test_coredump_restart_policy test_coredump_limits test_fallback_after_refused_image \
	test_fallback_after_invalid_image test_fallback_after_early_crash; do
	daemon_reset
	test_case "$t" "$t"
done
daemon_reset
test_summary
