#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package (debian/, tools/build-deb) as an administrator uses it,
# under systemd as PID 1 (tests/vm/run --systemd): `dpkg -i` brings
# rprocd.service up with the cores configured in /etc/rprocd/cores,
# `dpkg -i` of the same package again (the upgrade path) restarts the daemon
# without rebooting a core, and `dpkg -P` (apt-get purge without a network)
# takes everything away. $RPROCD_DEB is the package (tests/vm/run-package
# builds it and sets it). The cases run in order: each starts from the state
# the one before left.
. "$(dirname "${BASH_SOURCE[0]}")/lib-systemd.sh"

CATALOG_BOOTED=0889c47d424f429aa7f40a91eda70567
STATE=/run/package-test
[[ -f "${RPROCD_DEB:-}" ]] || die "RPROCD_DEB is not set or missing (build it with tools/build-deb)"

# counters_are EXPECTED WHAT - "m4 START STOP dsp ATTACH DETACH"
# shellcheck disable=SC2154 # m4_*, dsp_* are set by sim_counters
counters_are() {
	sim_counters 0 m4_
	sim_counters 1 dsp_
	assert_eq "m4 $m4_start $m4_stop dsp $dsp_attach $dsp_detach" "$1" "${2:-counters}"
}

# timed WHAT CMD... - run CMD, log how long it took, return its status
timed() {
	local what=$1 t0 rc=0
	shift
	t0=$(date +%s%N)
	"$@" >"$STATE/$what.log" 2>&1 || rc=$?
	log "$what: $((($(date +%s%N) - t0) / 1000000)) ms, exit $rc"
	((rc == 0)) || sed 's/^/  | /' "$STATE/$what.log" >&2
	return $rc
}

catalog_entry() {
	journalctl --list-catalog "$CATALOG_BOOTED" 2>/dev/null
}

# Two cores configured before the package comes: m4 is booted from its
# firmware, dsp (running, started by "the bootloader") attached with
# BindLifetime=yes, so that it lives on systemd's fd store across restarts.
test_install() {
	local pid
	sim_load names=m4,dsp detached=0,1
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	core_conf dsp "[Core]
Start=attach
BindLifetime=yes"
	# Nothing of rprocd's before (so what follows is the package's doing).
	assert_eq "$(unit_prop LoadState)" not-found "rprocd.service before dpkg -i"
	assert_eq "$(catalog_entry)" "" "rprocd's catalog before dpkg -i"
	assert_not_exists /dev/remoteproc/by-name/m4

	timed "dpkg-i" dpkg -i "$RPROCD_DEB" || fail "dpkg -i failed"
	assert_eq "$(dpkg-query -W -f='${Status} ${Version}' rprocd)" \
		"install ok installed $(dpkg-deb -f "$RPROCD_DEB" Version)" "dpkg's record"
	assert_contains "$(dpkg-query -W -f='${Conffiles}' rprocd)" /etc/rprocd/rprocd.conf "conffiles"

	# The maintainer scripts enabled and started it (deb-systemd-helper, -invoke).
	assert_eq "$(systemctl is-enabled "$UNIT")" enabled "enabled by the package"
	assert_eq "$(systemctl is-active "$UNIT")" active "started by the package"
	assert_eq "$(readlink /etc/systemd/system/dbus-org.rprocd1.service)" \
		/lib/systemd/system/rprocd.service "the bus activation alias"
	pid=$(unit_prop MainPID)
	assert_eq "$(readlink "/proc/$pid/exe")" /usr/sbin/rprocd "the packaged binary runs"
	# It owns org.rprocd1: the bus policy was in force before it started.
	assert_eq "$(prop m4 State)" running "m4 on the bus"
	assert_eq "$(prop dsp State)" attached "dsp on the bus"
	assert_state 0 running
	assert_state 1 attached
	counters_are "m4 1 0 dsp 1 0" "m4 booted once, dsp attached once"
	assert_contains "$(/usr/bin/rprocctl list)" m4 "the packaged rprocctl"

	# systemd's trigger updated the catalog; udev named the cores present.
	assert_contains "$(catalog_entry)" "Remote processor" "catalog entry $CATALOG_BOOTED"
	assert_eq "$(readlink -f /dev/remoteproc/by-name/m4)" "/dev/$(sim_rproc 0)" \
		"/dev/remoteproc/by-name/m4 (udev re-triggered by postinst)"
	echo "$pid" >"$STATE/pid"
}

# dpkg -i of the same package again: prerm/postinst of an upgrade. The
# daemon is restarted (a new process runs the new files) and adopts the
# cores: m4 is not booted again, dsp comes back from the fd store; a local
# change to the conffile stays.
test_reinstall() {
	local old new out
	old=$(cat "$STATE/pid")
	echo "# a local change, kept across upgrades" >>/etc/rprocd/rprocd.conf
	journal_mark
	timed "dpkg-i-again" dpkg -i "$RPROCD_DEB" || fail "dpkg -i of the same package failed"
	assert_eq "$(dpkg-query -W -f='${Status}' rprocd)" "install ok installed" "dpkg's record"
	assert_eq "$(systemctl is-active "$UNIT")" active "active after the upgrade"
	new=$(unit_prop MainPID)
	assert_ne "$new" "$old" "restarted by the upgrade (a new process)"
	assert_state 0 running
	assert_state 1 attached
	counters_are "m4 1 0 dsp 1 0" "no core rebooted, stopped or re-attached by the upgrade"
	assert_eq "$(prop m4 Origin)" adopted "m4 adopted by the new daemon"
	out=$(journal_since -u "$UNIT")
	assert_contains "$out" "picked up from the fd store" "dsp's chardev kept in the fd store"
	assert_contains "$(cat /etc/rprocd/rprocd.conf)" "a local change" "the conffile keeps the local change"
	assert_eq "$(systemctl is-enabled "$UNIT")" enabled "still enabled"
}

# dpkg -P: the service stops (m4 is left running, OnExit=leave; dsp is
# released with its fd store, BindLifetime=yes: detached, still executing),
# the package's files, the state directory, the enablement links, the bus
# name and the catalog entry are gone. The administrator's own core files stay.
test_purge() {
	local f out
	mkdir -p /var/lib/rprocd/coredump
	timed "dpkg-P" dpkg -P rprocd || fail "dpkg -P failed"
	out=$(dpkg-query -W -f='${Status}' rprocd 2>&1) && [[ "$out" != *not-installed* ]] &&
		fail "dpkg still lists rprocd: $out"
	assert_eq "$(systemctl is-active "$UNIT")" inactive "stopped"
	assert_eq "$(unit_prop LoadState)" not-found "the unit is gone"
	wait_state 1 detached 10
	assert_state 0 running
	assert_eq "$(sim_hw_running 1)" 1 "the detached dsp still executes"
	counters_are "m4 1 0 dsp 1 1" "m4 left running, dsp detached once"
	for f in /usr/sbin/rprocd /usr/bin/rprocctl /lib/systemd/system/rprocd.service \
		/usr/share/dbus-1/system.d/org.rprocd1.conf \
		/usr/share/dbus-1/system-services/org.rprocd1.service \
		/usr/lib/systemd/catalog/rprocd.catalog /lib/udev/rules.d/60-rprocd.rules \
		/etc/rprocd/rprocd.conf /var/lib/rprocd \
		/etc/systemd/system/dbus-org.rprocd1.service \
		/etc/systemd/system/multi-user.target.wants/rprocd.service; do
		assert_not_exists "$f"
	done
	out=$(busctl status org.rprocd1 2>&1) && fail "org.rprocd1 still owned: $out"
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores 2>&1) &&
		fail "org.rprocd1 answered after the purge: $out"
	assert_eq "$(systemctl is-active "$UNIT")" inactive "not activated by the call"
	assert_eq "$(catalog_entry)" "" "the catalog entry after the purge"
	assert_exists /etc/rprocd/cores/m4.core
}

dpkg-query -W -f='${Status}' rprocd 2>/dev/null | grep -q installed &&
	die "the host has rprocd installed: this test needs it absent"
mkdir -p "$STATE"
# man-db's trigger would re-index every manual page of the host over 9p: more
# than two minutes per dpkg run under TCG, and not what this tests (in the
# guest's overlay only, like "man-db/auto-update false" in debconf).
rm -f /var/lib/man-db/auto-update
for t in test_install test_reinstall test_purge; do
	test_case "$t" "$t"
done
sim_unload
test_summary
