#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel faults through rproc_sim, on the real remoteproc core: start, attach,
# stop and detach failing, a crash while a boot is being answered, the driver
# removed during a boot and during a D-Bus call (with and without the chardev
# held). Every time the core is reported in its real state with the kernel's
# error, every caller gets exactly one reply, nothing is retried forever, and
# the daemon goes on. (The firmware file deleted before a recovery is
# tests/vm/daemon/lifecycle.sh's wedge test.)
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

# one_core [SIM_PARAMS...] - core "m4" with fw.elf and Start=boot (not started yet)
one_core() {
	sim_load names=m4 "$@"
	fw_install fw64 fw.elf
	core_conf m4 "[Core]
Firmware=fw.elf
Start=boot"
}

# same_state CORE N - the daemon reports the kernel's state of instance N
same_state() {
	assert_eq "$(prop "$1" State)" "$(rproc_state "$2")" "$1: State is the kernel's"
}

# call_bg OUT CORE METHOD - a D-Bus call in the background; its reply goes to OUT
call_bg() {
	local path
	path=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager GetCore s "$2" | cut -d'"' -f2)
	dbus-send --system --print-reply --reply-timeout=60000 --dest=org.rprocd1 "$path" \
		"org.rprocd1.Core.$3" >"$1" 2>&1 &
	CALL_PID=$!
}

# wait_call - the background call ended; its exit status
wait_call() {
	local rc=0
	wait "$CALL_PID" || rc=$?
	return $rc
}

# wait_dmesg TEXT [TIMEOUT_S] - the kernel logged TEXT
wait_dmesg() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		dmesg | grep -q "$1" && return 0
		sleep 0.05
	done
	_assert_fail "the kernel did not log '$1' within ${2:-10} s"
}

# replies FILE - how many method returns or errors dbus-send printed
replies() {
	grep -cE '^(method return|Error )' "$1" || true
}

test_start_fails() {
	local loads
	one_core
	sim_fail 0 start 5
	rprocd_up
	assert_state 0 offline
	same_state m4 0
	assert_contains "$(prop m4 LastError)" "start: Input/output error (EIO)" "the kernel's error"
	assert_contains "$(rprocctl status m4)" "Last error: start: Input/output error (EIO)" \
		"rprocctl status"
	assert_contains "$(rprocd_log)" "Input/output error" "logged"
	# Not retried: Start=boot is one attempt, a failed one stays failed.
	loads=$(sim_counter 0 load)
	sleep 2
	assert_eq "$(sim_counter 0 load)" "$loads" "no retry after the failed start"
	assert_eq "$(prop m4 Busy)" false "not busy"
	# The user retries; the kernel now lets it.
	assert_eq "$(dbus_error m4 Start)" ok "Start after the fault is gone"
	assert_state 0 running
	same_state m4 0
	assert_eq "$(prop m4 LastError)" "" "LastError cleared by the success"
}

test_attach_fails() {
	sim_load names=dsp detached=1
	core_conf dsp "[Core]
Start=attach"
	sim_fail 0 attach 16
	rprocd_up
	assert_state 0 detached
	same_state dsp 0
	assert_contains "$(prop dsp LastError)" "(EBUSY)" "the kernel's error"
	assert_eq "$(sim_counter 0 attach)" 0 "no attach went through"
	sleep 1
	assert_eq "$(sim_counter 0 attach)" 0 "not retried"
	assert_eq "$(dbus_error dsp Attach)" ok "Attach once the fault is gone"
	assert_state 0 attached
	assert_eq "$(sim_counter 0 start)" 0 "attached, never booted"
}

test_stop_fails() {
	local out
	one_core
	rprocd_up
	assert_state 0 running
	sim_fail 0 stop 5
	out=$(busctl call org.rprocd1 "$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager \
		GetCore s m4 | cut -d'"' -f2)" org.rprocd1.Core Stop 2>&1) && _assert_fail "Stop succeeded"
	assert_contains "$out" "Input/output error (EIO)" "the caller gets the kernel's error"
	assert_eq "$(dbus_error m4 Stop)" ok "the second Stop works" # the fault was used up
	assert_state 0 offline
	same_state m4 0
	sim_fail 0 stop 22
	assert_eq "$(dbus_error m4 Start)" ok "Start"
	assert_eq "$(dbus_error m4 Stop)" org.rprocd1.Error.Kernel.EINVAL "Stop failing again"
	# The kernel keeps the core running when its stop fails; so do we.
	assert_state 0 running
	same_state m4 0
	assert_contains "$(prop m4 LastError)" "stop: Invalid argument (EINVAL)" "LastError"
	assert_eq "$(sim_counter 0 stop)" 1 "one stop went through"
}

test_detach_fails() {
	sim_load names=dsp detached=1
	core_conf dsp "[Core]
Start=attach"
	rprocd_up
	assert_state 0 attached
	sim_fail 0 detach 110
	assert_eq "$(dbus_error dsp Detach)" org.rprocd1.Error.Kernel.ETIMEDOUT "Detach failing"
	assert_state 0 attached
	same_state dsp 0
	assert_contains "$(prop dsp LastError)" "(ETIMEDOUT)" "the kernel's error"
	assert_eq "$(dbus_error dsp Detach)" ok "Detach once the fault is gone"
	assert_state 0 detached
	same_state dsp 0
	assert_eq "$(sim_hw_running 0)" 1 "the core itself kept running"
}

# The core crashes the moment the kernel calls it running, before the boot's
# caller has its answer: one reply, the crash seen and recovered.
test_crash_during_boot() {
	one_core boot_ms=1500
	core_conf m4 "[Core]
Firmware=fw.elf
Start=no
OnCrash=restart
RestartSec=0"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	call_bg /run/call.out m4 Start
	wait_state 0 running 20
	sim_crash 0
	wait_call || true
	assert_eq "$(replies /run/call.out)" 1 "the Start caller got one reply"
	wait_prop m4 CrashCount 1 10
	wait_prop m4 State running 15
	same_state m4 0
	sim_counters 0
	assert_eq "$cnt_start" 2 "booted, crashed, booted once more"
	sleep 1
	assert_eq "$(sim_counter 0 start)" 2 "and no more"
}

# OnCrash=kernel: the kernel's recovery reads "offline" for its whole firmware
# load and start, and announces nothing. The daemon must still see the core
# come back, not report it offline for good.
test_kernel_recovery_seen() {
	one_core boot_ms=1500
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	assert_eq "$(prop m4 State)" running "booted"
	sim_crash 0
	wait_state 0 offline 5
	wait_prop m4 State offline 5
	wait_state 0 running 10
	wait_prop m4 State running 5
	same_state m4 0
	assert_contains "$(rprocd_log)" "came up without rprocd" "the return is logged"
	assert_eq "$(sim_counter 0 start)" 2 "booted by rprocd, then by the kernel's recovery"
}

# The core crashed while rprocd was down, after it had turned the kernel's
# recovery off (OnCrash=restart): the next rprocd restarts it.
test_found_crashed_restarted() {
	one_core
	core_conf m4 "[Core]
Firmware=fw.elf
OnCrash=restart
RestartSec=3s"
	rprocd_up
	assert_eq "$(rproc_attr 0 recovery)" disabled "rprocd owns the recovery"
	sim_crash 0
	wait_state 0 crashed 5
	rprocd_kill KILL # inside RestartSec=
	rprocd_up
	wait_state 0 running 15
	wait_prop m4 State running 5
	assert_eq "$(prop m4 CrashCount)" 1 "the crash found is counted"
	assert_contains "$(rprocd_log)" "found crashed; restarting it" "and logged"
	assert_eq "$(sim_counter 0 start)" 2 "booted, then restarted once"
}

# rprocd starts while the kernel recovers a core (it reads "offline" with the
# lock held for the whole reload): it must wait and adopt, not pin a second
# power reference with a "start" of its own.
test_started_during_kernel_recovery() {
	one_core boot_ms=3000
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	rprocd_up
	rprocd_kill KILL
	sim_crash 0
	wait_state 0 offline 5 # the kernel's recovery: stopped, reloading
	rprocd_up
	wait_prop m4 State running 15
	assert_eq "$(prop m4 Origin)" adopted "found up once the recovery ended"
	assert_eq "$(sim_counter 0 start)" 2 "the kernel's boot and its recovery, nothing more"
	assert_contains "$(rprocd_log)" "came up while rprocd waited" "logged"
	# One power reference: a Stop really stops the core.
	assert_eq "$(dbus_error m4 Stop)" ok Stop
	assert_state 0 offline
	same_state m4 0
}

# rmmod while the daemon's start-up boot blocks in the kernel: the removal
# waits for the boot, stops the core and deletes it; the daemon drops it.
test_rmmod_during_startup_boot() {
	local pid
	one_core boot_ms=3000
	dmesg -C
	bus_up
	_notify_ensure /run/rprocd-test-notify.sock
	: >"$NOTIFY_LOG"
	NOTIFY_SOCKET=/run/rprocd-test-notify.sock RPROCD_LOG_TARGET=console \
		"$RPROCD" >>/run/rprocd-test.log 2>&1 &
	pid=$!
	echo $pid >/run/rprocd-test.pid
	disown
	wait_dmesg "Booting fw image fw.elf" 10
	rmmod rproc_sim || _assert_fail "rmmod failed"
	wait_notify READY=1 20
	alive "$pid" || _assert_fail "rprocd died"
	sleep 1
	assert_eq "$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores)" \
		"a(sssbo) 0" "the removed core left the bus"
	assert_eq "$(manager_error GetCore string:m4)" org.rprocd1.Error.NoSuchCore "GetCore"
	# Back again: handled as at start-up, booted once.
	sim_load names=m4
	wait_state 0 running 10
	wait_prop m4 State running
	assert_eq "$(sim_counter 0 start)" 1 "the new instance booted once"
}

# rmmod while a D-Bus Start blocks in the kernel: the caller gets one reply,
# the object goes away, the daemon answers the next caller.
test_rmmod_during_call() {
	one_core boot_ms=3000
	core_conf m4 "[Core]
Firmware=fw.elf
Start=no"
	rprocd_up
	dmesg -C
	call_bg /run/call.out m4 Start
	wait_dmesg "Booting fw image fw.elf" 10
	rmmod rproc_sim || _assert_fail "rmmod failed"
	wait_call || true
	assert_eq "$(replies /run/call.out)" 1 "the caller got one reply: $(cat /run/call.out)"
	sleep 1
	assert_eq "$(manager_error GetCore string:m4)" org.rprocd1.Error.NoSuchCore "GetCore"
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" "u 0" \
		NCores
}

# The same with the chardev held (BindLifetime=yes): the daemon lets it go,
# so the module can be removed and no descriptor is left behind.
test_rmmod_with_chardev_held() {
	local pid fds
	one_core boot_ms=1000
	core_conf m4 "[Core]
Firmware=fw.elf
Start=no
BindLifetime=yes"
	rprocd_up
	pid=$(cat /run/rprocd-test.pid)
	assert_eq "$(dbus_error m4 Start)" ok "Start through the chardev"
	fds=$(find "/proc/$pid/fd" -lname '/dev/remoteproc*' | wc -l)
	assert_eq "$fds" 1 "the chardev is held"
	call_bg /run/call.out m4 Restart
	sleep 0.5
	local i rc=1
	for ((i = 0; i < 100; i++)); do
		rmmod rproc_sim 2>/dev/null && {
			rc=0
			break
		}
		sleep 0.1
	done
	((rc == 0)) || _assert_fail "rproc_sim could not be removed: $(lsmod | grep rproc_sim)"
	wait_call || true
	assert_eq "$(replies /run/call.out)" 1 "the Restart caller got one reply"
	sleep 1
	alive "$pid" || _assert_fail "rprocd died"
	fds=$(find "/proc/$pid/fd" -lname '/dev/remoteproc*' | wc -l)
	assert_eq "$fds" 0 "no chardev left open"
	assert_eq "$(manager_error ListCores)" ok "still answering"
}

tests=(test_start_fails test_attach_fails test_stop_fails test_detach_fails \
	test_crash_during_boot test_kernel_recovery_seen test_found_crashed_restarted \
	test_started_during_kernel_recovery test_rmmod_during_startup_boot \
	test_rmmod_during_call \
	test_rmmod_with_chardev_held)
# Arguments name the cases to run (all by default).
(($#)) && tests=("$@")
run_cases "${tests[@]}"
