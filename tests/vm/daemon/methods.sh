#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocd's D-Bus API on the real kernel, through independent clients (busctl,
# dbus-send, rprocctl): every method, every documented error, access control,
# firmware validation before the kernel sees an image, --json output.
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

setup_two() {
	sim_load names=m4,dsp detached=0,1
	fw_install fw64 m4.elf
	fw_install fw32 m4-32.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	core_conf dsp "[Core]
Start=attach
Stop=detach"
	rprocd_up
}

test_start_stop_restart() {
	setup_two
	assert_eq "$(sim_counter 0 start)" 1 "booted once"
	# Start on a running core writes nothing (the kernel would pin a reference).
	assert_eq "$(dbus_error m4 Start)" ok "Start on running"
	assert_eq "$(sim_counter 0 start)" 1 "no second start"
	assert_eq "$(dbus_error m4 Stop)" ok "Stop"
	assert_state 0 offline
	assert_eq "$(prop m4 State)" offline "State after Stop"
	assert_eq "$(dbus_error m4 Stop)" ok "Stop on offline is a no-op"
	assert_eq "$(dbus_error m4 Start)" ok "Start"
	assert_state 0 running
	assert_eq "$(sim_counter 0 start)" 2 "started again"
	assert_eq "$(dbus_error m4 Restart)" ok "Restart"
	sim_counters 0
	assert_eq "$cnt_stop $cnt_start" "2 3" "Restart = stop + start"
	assert_eq "$(prop m4 Origin)" booted "Origin"
}

test_attach_detach() {
	setup_two
	assert_state 1 attached
	assert_eq "$(dbus_error dsp Detach)" ok "Detach"
	assert_state 1 detached
	assert_eq "$(sim_hw_running 1)" 1 "detached core keeps running"
	assert_eq "$(dbus_error dsp Attach)" ok "Attach"
	assert_state 1 attached
	# Stop=detach: stopping the attached core detaches it.
	assert_eq "$(dbus_error dsp Stop)" ok "Stop with Stop=detach"
	assert_state 1 detached
	sim_counters 1
	assert_eq "$cnt_start $cnt_stop $cnt_attach $cnt_detach" "0 0 2 2" "never rebooted"
}

test_invalid_state_errors() {
	setup_two
	assert_eq "$(dbus_error m4 Detach)" org.rprocd1.Error.InvalidState "Detach of a booted core"
	assert_eq "$(dbus_error m4 Attach)" org.rprocd1.Error.InvalidState "Attach of a running core"
	assert_eq "$(dbus_error m4 Recover)" org.rprocd1.Error.InvalidState "Recover of a running core"
	assert_state 0 running
	assert_eq "$(sim_counter 0 start)" 1 "nothing written"
}

test_kernel_error() {
	local err
	setup_two
	assert_eq "$(dbus_error m4 Stop)" ok "Stop"
	sim_fail 0 start 22
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.Kernel.EINVAL "failing start"
	err=$(prop m4 LastError)
	assert_contains "$err" "start: Invalid argument (EINVAL)" "LastError carries the kernel's errno"
	assert_state 0 offline
	assert_eq "$(prop m4 State)" offline "reported state is the real one"
	# The next start works again.
	assert_eq "$(dbus_error m4 Start)" ok "Start after the failure"
	assert_state 0 running
	assert_eq "$(prop m4 LastError)" "" "LastError cleared by a successful start"
}

test_set_firmware() {
	local dumps
	setup_two
	assert_eq "$(dbus_error m4 SetFirmware string:../../etc/shadow)" \
		org.rprocd1.Error.InvalidFirmware "name with .."
	assert_eq "$(dbus_error m4 SetFirmware string:/lib/firmware/m4.elf)" \
		org.rprocd1.Error.InvalidFirmware "absolute name"
	assert_eq "$(dbus_error m4 SetFirmware string:missing.elf)" \
		org.rprocd1.Error.InvalidFirmware "missing file"
	# A malformed image never reaches the kernel's ELF loader.
	head -c 100 "$(fw_image fw64)" >/lib/firmware/trunc.elf
	assert_eq "$(dbus_error m4 SetFirmware string:trunc.elf)" \
		org.rprocd1.Error.InvalidFirmware "truncated image"
	assert_eq "$(dbus_error m4 SetFirmware string:m4-32.elf)" org.rprocd1.Error.InvalidState \
		"SetFirmware while running, without restart"
	assert_eq "$(prop m4 ConfiguredFirmware)" m4.elf "unchanged after refusals"
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:m4-32.elf)" ok "with restart"
	assert_state 0 running
	assert_eq "$(prop m4 Firmware)" m4-32.elf "the new image runs"
	assert_eq "$(prop m4 ConfiguredFirmware)" m4-32.elf "ConfiguredFirmware"
	assert_eq "$(sim_counter 0 load)" 2 "loaded twice"
	assert_not_contains "$(dmesg)" "trunc.elf" "the kernel never saw the truncated image"
}

test_kernel_refuses_image() {
	setup_two
	fw_install fw64-outside outside.elf
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:outside.elf)" \
		org.rprocd1.Error.Kernel.EINVAL "segment outside device memory"
	assert_state 0 offline
	assert_contains "$(prop m4 LastError)" "EINVAL" "kernel's error"
}

test_unmanaged_and_unknown() {
	sim_load names=m4,lonely
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	rprocd_up
	assert_eq "$(dbus_error lonely Start)" org.rprocd1.Error.NotManaged "unconfigured core"
	assert_eq "$(manager_error GetCore string:nosuch)" org.rprocd1.Error.NoSuchCore "GetCore"
	assert_failure rprocctl status nosuch
	local rc=0
	rprocctl status nosuch >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 4 "rprocctl exit code for no such core"
	# A wrong signature is the bus's error, and changes nothing.
	local out
	out=$(dbus-send --system --print-reply --dest=org.rprocd1 /org/rprocd1/core/m4 \
		org.rprocd1.Core.Start string:extra 2>&1) || true
	assert_contains "$out" "org.freedesktop.DBus.Error.InvalidArgs" "wrong signature"
	assert_eq "$(sim_counter 0 start)" 1 "nothing changed"
}

test_unprivileged_caller() {
	local out rc
	setup_two
	# Reading is open to everyone…
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups busctl get-property org.rprocd1 \
		/org/rprocd1/core/m4 org.rprocd1.Core State)
	assert_eq "$out" 's "running"' "unprivileged read"
	# …changing is not, and nothing changes: the shipped bus policy lets the
	# call through, rprocd refuses it.
	for call in "/org/rprocd1/core/m4 org.rprocd1.Core.Stop" \
		"/org/rprocd1 org.rprocd1.Manager.StopCore string:m4" \
		"/org/rprocd1 org.rprocd1.Manager.Reload"; do
		rc=0
		# shellcheck disable=SC2086
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system \
			--print-reply --dest=org.rprocd1 $call 2>&1) || rc=$?
		assert_ne "$rc" 0 "unprivileged $call"
		assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "AccessDenied for $call"
		assert_contains "$out" "needs root" "the daemon's message for $call"
	done
	assert_state 0 running
}

# AdminGroup= end to end with the shipped bus policy: a member may, a user
# outside the group may not (both unprivileged otherwise).
test_admin_group() {
	local rc out
	groupadd -g 4242 rprocadm 2>/dev/null || true
	mkdir -p /etc/rprocd
	printf '[Daemon]\nAdminGroup=rprocadm\n' >/etc/rprocd/rprocd.conf
	setup_two
	rc=0
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --print-reply \
		--dest=org.rprocd1 /org/rprocd1 org.rprocd1.Manager.StopCore string:m4 2>&1) || rc=$?
	assert_ne "$rc" 0 "a user outside AdminGroup= may not Stop"
	assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "AccessDenied outside the group"
	assert_contains "$out" "rprocadm" "the message names the group"
	assert_state 0 running
	# A member of the group in /etc/group whose process does not carry the
	# group: refused. rprocd trusts the connection's credentials, never a
	# lookup of the user's groups at call time.
	id rprocuser >/dev/null 2>&1 || useradd -M -N -u 4243 -G rprocadm rprocuser ||
		_assert_fail "cannot add the user rprocuser"
	assert_contains "$(id -nG rprocuser)" "rprocadm" "rprocuser is in the group in /etc/group"
	rc=0
	out=$(setpriv --reuid=4243 --regid=65534 --clear-groups dbus-send --system --print-reply \
		--dest=org.rprocd1 /org/rprocd1 org.rprocd1.Manager.StopCore string:m4 2>&1) || rc=$?
	assert_ne "$rc" 0 "a group member in /etc/group only may not Stop"
	assert_contains "$out" "org.freedesktop.DBus.Error.AccessDenied" "AccessDenied without the group in the process"
	assert_state 0 running
	rc=0
	out=$(setpriv --reuid=65534 --regid=65534 --groups=4242 dbus-send --system --print-reply \
		--dest=org.rprocd1 /org/rprocd1 org.rprocd1.Manager.StopCore string:m4 2>&1) || rc=$?
	assert_eq "$rc" 0 "a member of AdminGroup= may Stop: $out"
	assert_state 0 offline
	rc=0
	out=$(setpriv --reuid=65534 --regid=65534 --groups=4242 dbus-send --system --print-reply \
		--dest=org.rprocd1 /org/rprocd1/core/m4 org.rprocd1.Core.Start 2>&1) || rc=$?
	assert_eq "$rc" 0 "a member of AdminGroup= may Start: $out"
	assert_state 0 running
}

# The Manager's by-name methods: the same jobs as the Core's methods.
test_by_name_methods() {
	local start
	setup_two
	start=$(sim_counter 0 start)
	assert_eq "$(manager_error StopCore string:m4)" ok "StopCore"
	assert_state 0 offline
	assert_eq "$(manager_error StartCore string:m4)" ok "StartCore"
	assert_state 0 running
	assert_eq "$(manager_error RestartCore string:m4)" ok "RestartCore"
	assert_eq "$(sim_counter 0 start)" $((start + 2)) "two more starts"
	assert_eq "$(manager_error StartCore string:nosuch)" org.rprocd1.Error.NoSuchCore "unknown core"
	assert_eq "$(manager_error DetachCore string:m4)" org.rprocd1.Error.InvalidState \
		"Detach of a booted core"
	assert_eq "$(manager_error SetCoreFirmware string:m4 string:../x)" \
		org.rprocd1.Error.InvalidFirmware "a bad name"
	assert_eq "$(manager_error SetCoreFirmwareAndRestart string:m4 string:m4-32.elf)" ok \
		"SetCoreFirmwareAndRestart"
	assert_eq "$(prop m4 Firmware)" m4-32.elf "the new image runs"
	sim_fail 0 stop 16
	assert_eq "$(manager_error StopCore string:m4)" org.rprocd1.Error.Kernel.EBUSY \
		"the kernel's errno by name"
	assert_state 0 running
	assert_eq "$(manager_error RecoverCore string:m4)" org.rprocd1.Error.InvalidState \
		"Recover of a running core"
}

# NCores, EventSources and PollIntervalUSec announce their changes.
test_manager_properties_changed() {
	local mon mpid
	setup_two
	mon=/tmp/manager-monitor.txt
	busctl --system monitor --match "type='signal',sender='org.rprocd1',path='/org/rprocd1',interface='org.freedesktop.DBus.Properties'" >"$mon" 2>&1 &
	mpid=$!
	sleep 1
	sim_unload
	for ((i = 0; i < 100; i++)); do
		grep -q "NCores" "$mon" && break
		sleep 0.1
	done
	kill "$mpid" 2>/dev/null || true
	wait "$mpid" 2>/dev/null || true
	assert_contains "$(cat "$mon")" "NCores" "NCores changed when the cores went"
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" "u 0" "NCores"
}

test_rprocctl_json_and_text() {
	setup_two
	rprocctl --json list >/tmp/list.json
	python3 - /tmp/list.json <<'PY'
import json, sys
cores = {c["Name"]: c for c in json.load(open(sys.argv[1]))}
assert cores["m4"]["State"] == "running", cores
assert cores["m4"]["Managed"] is True, cores
assert cores["dsp"]["State"] == "attached", cores
assert cores["m4"]["ObjectPath"] == "/org/rprocd1/core/m4", cores
PY
	rprocctl --json status m4 >/tmp/status.json
	python3 - /tmp/status.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))[0]
assert s["State"] == "running", s
assert s["Origin"] == "booted", s
assert s["Firmware"] == "m4.elf", s
assert s["CrashCount"] == 0, s
assert s["ConfigFiles"] == ["/etc/rprocd/cores/m4.core"], s
assert len(s["FirmwareBuildId"]) == 40, s
PY
	local out
	out=$(rprocctl status m4)
	assert_contains "$out" "State: running (booted)" "status text"
	assert_contains "$out" "Config: /etc/rprocd/cores/m4.core" "status config files"
	assert_success rprocctl stop m4
	assert_state 0 offline
	local rc=0
	rprocctl status m4 >/dev/null || rc=$?
	assert_eq "$rc" 3 "status exit code of an offline core"
	assert_success rprocctl start m4
	assert_state 0 running
	out=$(rprocctl list)
	assert_contains "$out" "2 cores listed." "list text"
}

test_introspection_and_object_manager() {
	local out
	setup_two
	out=$(busctl introspect org.rprocd1 /org/rprocd1/core/m4)
	assert_contains "$out" ".SetFirmwareAndRestart" "Core methods"
	assert_contains "$out" ".LastCrashTimestamp" "Core properties"
	assert_contains "$out" "emits-change" "PropertiesChanged flags"
	out=$(busctl call org.rprocd1 /org/rprocd1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
	assert_contains "$out" "/org/rprocd1/core/m4" "ObjectManager lists m4"
	assert_contains "$out" "/org/rprocd1/core/dsp" "ObjectManager lists dsp"
	# The installed interface files match what the daemon says about itself:
	# methods with their arguments, properties with their types and change
	# annotations (none = "true", as the D-Bus specification says).
	busctl introspect --xml-interface org.rprocd1 /org/rprocd1/core/m4 >/tmp/live-core.xml
	busctl introspect --xml-interface org.rprocd1 /org/rprocd1 >/tmp/live-manager.xml
	python3 - <<PY
import sys, xml.etree.ElementTree as ET
def members(path, iface):
    root = ET.parse(path).getroot()
    for i in root.iter("interface"):
        if i.get("name") == iface:
            out = []
            for c in i:
                if c.tag == "method":
                    out.append(("method", c.get("name"), tuple((a.get("type"), a.get("direction") or "in") for a in c.iter("arg"))))
                elif c.tag == "property":
                    emits = "true"
                    for a in c.iter("annotation"):
                        if a.get("name") == "org.freedesktop.DBus.Property.EmitsChangedSignal":
                            emits = a.get("value")
                    out.append(("property", c.get("name"), (c.get("type"), c.get("access"), emits)))
                elif c.tag == "signal":
                    out.append(("signal", c.get("name"), tuple(a.get("type") for a in c.iter("arg"))))
            return sorted(out)
    sys.exit("no interface %s in %s" % (iface, path))
for live, shipped, iface in (("/tmp/live-core.xml", "$RPROCD_SOURCE_DIR/systemd/org.rprocd1.Core.xml", "org.rprocd1.Core"),
                             ("/tmp/live-manager.xml", "$RPROCD_SOURCE_DIR/systemd/org.rprocd1.Manager.xml", "org.rprocd1.Manager")):
    l, s = members(live, iface), members(shipped, iface)
    assert l == s, (iface, set(l) ^ set(s))
PY
}

test_properties_changed_signal() {
	local mon
	setup_two
	mon=/tmp/monitor.txt
	rprocctl monitor >"$mon" 2>/dev/null &
	local mpid=$!
	sleep 1
	assert_success rprocctl stop m4
	sleep 0.5
	kill "$mpid"
	assert_contains "$(cat "$mon")" "m4:" "a change of m4 was seen"
	assert_contains "$(cat "$mon")" "State=offline" "the State change was signalled"
}

test_shutdown_waits_and_refuses() {
	local pid i
	sim_load names=m4 boot_ms=4000
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
Start=no
OnExit=leave"
	rprocd_up
	dmesg -C
	# The caller stays connected: rprocd checks who it is when the call is
	# dispatched, and a caller that has left by then is refused.
	busctl call --timeout=60 org.rprocd1 /org/rprocd1/core/m4 org.rprocd1.Core Start \
		>/run/start.out 2>&1 &
	local caller=$!
	# Waiting for events, not sleeping: the daemon may run under valgrind.
	for ((i = 0; i < 400; i++)); do
		dmesg | grep -q "Booting fw image m4.elf" && break
		sleep 0.05
	done
	pid=$(cat /run/rprocd-test.pid)
	kill -TERM "$pid"
	wait_notify STOPPING=1 30
	assert_eq "$(dbus_error m4 Stop)" org.rprocd1.Error.ShuttingDown "a call during shutdown"
	# The boot in flight is not cut short: rprocd exits after the kernel answered.
	assert_success alive "$pid"
	wait "$caller" || _assert_fail "the Start in flight failed: $(cat /run/start.out)"
	rprocd_kill TERM
	assert_state 0 running
	assert_contains "$(rprocd_log)" "booted m4.elf" "the boot finished and was reported"
}

run_cases test_shutdown_waits_and_refuses test_start_stop_restart test_attach_detach \
	test_invalid_state_errors test_kernel_error test_set_firmware test_kernel_refuses_image \
	test_unmanaged_and_unknown test_unprivileged_caller test_admin_group test_by_name_methods \
	test_manager_properties_changed test_rprocctl_json_and_text \
	test_introspection_and_object_manager test_properties_changed_signal
