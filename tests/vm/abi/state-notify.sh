#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: does poll(2) on `state` wake up when the state changes?
# A waiter (rproc-probe watch-state: poll for POLLPRI|POLLERR, re-read from
# offset 0 on each wake) watches while the core is started, stopped,
# crashed, recovered, attached, detached, released through the chardev and
# removed.
# - 6.12-notify (Debian's 6.12 + docs/kernel/'s patches): every transition
#   wakes it (POLLPRI|ERR) and the re-read gives the new state; a request
#   that leaves the state as it was wakes nobody.
# - plain 6.1 and 6.12: the same transitions happen (the state is checked)
#   and no wake ever comes: the reason rprocd reads `state` periodically
#   there. A wake on these kernels fails the test.
# shellcheck source=tests/vm/lib.sh disable=SC2119,SC2120
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

case "${RPROCD_VM_KERNEL:-}" in
*-notify) notify=1 ;;
*) notify=0 ;;
esac
watch_pidfile=/run/state-notify.watch.pid

# watch_start CORE [--epoll] - a waiter on CORE's state in the background;
# its lines go to $watch_out, the wakes seen so far are counted in $watch_seen
watch_start() {
	local core i
	core=$(rproc_core "$1")
	shift
	watch_stop
	[[ -n "$RPROC_PROBE" && -x "$RPROC_PROBE" ]] ||
		die "rproc-probe not found (set RPROCD_BUILD_DIR or RPROC_PROBE)"
	watch_out=$(mktemp /tmp/state-notify.XXXXXX)
	watch_seen=0
	"$RPROC_PROBE" watch-state "$core" 0 "$@" >"$watch_out" 2>&1 &
	echo $! >"$watch_pidfile"
	for ((i = 0; i < 200; i++)); do
		if grep -q '^init ' "$watch_out"; then
			assert_eq "$(awk '$1 == "init" { print $2 }' "$watch_out")" \
				"$(rproc_state "$core")" "state read by the waiter at start"
			return 0
		fi
		kill -0 "$(cat "$watch_pidfile")" 2>/dev/null ||
			_assert_fail "rproc-probe watch-state $core $* ended: $(cat "$watch_out")"
		sleep 0.05
	done
	_assert_fail "rproc-probe watch-state $core $* did not start in 10 s"
}

# watch_stop - end the waiter, if any
watch_stop() {
	local pid
	pid=$(cat "$watch_pidfile" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
	# not a child when it was started by an earlier test case's subshell
	wait "$pid" 2>/dev/null || true
	rm -f "$watch_pidfile"
	return 0
}

# new_wakes - the states read after the wakes not checked yet, space separated
new_wakes() {
	awk -v skip="$watch_seen" '$1 == "wake" && ++n > skip { printf "%s%s", sep, $3; sep = " " }' \
		"$watch_out"
}

# expect_wakes ERE - what the wakes since the last check must read: on a
# notifying kernel the states, space separated, match ^ERE$ (waits up to
# 5 s for them, then 0.5 s for any extra one); elsewhere, none may come
# within 0.5 s ("" expects none everywhere).
expect_wakes() {
	local want=$1 got end=$((SECONDS + 5))
	if ((notify)); then
		while ((SECONDS < end)); do
			[[ "$(new_wakes)" =~ ^($want)$ ]] && break
			sleep 0.05
		done
	fi
	sleep 0.5
	got=$(new_wakes)
	if ((notify)); then
		assert_match "$got" "^($want)\$" "states read after each wake"
		# every wake is POLLPRI|POLLERR (the documented ABI)
		assert_eq "$(awk '$1 == "wake" && $NF != "PRI|ERR"' "$watch_out")" "" \
			"wakes without POLLPRI|POLLERR"
	else
		assert_eq "$got" "" "wakes on a kernel without state notification"
	fi
	watch_seen=$(awk '$1 == "wake" { n++ } END { print n + 0 }' "$watch_out")
	log "wakes so far: $(new_wakes_all)"
}

new_wakes_all() {
	awk '$1 == "wake" { printf "%s%s", sep, $3; sep = " " }' "$watch_out"
}

# wait_counter N NAME VALUE - until instance N's counter NAME is VALUE (5 s):
# a crash is handled asynchronously, the state alone does not say it is over
wait_counter() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ "$(sim_counter "$1" "$2")" == "$3" ]] && return 0
		sleep 0.05
	done
	_assert_fail "counter $2 of instance $1 is $(sim_counter "$1" "$2"), not $3 after 5 s"
}

boot_core() {
	setup_core "$@"
	probe_ok request "$r" start
	assert_state "$r" running
}

test_kernel() {
	local release
	release=$(uname -r)
	if ((notify)); then
		assert_match "$release" '-notify$' "uname -r of the kernel with the patches"
	else
		assert_match "$release" '^[0-9]+\.[0-9]+\.[0-9]+$' "uname -r of a plain kernel"
	fi
}

test_start_stop() {
	setup_core
	watch_start "$r"
	probe_ok request "$r" start
	assert_state "$r" running
	expect_wakes running
	probe_ok request "$r" stop
	assert_state "$r" offline
	expect_wakes offline
	probe_ok request "$r" start --cdev
	assert_state "$r" running
	expect_wakes running
	probe_ok request "$r" stop --cdev
	assert_state "$r" offline
	expect_wakes offline
}

test_epoll() {
	setup_core
	watch_start "$r" --epoll
	probe_ok request "$r" start
	assert_state "$r" running
	expect_wakes running
	probe_ok request "$r" stop
	assert_state "$r" offline
	expect_wakes offline
}

test_no_change() {
	setup_core
	watch_start "$r"
	# a failed start leaves the core offline
	sim_fail 0 start 5
	probe_err EIO request "$r" start
	assert_state "$r" offline
	expect_wakes ""
	probe_ok request "$r" start
	expect_wakes running
	# a second start only takes another power reference
	probe_ok request "$r" start
	assert_state "$r" running
	expect_wakes ""
	# and the stop that drops it leaves the core running
	probe_ok request "$r" stop
	assert_state "$r" running
	expect_wakes ""
	probe_ok write "$r" recovery disabled
	probe_ok write "$r" coredump enabled
	expect_wakes ""
}

test_crash_recovery_disabled() {
	boot_core boot_ms=300
	probe_ok write "$r" recovery disabled
	watch_start "$r"
	sim_crash 0
	wait_state "$r" crashed 5
	expect_wakes crashed
	# recover: stop (offline), then a 300 ms boot (running)
	probe_ok write "$r" recovery recover
	assert_state "$r" running
	expect_wakes "offline running"
	# a crashed core stopped
	sim_crash 0 2
	wait_state "$r" crashed 5
	expect_wakes crashed
	probe_ok request "$r" stop
	assert_state "$r" offline
	expect_wakes offline
}

test_crash_recovery_enabled() {
	# The recovery's boot takes 300 ms: the crash and the stop (crashed,
	# offline, within microseconds: one wake or two) are seen before it.
	boot_core boot_ms=300
	watch_start "$r"
	sim_crash 0
	wait_counter 0 start 2
	assert_state "$r" running
	expect_wakes "((crashed|offline) )+running"
}

test_attach_detach() {
	sim_load names=m4 detached=1
	r=$(sim_rproc 0)
	watch_start "$r"
	assert_state "$r" detached
	probe_ok request "$r" start
	assert_state "$r" attached
	expect_wakes attached
	probe_ok request "$r" detach
	assert_state "$r" detached
	expect_wakes detached
	probe_ok request "$r" start --cdev
	assert_state "$r" attached
	expect_wakes attached
	# stopping an attached core shuts it down
	probe_ok request "$r" stop
	assert_state "$r" offline
	expect_wakes offline
}

test_attach_on_recovery() {
	# crashed, then detach + a 300 ms attach
	sim_load names=m4 detached=1 attach_on_recovery=1 attach_ms=300
	r=$(sim_rproc 0)
	probe_ok request "$r" start
	assert_state "$r" attached
	watch_start "$r"
	sim_crash 0
	wait_counter 0 attach 2
	assert_state "$r" attached
	expect_wakes "((crashed|detached) )+attached"
}

test_cdev_release() {
	setup_core
	watch_start "$r"
	cdev_hold "$r" --shutdown-on-release --start
	assert_state "$r" running
	expect_wakes running
	cdev_release
	assert_state "$r" offline
	expect_wakes offline
}

test_rmmod() {
	boot_core
	watch_start "$r"
	sim_unload
	assert_not_exists "/sys/class/remoteproc/$r"
	# rproc_del() stops the core before the device goes: that is notified
	expect_wakes offline
}

test_case "the kernel booted is $RPROCD_VM_KERNEL" test_kernel
test_case "start and stop (sysfs, chardev): one wake each" test_start_stop
test_case "epoll: start and stop wake an epoll waiter" test_epoll
test_case "no change, no wake: failed start, second start, refcounted stop, attributes" \
	test_no_change
test_case "crash with recovery disabled: crashed; recover: offline, running; stop" \
	test_crash_recovery_disabled
test_case "crash with recovery enabled: crashed/offline, then running" test_crash_recovery_enabled
test_case "attach, detach, attach, stop: one wake each" test_attach_detach
test_case "attach-on-recovery: crashed/detached, then attached" test_attach_on_recovery
test_case "chardev shutdown-on-release: running, then offline" test_cdev_release
test_case "rmmod of a running core: offline before the device goes" test_rmmod
watch_stop
sim_unload
test_summary
