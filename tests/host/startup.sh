#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The rprocd binary itself on the host: option handling, start-up on a
# private system bus (its own dbus-daemon), the real sysfs code on a fake
# sysfs tree (plain files under --root), SIGHUP, Reload, SIGTERM. What the
# in-process host tests leave out (main(), the system-bus start-up, signal
# handling, kernel-sysfs.c). Files written to a plain "state" file do not
# change it, so this proves the plumbing, not the kernel's answers (the VM
# suites do that).
set -euo pipefail
# shellcheck source=tests/host/lib-host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-host.sh"

RPROCD=${RPROCD:?path to the rprocd binary}
# A cross build runs the binary under qemu-user (docs/PORTING.md); the wrapper
# then owns the daemon's pid and passes signals on to it.
read -r -a wrap <<<"${RPROCD_EXE_WRAPPER:-}"
command -v dbus-daemon >/dev/null && command -v busctl >/dev/null || {
	echo "dbus-daemon or busctl missing: skipped"
	exit 77
}

tmp=$(mktemp -d /tmp/rprocd-startup-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/rprocd.log" ] && sed 's/^/  rprocd: /' "$tmp/rprocd.log" >&2
	exit 1
}

# Options.
"${wrap[@]}" "$RPROCD" --help | grep -q -- "--root" || fail "--help does not list --root"
"${wrap[@]}" "$RPROCD" --version | grep -q "^rprocd " || fail "--version"
rc=0; "${wrap[@]}" "$RPROCD" --root relative 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "--root with a relative path: exit $rc, expected 2"
rc=0; "${wrap[@]}" "$RPROCD" extra 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "an argument: exit $rc, expected 2"

# A fake sysfs tree: one configured core, one that is not.
root=$tmp/root
fake_cores "$root" 2
mkdir -p "$root/etc/rprocd/cores" "$root/lib/firmware"
printf 'opaque image' >"$root/lib/firmware/fw.bin"
printf '[Core]\nFirmware=fw.bin\nFirmwareFormat=opaque\n' >"$root/etc/rprocd/cores/core0.core"

# A private system bus.
private_bus "$tmp" || fail "no private bus"
bus() { busctl --system "$@"; }

"${wrap[@]}" "$RPROCD" --root="$root" --debug >"$tmp/rprocd.log" 2>&1 &
rprocd=$!
pids+=("$rprocd")
for _ in $(seq 200); do
	bus call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores >/dev/null 2>&1 && break
	kill -0 "$rprocd" 2>/dev/null || fail "rprocd exited at start-up"
	sleep 0.05
done
cores=$(bus call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores) ||
	fail "ListCores"
grep -q '"core0"' <<<"$cores" || fail "core0 not listed: $cores"
grep -q '"core1"' <<<"$cores" || fail "core1 not listed: $cores"

# core0 was booted the sysfs way: firmware, then start, written to its files.
dev0=$root/sys/devices/platform/sim.0/remoteproc/remoteproc0
for _ in $(seq 100); do grep -q start "$dev0/state" && break; sleep 0.05; done
grep -qx fw.bin "$dev0/firmware" || fail "firmware not written: $(cat "$dev0/firmware")"
grep -qx start "$dev0/state" || fail "start not written: $(cat "$dev0/state")"
# core1 is not configured: untouched.
grep -qx offline "$root/sys/devices/platform/sim.1/remoteproc/remoteproc1/state" ||
	fail "an unconfigured core was written to"

# Reload by signal and by method; the daemon keeps answering.
printf '[Core]\nFirmware=fw.bin\nFirmwareFormat=opaque\nStart=no\n' \
	>"$root/etc/rprocd/cores/core1.core"
kill -HUP "$rprocd"
for _ in $(seq 100); do grep -q "configuration reloaded" "$tmp/rprocd.log" && break; sleep 0.05; done
grep -q "configuration reloaded" "$tmp/rprocd.log" || fail "SIGHUP did not reload"
bus call org.rprocd1 /org/rprocd1 org.rprocd1.Manager Reload >/dev/null || fail "Reload"
managed=$(bus get-property org.rprocd1 /org/rprocd1/core/core1 org.rprocd1.Core Managed)
[ "$managed" = "b true" ] || fail "core1 not managed after reload: $managed"
bus call org.rprocd1 /org/rprocd1 org.freedesktop.DBus.ObjectManager GetManagedObjects \
	>/dev/null || fail "GetManagedObjects"

# SIGTERM: OnExit= (leave) and a clean exit.
kill -TERM "$rprocd"
rc=0; wait "$rprocd" || rc=$?
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "applying OnExit=" "$tmp/rprocd.log" || fail "SIGTERM not handled"
echo "startup: 1 passed, 0 failed"
