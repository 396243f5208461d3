#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One rprocd under valgrind's memcheck through a whole scenario on the real
# kernel: start-up (boot, attach, unmanaged), every method and its errors,
# refused firmware, a crash with a coredump and a daemon-managed restart, a
# reload that changes a core, hotplug (the driver removed and loaded again),
# and SIGTERM. Memcheck's log must stay empty: no invalid access, no use of
# uninitialised memory, no definite or indirect leak at exit (checked after
# every step by tests/vm/lib.sh's sanitizer_check).
#
# Runs the daemon under valgrind itself when RPROCD_WRAPPER is not set.
: "${RPROCD_WRAPPER:=valgrind}"
export RPROCD_WRAPPER
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

command -v valgrind >/dev/null || die "valgrind is not installed"

step_startup() {
	sim_load names=m4,dsp,r5f detached=0,1,0
	fw_install fw64 m4.elf
	fw_install fw32 other.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=restart
RestartSec=0
Coredump=enabled
CoredumpDirectory=/var/lib/rprocd/coredump"
	core_conf dsp "[Core]
Start=attach
Stop=detach"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	assert_state 0 running
	assert_state 1 attached
	assert_state 2 offline
	assert_eq "$(prop m4 Origin)" booted "m4 booted"
	assert_eq "$(prop r5f Managed)" false "r5f unmanaged"
}

step_methods() {
	assert_eq "$(dbus_error m4 Stop)" ok Stop
	assert_eq "$(dbus_error m4 Stop)" ok "Stop again (nothing to do)"
	assert_eq "$(dbus_error m4 Start)" ok Start
	assert_eq "$(dbus_error m4 Restart)" ok Restart
	assert_eq "$(dbus_error dsp Stop)" ok "Stop=detach"
	assert_state 1 detached
	assert_eq "$(dbus_error dsp Attach)" ok Attach
	assert_eq "$(dbus_error m4 Detach)" org.rprocd1.Error.InvalidState "Detach of a booted core"
	assert_eq "$(dbus_error r5f Start)" org.rprocd1.Error.NotManaged "unmanaged"
	assert_eq "$(manager_error GetCore string:nope)" org.rprocd1.Error.NoSuchCore NoSuchCore
	head -c 300 "$(fw_image fw64)" >/lib/firmware/trunc.elf
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:trunc.elf)" \
		org.rprocd1.Error.InvalidFirmware "a truncated image"
	assert_eq "$(dbus_error m4 SetFirmware string:../x)" org.rprocd1.Error.InvalidFirmware ".."
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:other.elf)" ok "another image"
	assert_eq "$(prop m4 Firmware)" other.elf "running the other image"
	sim_fail 0 stop 5
	assert_eq "$(dbus_error m4 Stop)" org.rprocd1.Error.Kernel.EIO "a kernel error"
	rprocctl list >/dev/null
	rprocctl status m4 >/dev/null
	# exit 3: a core that is not running (r5f), as systemctl status does
	local rc=0
	rprocctl --json status m4 dsp r5f >/dev/null || rc=$?
	assert_eq "$rc" 3 "rprocctl status with an offline core"
}

step_crash_and_dump() {
	local n
	n=$(prop m4 CrashCount)
	sim_crash 0
	wait_prop m4 CrashCount $((n + 1)) 20
	wait_prop m4 State running 30
	for ((n = 0; n < 100; n++)); do
		[[ "$(prop m4 LastCoredump)" == /var/lib/rprocd/coredump/* ]] && break
		sleep 0.2
	done
	assert_match "$(prop m4 LastCoredump)" "^/var/lib/rprocd/coredump/" "the dump was kept"
}

step_reload() {
	core_conf dsp "[Core]
Start=attach
Stop=shutdown
Description=reloaded"
	busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager Reload >/dev/null
	wait_prop dsp Description reloaded 20
	assert_state 1 attached
}

step_hotplug() {
	sim_unload
	sleep 2
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" "u 0" \
		"all cores gone"
	sim_load names=m4,dsp detached=0,1
	wait_prop m4 State running 30
	wait_prop dsp State attached 30
}

step_exit() {
	local pid
	pid=$(cat /run/rprocd-test.pid)
	rprocd_kill TERM
	# memcheck has written its log by the time the process is gone
	assert_exists "$SANITIZER_DIR/valgrind.$pid" "valgrind's log"
}

daemon_reset
for t in step_startup step_methods step_crash_and_dump step_reload step_hotplug step_exit; do
	test_case "$t" "$t"
done
RPROCD_RESET_SIGNAL=TERM daemon_reset
test_summary
