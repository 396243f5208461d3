#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# BindLifetime=: the core is started through /dev/remoteprocN with
# shutdown-on-release, so it stops (or detaches) when rprocd dies — but not
# across a deliberate restart, where the fd waits in the service manager's
# fd store. systemd is not PID 1 in this VM: fdstore.py stands in for it and
# speaks the same sd_notify protocol (FDSTORE=1, LISTEN_FDS).
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

CTL=/run/fdstore-test

bound_core() {
	sim_load names=m4,dsp detached=0,1
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
BindLifetime=yes"
	core_conf dsp "[Core]
Start=attach
BindLifetime=yes"
}

# store CMD - send a command to fdstore.py and wait for its answer
store() {
	local n i
	n=$(wc -l <"$CTL/reply" 2>/dev/null || echo 0)
	echo "$1" >"$CTL/cmd"
	for ((i = 0; i < 600; i++)); do
		if (($(wc -l <"$CTL/reply" 2>/dev/null || echo 0) > n)); then
			tail -n1 "$CTL/reply"
			return 0
		fi
		sleep 0.05
	done
	_assert_fail "fdstore.py did not answer $1"
}

store_up() {
	bus_up
	rm -rf "$CTL"
	mkdir -p "$CTL"
	: >"$CTL/reply"
	python3 "$(dirname "${BASH_SOURCE[0]}")/fdstore.py" "$CTL" "$RPROCD" &
	STORE_PID=$!
	for ((i = 0; i < 100; i++)); do
		[[ -p "$CTL/cmd" ]] && return 0
		sleep 0.05
	done
	_assert_fail "fdstore.py did not start"
}

test_killed_daemon_releases_cores() {
	bound_core
	rprocd_up
	assert_state 0 running
	assert_state 1 attached
	rprocd_kill KILL
	# The kernel acted on the release of the chardev: stop a booted core, detach an attached one.
	wait_state 0 offline 5
	wait_state 1 detached 5
	assert_eq "$(sim_hw_running 1)" 1 "the detached core still executes"
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop" "1 1" "m4 stopped once"
}

test_fd_store_keeps_cores_across_restart() {
	local out
	bound_core
	store_up
	assert_contains "$(store start)" "ok start" "start"
	assert_state 0 running
	assert_state 1 attached
	out=$(store restart)
	assert_eq "$out" "ok restart 2" "both chardevs kept in the store across the restart"
	assert_state 0 running
	assert_state 1 attached
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop" "1 0" "m4 not stopped or rebooted by the restart"
	sim_counters 1 d_
	assert_eq "$d_attach $d_detach" "1 0" "dsp not detached by the restart"
	assert_contains "$(cat "$CTL/daemon.log")" "picked up from the fd store" "fds picked up"
	# A crash of the daemon (SIGKILL) keeps the store too, as systemd's Restart= does.
	assert_contains "$(store kill)" "ok kill 2" "kill"
	assert_state 0 running
	assert_contains "$(store start)" "ok start" "start after kill"
	# Stopping the service closes the store: the cores are released.
	assert_contains "$(store stop)" "ok stop" "stop"
	wait_state 0 offline 5
	wait_state 1 detached 5
	store quit >/dev/null
}

test_stop_clears_binding() {
	bound_core
	rprocd_up
	assert_eq "$(dbus_error m4 Stop)" ok "Stop"
	assert_state 0 offline
	# Started again through sysfs by someone else: our closed fd must not stop it.
	echo start >"/sys/class/remoteproc/$(sim_rproc 0)/state"
	assert_state 0 running
	rprocd_kill KILL
	sleep 0.5
	assert_state 0 running
}

for t in test_killed_daemon_releases_cores test_fd_store_keeps_cores_across_restart \
	test_stop_clears_binding; do
	daemon_reset
	test_case "$t" "$t"
done
daemon_reset
test_summary
