# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# For the host tests that run rprocd or rprocctl: a private system bus, a fake sysfs.

# private_bus DIR - a dbus-daemon of type system that lets everyone through,
# listening on DIR/bus; exports DBUS_SYSTEM_BUS_ADDRESS, appends the daemon's
# pid to the array pids, and returns once the bus answers
private_bus() {
	local dir=$1
	cat >"$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
CONF
	dbus-daemon --config-file="$dir/bus.conf" --nofork --nopidfile &
	pids+=($!)
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$dir/bus
	# The socket exists from bind(), before listen(): wait until the bus answers.
	for _ in $(seq 200); do
		busctl --system list >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "private_bus: the bus at $dir/bus does not answer" >&2
	return 1
}

# fake_cores ROOT N - a fake sysfs under ROOT: remoteproc0..N-1, named coreI,
# offline, with the attributes rprocd reads and the class links as in sysfs
fake_cores() {
	local root=$1 i dev
	for ((i = 0; i < $2; i++)); do
		dev=$root/sys/devices/platform/sim.$i/remoteproc/remoteproc$i
		mkdir -p "$dev" "$root/sys/class/remoteproc"
		ln -s "../../devices/platform/sim.$i/remoteproc/remoteproc$i" \
			"$root/sys/class/remoteproc/remoteproc$i"
		echo "core$i" >"$dev/name"
		echo offline >"$dev/state"
		echo "rproc-core$i-fw" >"$dev/firmware"
		echo enabled >"$dev/recovery"
		echo disabled >"$dev/coredump"
	done
}
