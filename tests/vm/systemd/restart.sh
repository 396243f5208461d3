#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocd.service across reload, restart, stop, a watchdog timeout and D-Bus
# activation, under systemd as PID 1 (tests/vm/run --systemd). The cores'
# counters in rproc_sim prove what was (not) rebooted.
. "$(dirname "${BASH_SOURCE[0]}")/lib-systemd.sh"

two_cores() {
	sim_load names=m4,dsp detached=0,1
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf${1:+
$1}"
	core_conf dsp "[Core]
Start=attach${1:+
$1}"
}

# counters_are EXPECTED WHAT - "m4 START STOP dsp ATTACH DETACH"
# shellcheck disable=SC2154 # m4_*, dsp_* are set by sim_counters
counters_are() {
	sim_counters 0 m4_
	sim_counters 1 dsp_
	assert_eq "m4 $m4_start $m4_stop dsp $dsp_attach $dsp_detach" "$1" "${2:-counters}"
}

# `systemctl reload` (SIGHUP) applies a drop-in in /etc/rprocd/cores/NAME.core.d/
# without touching the core; the process stays the same.
test_reload_dropin() {
	local pid
	two_cores
	systemctl start "$UNIT"
	pid=$(unit_prop MainPID)
	assert_eq "$(rproc_attr 0 coredump)" disabled "coredump before the reload"
	mkdir -p /etc/rprocd/cores/m4.core.d
	printf '[Core]\nCoredump=enabled\n' >/etc/rprocd/cores/m4.core.d/50-dump.conf
	systemctl reload "$UNIT"
	wait_until 10 "Coredump=enabled in sysfs" \
		sh -c "[ \"\$(cat /sys/class/remoteproc/$(sim_rproc 0)/coredump)\" = enabled ]"
	assert_eq "$(prop m4 Coredump)" enabled "Coredump on the bus"
	assert_eq "$(rproc_attr 1 coredump)" disabled "dsp has no drop-in"
	assert_eq "$(unit_prop MainPID)" "$pid" "same process after reload"
	assert_eq "$(systemctl is-active "$UNIT")" active "active after reload"
	counters_are "m4 1 0 dsp 1 0" "nothing rebooted by the reload"
}

# `systemctl restart` adopts the cores: nothing stopped, booted or attached again.
test_restart_adopts() {
	local pid
	two_cores
	systemctl start "$UNIT"
	pid=$(unit_prop MainPID)
	counters_are "m4 1 0 dsp 1 0" "after start"
	systemctl restart "$UNIT"
	assert_ne "$(unit_prop MainPID)" "$pid" "a new process"
	assert_state 0 running
	assert_state 1 attached
	counters_are "m4 1 0 dsp 1 0" "nothing rebooted by the restart"
	assert_eq "$(prop m4 Origin)" adopted "m4 Origin"
	assert_eq "$(prop dsp Origin)" adopted "dsp Origin"
}

# BindLifetime=yes: the chardevs wait in systemd's fd store across a restart,
# and `systemctl stop` closes the store, which releases the cores.
test_fdstore() {
	local pid out
	two_cores BindLifetime=yes
	systemctl start "$UNIT"
	assert_state 0 running
	assert_state 1 attached
	pid=$(unit_prop MainPID)
	journal_mark
	systemctl restart "$UNIT"
	assert_ne "$(unit_prop MainPID)" "$pid" "a new process"
	assert_state 0 running
	assert_state 1 attached
	counters_are "m4 1 0 dsp 1 0" "kept across the restart"
	out=$(journal_since -u "$UNIT")
	assert_contains "$out" "picked up from the fd store" "the new process got the fds"
	systemctl stop "$UNIT"
	wait_state 0 offline 10
	wait_state 1 detached 10
	assert_eq "$(sim_hw_running 1)" 1 "the detached dsp still executes"
	counters_are "m4 1 1 dsp 1 1" "released by systemctl stop"
}

# A stalled event loop (the test hook RPROCD_TEST_STALL=1: SIGUSR2 blocks it)
# misses its watchdog pings: systemd aborts and restarts the service. The fd
# store keeps the BindLifetime= core running through that.
test_watchdog() {
	local pid n out
	two_cores BindLifetime=yes
	unit_dropin 50-watchdog "[Service]
Environment=RPROCD_TEST_STALL=1
WatchdogSec=5s"
	systemctl start "$UNIT"
	assert_eq "$(unit_prop WatchdogUSec)" 5s "WatchdogSec= from the drop-in"
	pid=$(unit_prop MainPID)
	n=$(unit_prop NRestarts)
	# Not stalled: the pings keep coming for longer than WatchdogSec=.
	sleep 6
	assert_eq "$(unit_prop MainPID)" "$pid" "no restart while the loop runs"
	journal_mark
	kill -USR2 "$pid"
	wait_until 30 "a restart after the watchdog timeout" \
		sh -c "[ \"\$(systemctl show -P NRestarts $UNIT)\" -gt $n ]"
	wait_until 20 "active again" sh -c "[ \"\$(systemctl is-active $UNIT)\" = active ]"
	assert_ne "$(unit_prop MainPID)" "$pid" "a new process"
	out=$(journal_since -u "$UNIT")
	assert_contains "$out" "stalling the event loop" "the test hook ran"
	assert_contains "$out" "Watchdog timeout" "systemd saw the missed pings"
	assert_state 0 running
	assert_state 1 attached
	counters_are "m4 1 0 dsp 1 0" "kept across the watchdog restart"
}

# A method call on org.rprocd1 starts the stopped service once it is enabled
# (the Alias=dbus-org.rprocd1.service the activation file names).
test_dbus_activation() {
	local out
	two_cores
	assert_eq "$(systemctl is-active "$UNIT")" inactive "stopped before the call"
	# Not enabled: the alias does not exist, activation fails.
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores 2>&1) &&
		fail "activated although not enabled: $out"
	assert_eq "$(systemctl is-active "$UNIT")" inactive "not started by the failed activation"
	systemctl enable "$UNIT"
	assert_eq "$(readlink /etc/systemd/system/dbus-org.rprocd1.service)" \
		/lib/systemd/system/rprocd.service "the alias"
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores)
	assert_contains "$out" '"m4"' "ListCores answered by the activated rprocd"
	assert_contains "$out" '"dsp"' "ListCores answered by the activated rprocd"
	assert_eq "$(systemctl is-active "$UNIT")" active "started by the call"
	assert_state 0 running
}

rprocd_install
for t in test_reload_dropin test_restart_adopts test_fdstore test_watchdog test_dbus_activation; do
	service_reset
	test_case "$t" "$t"
done
service_reset
test_summary
