#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocd.service as installed by `meson install`, under systemd as PID 1
# (tests/vm/run --systemd): Type=notify start-up, the sandbox, the journal
# and its catalog, and udevd running alongside.
. "$(dirname "${BASH_SOURCE[0]}")/lib-systemd.sh"

# systemctl start returns only once READY=1 came, which rprocd sends when
# every core's first-seen action is done: here a boot that takes 3 s.
test_notify_startup() {
	local t0 ms pid started active
	sim_load names=m4 boot_ms=3000
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	assert_eq "$(systemctl is-active "$UNIT")" inactive "before start"
	t0=$(date +%s%N)
	systemctl start "$UNIT"
	ms=$((($(date +%s%N) - t0) / 1000000))
	assert_eq "$(rproc_state 0)" running "state when systemctl start returned"
	assert_eq "$(systemctl is-active "$UNIT")" active "unit state"
	((ms >= 3000)) || fail "systemctl start returned after $ms ms, before the 3 s boot ended"
	started=$(unit_prop ExecMainStartTimestampMonotonic)
	active=$(unit_prop ActiveEnterTimestampMonotonic)
	(((active - started) / 1000 >= 3000)) ||
		fail "active $(((active - started) / 1000)) ms after the process started, expected >= 3000"
	assert_eq "$(sim_counter 0 start)" 1 "m4 booted once"
	assert_contains "$(unit_prop StatusText)" "1 running" "STATUS= shown by systemctl"
	pid=$(unit_prop MainPID)
	assert_eq "$(readlink "/proc/$pid/exe")" /usr/sbin/rprocd "the installed binary runs"
	assert_eq "$(unit_prop FragmentPath)" /lib/systemd/system/rprocd.service "the installed unit"
	log "systemctl start took $ms ms (boot_ms=3000)"
}

# The sandbox leaves what rprocd needs writable and little else: the
# chardev of a BindLifetime= core (a boot through /dev/remoteprocN), sysfs
# attributes, its StateDirectory=; /etc and /usr are read-only, and no other
# device opens from the unit's cgroup.
test_hardening() {
	local pid spare out score
	sim_load names=m4,spare
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
BindLifetime=yes"
	systemctl start "$UNIT"
	assert_state 0 running
	assert_eq "$(sim_counter 0 start)" 1 "m4 booted once"
	pid=$(unit_prop MainPID)
	out=$(ls -l "/proc/$pid/fd")
	assert_contains "$out" "/dev/$(sim_rproc 0)" "rprocd holds the chardev it booted m4 through"
	assert_eq "$(rproc_attr 0 coredump)" disabled "coredump"

	spare=$(sim_rproc 1)
	# The unit's mount namespace.
	assert_success nsenter -t "$pid" -m -- sh -c "echo m4.elf >/sys/class/remoteproc/$spare/firmware"
	assert_eq "$(rproc_attr 1 firmware)" m4.elf "a sysfs write from the unit's namespace"
	assert_success nsenter -t "$pid" -m -- touch /var/lib/rprocd/.probe
	out=$(nsenter -t "$pid" -m -- touch /etc/rprocd/probe 2>&1) &&
		fail "/etc is writable in the unit"
	assert_contains "$out" "Read-only file system" "/etc in the unit"
	out=$(nsenter -t "$pid" -m -- touch /usr/lib/probe 2>&1) &&
		fail "/usr is writable in the unit"
	assert_contains "$out" "Read-only file system" "/usr in the unit"
	out=$(nsenter -t "$pid" -m -- ls -A /tmp)
	assert_eq "$out" "" "PrivateTmp: an empty /tmp"
	# The unit's device policy (a BPF program on its cgroup).
	assert_success head -c0 /dev/kmsg
	assert_success in_unit_cgroup sh -c "exec 3</dev/$spare"
	# The kernel log: read (the event source), never written.
	assert_success in_unit_cgroup sh -c 'exec 3</dev/kmsg'
	out=$(in_unit_cgroup sh -c 'exec 3>/dev/kmsg' 2>&1) &&
		fail "/dev/kmsg opens for writing in the unit's cgroup"
	assert_contains "$out" "Operation not permitted" "/dev/kmsg for writing in the unit's cgroup"
	# Another device the unit has no business with.
	out=$(in_unit_cgroup sh -c 'exec 3</dev/ttyS0' 2>&1) &&
		fail "/dev/ttyS0 opens in the unit's cgroup"
	assert_contains "$out" "Operation not permitted" "/dev/ttyS0 in the unit's cgroup"
	# rprocd uses the kernel log, and says so.
	journalctl -b -u "$UNIT" --no-pager -o cat | grep -q "kernel events: the kernel log" ||
		fail "rprocd in the unit does not read the kernel log"
	assert_state 0 running

	out=$(systemd-analyze security --no-pager "$UNIT" 2>&1) || true
	# What costs exposure (lines ending in their weight), and the total.
	echo "$out" | grep -E '[0-9]\.[0-9] *$|Overall'
	score=$(echo "$out" | sed -nE 's/.*Overall exposure level for rprocd.service: ([0-9.]+).*/\1/p')
	assert_match "$score" '^[0-9]+\.[0-9]$' "systemd-analyze security score"
	log "systemd-analyze security rprocd: $score"
	echo "$score" >"$RPROCD_VM_SHARE/security-score"
	# docs/SYSTEMD.md records the score; it must not get worse unnoticed.
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
		fail "exposure $score is above 2.0 (docs/SYSTEMD.md)"
}

# Structured entries in the journal, found by unit and by MESSAGE_ID, with
# the catalog text that `journalctl -x` adds.
test_journal() {
	local out
	sim_load names=m4,dsp detached=0,1
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	core_conf dsp "[Core]
Start=attach"
	journal_mark
	systemctl start "$UNIT"
	out=$(journal_since -u "$UNIT" -o verbose)
	assert_contains "$out" "RPROC_CORE=m4" "journalctl -u rprocd"
	assert_contains "$out" "RPROC_CORE=dsp" "journalctl -u rprocd"
	out=$(journal_since -o verbose MESSAGE_ID=0889c47d424f429aa7f40a91eda70567)
	assert_contains "$out" "RPROC_CORE=m4" "booted entry"
	assert_contains "$out" "RPROC_FIRMWARE=m4.elf" "booted entry"
	assert_contains "$out" "RPROC_STATE=running" "booted entry"
	assert_contains "$out" "_SYSTEMD_UNIT=rprocd.service" "booted entry"
	assert_not_contains "$out" "RPROC_CORE=dsp" "booted entry"
	out=$(journal_since -o verbose MESSAGE_ID=6ddcbfec37984bc081c08e9687b6d5a6)
	assert_contains "$out" "RPROC_CORE=dsp" "attached entry"
	out=$(journal_since -x MESSAGE_ID=0889c47d424f429aa7f40a91eda70567)
	assert_contains "$out" "Subject: Remote processor m4 booted" "journalctl -x"
	assert_contains "$out" "rprocd loaded firmware m4.elf into remote processor m4" "journalctl -x"
	# Plain journalctl names the core on each of its lines, as systemd names
	# units ("m4: booted …"): every entry about a core (RPROC_CORE=) starts
	# its MESSAGE with the core's name, and the plain output shows it.
	sim_crash 0
	wait_until 10 "the crash is logged" sh -c "journalctl -b -u $UNIT -o cat --since=@$JOURNAL_SINCE | grep -q crashed"
	journal_since -u "$UNIT" -o json >/tmp/journal.json
	out=$(journal_since -u "$UNIT")
	python3 - /tmp/journal.json <<'PY' "$out"
import json, sys
plain = sys.argv[2]
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    core = e.get("RPROC_CORE")
    if not core or e.get("RPROC_SOURCE") == "firmware":
        continue
    msg = e["MESSAGE"]
    assert msg.startswith(core + ": "), ("MESSAGE without its core", core, msg)
    assert msg in plain, ("not in plain journalctl output", msg)
    n += 1
assert n >= 4, ("too few core entries", n)
PY
}

# udevd runs (and processes remoteproc's uevents) next to rprocd's own
# monitor: cores are found at start-up and on hotplug exactly as without it.
test_udev_hotplug() {
	local out
	assert_eq "$(systemctl is-active systemd-udevd.service)" active "udevd"
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	systemctl start "$UNIT"
	assert_state 0 running
	udevadm settle
	out=$(udevadm info "/sys/class/remoteproc/$(sim_rproc 0)")
	assert_contains "$out" "E: SUBSYSTEM=remoteproc" "udev's database has the core"
	out=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores)
	assert_contains "$out" '"m4"' "ListCores"
	sim_unload
	wait_until 10 "m4 leaves the bus" \
		sh -c '! busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager GetCore s m4 >/dev/null 2>&1'
	sim_load names=m4
	wait_state 0 running 10
	assert_eq "$(sim_counter 0 start)" 1 "the new instance was booted"
	assert_eq "$(prop m4 Origin)" booted "Origin after hotplug"
	assert_eq "$(unit_prop NRestarts)" 0 "no restart of rprocd"
}

rprocd_install
for t in test_notify_startup test_hardening test_journal test_udev_hotplug; do
	service_reset
	test_case "$t" "$t"
done
service_reset
test_summary
