#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocd over a core's life on the real kernel: hotplug (module removal and
# re-insertion), reload (SIGHUP and D-Bus), crashes under each OnCrash=
# policy with the start limit, the wedge a failed recovery leaves, and
# OnExit= at SIGTERM.
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

test_hotplug() {
	local out
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	rprocd_up
	assert_state 0 running
	sim_unload
	sleep 1
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores)
	assert_eq "$out" "a(sssbo) 0" "the core left the bus"
	assert_eq "$(manager_error GetCore string:m4)" org.rprocd1.Error.NoSuchCore "GetCore after removal"
	# Re-inserted: handled as at start-up (booted again).
	sim_load names=m4
	wait_state 0 running 10
	wait_prop m4 Origin booted
	assert_eq "$(sim_counter 0 start)" 1 "the new instance was booted"
}

test_reload() {
	local out
	sim_load names=m4,dsp
	fw_install fw64 m4.elf
	fw_install fw32 other.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	rprocd_up
	assert_eq "$(rproc_attr 0 coredump)" disabled "coredump before"
	assert_eq "$(prop dsp Managed)" false "dsp unmanaged before"
	mkdir -p /etc/rprocd/cores/m4.core.d
	printf '[Core]\nCoredump=enabled\nFirmware=other.elf\n' >/etc/rprocd/cores/m4.core.d/10-dump.conf
	core_conf dsp "[Core]
Firmware=m4.elf"
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager Reload)
	assert_contains "$out" "Firmware=other.elf takes effect when the core restarts" "Reload reply"
	wait_prop m4 Coredump enabled
	assert_eq "$(rproc_attr 0 coredump)" enabled "coredump applied to the kernel"
	assert_eq "$(sim_counter 0 start)" 1 "m4 not restarted by the reload"
	assert_eq "$(prop m4 ConfiguredFirmware)" other.elf "ConfiguredFirmware"
	# A newly configured core gets its first-seen policy.
	wait_state 1 running 10
	assert_eq "$(prop dsp Managed)" true "dsp managed after reload"
	# SIGHUP does the same.
	printf '[Core]\nCoredump=disabled\n' >/etc/rprocd/cores/m4.core.d/20-nodump.conf
	kill -HUP "$(cat /run/rprocd-test.pid)"
	wait_prop m4 Coredump disabled
	assert_contains "$(grep -c '^RELOADING=1' "$NOTIFY_LOG")" 2 "RELOADING=1 sent twice"
	# A reload that meets an error (rprocd.conf unreadable: a directory) ends
	# the reload too: READY=1 after every RELOADING=1, which carries
	# MONOTONIC_USEC=.
	mv /etc/rprocd/rprocd.conf /etc/rprocd/rprocd.conf.away 2>/dev/null || true
	mkdir /etc/rprocd/rprocd.conf
	kill -HUP "$(cat /run/rprocd-test.pid)"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c '^RELOADING=1' "$NOTIFY_LOG") == 3)) && (($(grep -c '^READY=1' "$NOTIFY_LOG") == 4)) && break
		sleep 0.1
	done
	rmdir /etc/rprocd/rprocd.conf
	assert_contains "$(rprocd_log)" "rprocd.conf: cannot be read" "the error is logged"
	python3 - "$NOTIFY_LOG" <<'PY'
import sys, time
lines = [l.rstrip("\n") for l in open(sys.argv[1])]
reloads = [i for i, l in enumerate(lines) if l == "RELOADING=1"]
assert len(reloads) == 3, lines
now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
for i in reloads:
    assert lines[i + 1].startswith("MONOTONIC_USEC="), lines[i:i + 3]
    usec = int(lines[i + 1].split("=", 1)[1])
    assert 0 < usec <= now, (usec, now)
    assert "READY=1" in lines[i + 1:], ("no READY=1 after the reload at", i, lines)
    nxt = [j for j in reloads if j > i]
    assert "READY=1" in lines[i + 1:nxt[0] if nxt else len(lines)], ("no READY=1 before the next reload", lines)
PY
}

test_crash_leave() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=leave"
	rprocd_up
	assert_eq "$(rproc_attr 0 recovery)" disabled "kernel recovery off for OnCrash=leave"
	sim_crash 0
	wait_prop m4 State crashed
	assert_eq "$(prop m4 CrashCount)" 1 CrashCount
	assert_ne "$(prop m4 LastCrashTimestamp)" 0 LastCrashTimestamp
	sleep 1
	assert_state 0 crashed
	assert_eq "$(sim_counter 0 start)" 1 "left crashed, not restarted"
	assert_eq "$(dbus_error m4 Recover)" ok "Recover"
	assert_state 0 running
	assert_eq "$(sim_counter 0 start)" 2 "recovered once"
}

test_crash_restart_and_start_limit() {
	local i
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=restart
RestartSec=100ms
StartLimitBurst=2
StartLimitIntervalSec=1min"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	assert_eq "$(rproc_attr 0 recovery)" disabled "kernel recovery off for OnCrash=restart"
	for i in 1 2; do
		sim_crash 0
		wait_prop m4 CrashCount "$i"
		wait_state 0 running 10
	done
	assert_eq "$(sim_counter 0 start)" 3 "two recoveries by rprocd"
	sim_crash 0
	wait_prop m4 StartLimitHit true
	sleep 1
	assert_state 0 crashed
	assert_eq "$(sim_counter 0 start)" 3 "no restart past the limit"
	assert_contains "$(rprocd_log)" "start limit hit" "journal entry"
	assert_contains "$(rprocd_log)" "id=2f710f74" "START_LIMIT_HIT MESSAGE_ID"
	assert_eq "$(dbus_error m4 Restart)" org.rprocd1.Error.StartLimitHit "Restart refused"
	# Start resets the count.
	assert_eq "$(dbus_error m4 Start)" ok "Start"
	assert_state 0 running
	assert_eq "$(prop m4 StartLimitHit)" false "StartLimitHit cleared"
	sim_crash 0
	wait_prop m4 CrashCount 4
	wait_state 0 running 10
}

test_crash_kernel_policy() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=kernel"
	rprocd_up
	assert_eq "$(rproc_attr 0 recovery)" enabled "kernel recovery on"
	sim_crash 0
	wait_state 0 running 10
	assert_eq "$(sim_counter 0 start)" 2 "the kernel recovered it"
	assert_eq "$(prop m4 State)" running "State"
}

test_wedge_reported_once() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=restart
RestartSec=100ms"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	rm -f /lib/firmware/m4.elf
	sim_crash 0
	wait_prop m4 Wedged true 10
	assert_state 0 offline
	assert_contains "$(prop m4 LastError)" "stayed offline" "wedge explained"
	assert_contains "$(rprocd_log)" "id=f81c4dd0" "WEDGED MESSAGE_ID"
	local starts
	starts=$(sim_counter 0 start)
	sleep 1
	assert_eq "$(sim_counter 0 start)" "$starts" "no retry loop"
	# The operator's Start tries once more (rprocd never does by itself) and
	# finds the wedge still there: the kernel starts nothing.
	fw_install fw64 m4.elf
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.Wedged "Start on a wedged core"
	assert_eq "$(sim_counter 0 start)" "$starts" "the kernel did not start it"
	assert_eq "$(prop m4 Wedged)" true "still wedged"
}

test_exit_policies() {
	sim_load names=m4,dsp,r5f detached=0,1,0
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnExit=stop"
	core_conf dsp "[Core]
OnExit=detach"
	core_conf r5f "[Core]
Firmware=m4.elf
OnExit=leave"
	rprocd_up
	assert_state 0 running
	assert_state 1 attached
	assert_state 2 running
	rprocd_kill TERM
	assert_state 0 offline
	assert_state 1 detached
	assert_eq "$(sim_hw_running 1)" 1 "detached core still executes"
	assert_state 2 running
	sim_counters 1
	assert_eq "$cnt_start $cnt_detach" "0 1" "dsp detached, never rebooted"
	assert_contains "$(grep '^STOPPING=1' "$NOTIFY_LOG")" "STOPPING=1" "STOPPING=1 sent"
}

for t in test_hotplug test_reload test_crash_leave test_crash_restart_and_start_limit \
	test_crash_kernel_policy test_wedge_reported_once test_exit_policies; do
	daemon_reset
	test_case "$t" "$t"
done
daemon_reset
test_summary
