#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocd's first-seen decisions on the real kernel: boot, attach, adopt, leave
# unconfigured cores alone, keep going past a broken configuration, boot in
# parallel, and adopt everything again after kill -9, rebooting nothing.
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

three_cores() {
	sim_load names=m4,dsp,r5f detached=0,1,0
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
FirmwareClass=64"
	core_conf dsp "[Core]
Start=attach"
}

test_boot_attach_unmanaged() {
	three_cores
	rprocd_up
	assert_state 0 running
	assert_state 1 attached
	assert_state 2 offline
	sim_counters 0 m4_
	assert_eq "$m4_load $m4_start $m4_attach" "1 1 0" "m4 loaded and started once"
	sim_counters 1 dsp_
	assert_eq "$dsp_load $dsp_start $dsp_attach" "0 0 1" "dsp attached, not rebooted"
	sim_counters 2 r5f_
	assert_eq "$r5f_prepare $r5f_load $r5f_start" "0 0 0" "unconfigured r5f untouched"

	assert_eq "$(prop m4 State)" running "m4 State"
	assert_eq "$(prop m4 Origin)" booted "m4 Origin"
	assert_eq "$(prop m4 Firmware)" m4.elf "m4 Firmware"
	assert_match "$(prop m4 FirmwareBuildId)" '^[0-9a-f]{40}$' "m4 FirmwareBuildId"
	assert_eq "$(prop m4 Managed)" true "m4 Managed"
	assert_eq "$(prop dsp Origin)" attached "dsp Origin"
	assert_eq "$(prop r5f Managed)" false "r5f Managed"
	assert_eq "$(prop r5f State)" offline "r5f State"
	assert_eq "$(prop r5f DevicePath)" "/sys/devices/platform/rproc_sim.2/remoteproc/$(sim_rproc 2)" \
		"r5f DevicePath"
	assert_contains "$(grep '^STATUS=' "$NOTIFY_LOG")" "3 cores: 2 running, 0 crashed, 1 offline" \
		"STATUS="
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" "u 3" NCores
}

test_kill9_then_adopt() {
	three_cores
	rprocd_up
	rprocd_kill KILL
	rprocd_up
	# Nothing was rebooted or re-attached: the counters did not move.
	sim_counters 0 m4_
	assert_eq "$m4_load $m4_start $m4_stop" "1 1 0" "m4 not rebooted"
	sim_counters 1 dsp_
	assert_eq "$dsp_start $dsp_attach $dsp_detach" "0 1 0" "dsp not re-attached"
	assert_eq "$(prop m4 Origin)" adopted "m4 Origin after restart"
	assert_eq "$(prop dsp Origin)" adopted "dsp Origin after restart"
	assert_state 0 running
	assert_state 1 attached
	assert_contains "$(rprocd_log)" "adopted" "journal line"
}

test_bad_config_isolated() {
	three_cores
	# Start= is strict: an invalid value leaves the core unmanaged (OnCrash= would be ignored).
	core_conf r5f "[Core]
Firmware=r5f.elf
Start=sometimes"
	rprocd_up
	assert_state 0 running
	assert_state 1 attached
	assert_state 2 offline
	assert_eq "$(prop r5f Managed)" false "r5f with a broken file is not managed"
	assert_contains "$(prop r5f LastError)" "/etc/rprocd/cores/r5f.core:3" "LastError names file:line"
	assert_contains "$(rprocd_log)" "/etc/rprocd/cores/r5f.core:3: invalid value \"sometimes\" for Start=" \
		"logged with file:line"
	assert_eq "$(dbus_error r5f Start)" org.rprocd1.Error.NotManaged "Start on the broken core"
	assert_eq "$(sim_counter 2 start)" 0 "r5f never started"
}

test_parallel_boot() {
	local dm first_up boots
	sim_load names=a,b boot_ms=500
	fw_install fw64 a.elf
	core_conf a "[Core]
Firmware=a.elf"
	core_conf b "[Core]
Firmware=a.elf"
	dmesg -C
	rprocd_up
	assert_state 0 running
	assert_state 1 running
	# Both boots began before either ended: the kernel writes ran concurrently.
	dm=$(dmesg)
	first_up=$(echo "$dm" | grep -n "is now up" | head -n1 | cut -d: -f1)
	boots=$(echo "$dm" | head -n "$first_up" | grep -c "Booting fw image a.elf")
	assert_eq "$boots" 2 "boots started before the first core was up"
	log "ready after $((($(date +%s%N) - RPROCD_UP_START_NS) / 1000000)) ms with two 500 ms boots"
}

test_requires_order_and_failure() {
	local dm
	sim_load names=app,base boot_ms=200
	fw_install fw64 fw.elf
	core_conf app "[Core]
Firmware=fw.elf
Requires=base"
	core_conf base "[Core]
Firmware=fw.elf"
	dmesg -C
	rprocd_up
	assert_state 0 running
	assert_state 1 running
	dm=$(dmesg | grep -E "Booting fw image|is now up")
	# base is up before app starts booting
	assert_match "$(echo "$dm" | head -n2 | tr '\n' ' ')" "remoteproc$(sim_rproc 1 | tr -dc 0-9).*is now up" \
		"base up first"
	rprocd_kill
	sim_unload

	sim_load names=app,base
	sim_fail 1 start 5
	rprocd_up
	assert_state 1 offline
	assert_state 0 offline
	assert_eq "$(sim_counter 0 start)" 0 "app not started when base failed"
	assert_contains "$(prop app LastError)" "required core base" "app says why"
	assert_contains "$(prop base LastError)" "start: Input/output error (EIO)" "base has the kernel's error"
}

test_masked_core_untouched() {
	sim_load names=m4
	fw_install fw64 m4.elf
	mkdir -p /usr/lib/rprocd/cores /etc/rprocd/cores
	printf '[Core]\nFirmware=m4.elf\n' >/usr/lib/rprocd/cores/m4.core
	ln -s /dev/null /etc/rprocd/cores/m4.core
	rprocd_up
	assert_state 0 offline
	assert_eq "$(prop m4 Managed)" false "masked core not managed"
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.NotManaged "Start on a masked core"
	rm -f /usr/lib/rprocd/cores/m4.core
}

for t in test_boot_attach_unmanaged test_kill9_then_adopt test_bad_config_isolated \
	test_parallel_boot test_requires_order_and_failure test_masked_core_untouched; do
	daemon_reset
	test_case "$t" "$t"
done
daemon_reset
test_summary
