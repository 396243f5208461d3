#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Channels and readiness on the real virtio_rpmsg_bus (issue 14): rproc_sim
# plays the remote side of fw64-rpmsg.elf and announces channels; rprocd
# shows them in Channels (with the /dev node a client driver made), keeps
# them current from udev events, and says Ready once every ReadyWhen=
# channel is there. READY=1 waits for it; OnReadyTimeout= acts on firmware
# that never announces. The nodes Channels names are the ones that echo.
# shellcheck source=tests/vm/daemon/lib-daemon.sh disable=SC2154
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

RPMSG_ECHO=${RPROC_RPMSG_ECHO:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/tests/vm/rpmsg-echo}}

# channels CORE - "name local remote node" per channel, from the Channels property
channels() {
	busctl --json=short get-property org.rprocd1 "/org/rprocd1/core/$1" org.rprocd1.Core \
		Channels | python3 -c '
import json, sys
for name, src, dst, dev, node in json.load(sys.stdin)["data"]:
    print(name, hex(src), hex(dst), node or "-")'
}

# channel_node CORE NAME - the /dev node Channels gives for channel NAME
channel_node() {
	channels "$1" | awk -v n="$2" '$1 == n { print $4 }'
}

has_channel() {
	channels "$1" | grep -q "^$2 "
}

no_channel() {
	! has_channel "$@"
}

# wait_for WHAT CMD... - poll CMD every 100 ms for up to 10 s
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	_assert_fail "$what: not true after 10 s"
}

sim_rpmsg_ctl() {
	echo "$1" >"$(sim_dev 0)/rpmsg"
}

rpmsg_core() {
	sim_load names=m4 channels=rpmsg-tty+rpmsg-raw "$@"
	fw_install fw64-rpmsg
}

test_channels_and_ready() {
	local tty raw
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=rpmsg-tty rpmsg-raw"
	# READY=1 comes only once the core is ready: the channels are there then.
	rprocd_up
	assert_eq "$(prop m4 Ready)" true "Ready when READY=1 came"
	has_channel m4 rpmsg-tty || _assert_fail "no rpmsg-tty in Channels: $(channels m4)"
	has_channel m4 rpmsg-raw || _assert_fail "no rpmsg-raw in Channels: $(channels m4)"
	assert_contains "$(channels m4)" "rpmsg-tty 0x400 0x400 /dev/ttyRPMSG" "rpmsg-tty's addresses and tty"
	tty=$(channel_node m4 rpmsg-tty)
	raw=$(channel_node m4 rpmsg-raw)
	assert_match "$raw" '^/dev/rpmsg[0-9]+$' "rpmsg-raw's node"
	# The nodes Channels gives are the channels: each echoes.
	assert_success "$RPMSG_ECHO" tty "$tty" hello
	assert_success "$RPMSG_ECHO" dev "$raw" ping
	assert_contains "$(rprocd_log)" "rpmsg channel rpmsg-tty" "the log names the channel"
	assert_contains "$(rprocctl status m4)" "Channels: rpmsg-raw" "rprocctl status lists the channels"
	assert_contains "$(rprocctl --json status m4)" '"Name":"rpmsg-tty"' "rprocctl --json status"
}

test_runtime_changes() {
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=rpmsg-tty"
	rprocd_up
	assert_eq "$(prop m4 Ready)" true "Ready at start"
	# A channel announced at run time appears; one destroyed goes, and with
	# it readiness, without anything happening to the core.
	sim_rpmsg_ctl "announce echo 0x500"
	wait_for "echo in Channels" has_channel m4 echo
	channels m4 | grep -q "^echo 0x[0-9a-f]* 0x500 " ||
		_assert_fail "echo's remote address is not 0x500: $(channels m4)"
	sim_rpmsg_ctl "destroy rpmsg-tty"
	wait_for "rpmsg-tty gone from Channels" no_channel m4 rpmsg-tty
	wait_prop m4 Ready false 5
	assert_eq "$(prop m4 State)" running "still running"
	assert_contains "$(rprocd_log)" "rpmsg channel rpmsg-tty (" "the log says it went"
	sim_rpmsg_ctl "announce rpmsg-tty"
	wait_prop m4 Ready true 10
	# Stopped: no channels, not ready; started again: both back.
	core_call m4 Stop >/dev/null
	wait_prop m4 State offline
	wait_for "no channels when stopped" test -z "$(channels m4)"
	assert_eq "$(prop m4 Ready)" false "Ready when stopped"
	core_call m4 Start >/dev/null
	wait_prop m4 Ready true 10
}

test_ready_timeout_stop() {
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=ghost
ReadyTimeoutSec=2s
OnReadyTimeout=stop"
	rprocd_up
	wait_prop m4 State offline 15
	assert_contains "$(prop m4 LastError)" "no channel ghost" "LastError names the missing channel"
	assert_contains "$(rprocd_log)" "not ready 2s after coming up" "logged"
	assert_eq "$(sim_counter 0 start)" 1 "booted once, not again"
}

test_ready_timeout_restart() {
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=ghost
ReadyTimeoutSec=1s
StartLimitBurst=2
StartLimitIntervalSec=1h"
	rprocd_up
	wait_prop m4 StartLimitHit true 30
	# The first boot and two restarts (the burst), then left running.
	assert_eq "$(sim_counter 0 start)" 3 "boots"
	assert_eq "$(prop m4 State)" running "left running"
	assert_eq "$(prop m4 Ready)" false "not ready"
}

test_wait() {
	local pid rc
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=echo
ReadyTimeoutSec=2s
OnReadyTimeout=leave"
	rprocd_up
	assert_success rprocctl wait m4
	rc=0
	rprocctl wait --ready --timeout=1s m4 2>/run/wait.err || rc=$?
	assert_eq "$rc" 3 "wait --ready: exit status on a timeout"
	assert_contains "$(cat /run/wait.err)" "m4 is running, not ready, after the timeout" "why"
	rc=0
	rprocctl wait ghost 2>/dev/null || rc=$?
	assert_eq "$rc" 4 "wait for a core that does not exist"
	# A waiter returns when the channel comes, not at its timeout.
	rprocctl wait --ready --timeout=60s m4 &
	pid=$!
	sleep 1
	alive "$pid" || _assert_fail "wait --ready returned before the channel came"
	sim_rpmsg_ctl "announce echo"
	for ((rc = 0; rc < 100; rc++)); do
		alive "$pid" || break
		sleep 0.1
	done
	alive "$pid" && _assert_fail "wait --ready still waiting 10 s after the channel came"
	wait "$pid" || _assert_fail "wait --ready failed (exit $?)"
}

test_odd_channel_names() {
	local out
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=rpmsg-tty"
	rprocd_up
	# Invalid UTF-8, a control character, a '/', a quote: the kernel takes
	# them as they are; rprocd shows each escaped, on valid UTF-8.
	printf 'announce bad\xffname\n' >"$(sim_dev 0)/rpmsg"
	printf 'announce tab\x01ctl\n' >"$(sim_dev 0)/rpmsg"
	printf 'announce a/b"c\n' >"$(sim_dev 0)/rpmsg"
	wait_for "three more channels" test "$(channels m4 | wc -l)" -ge 5
	out=$(channels m4)
	assert_contains "$out" 'bad\xffname' "invalid UTF-8 escaped"
	assert_contains "$out" 'a/b"c' "slash and quote kept"
	assert_eq "$(rprocctl --json status m4 |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)[0]["Channels"]))' 2>&1)" \
		"$(channels m4 | wc -l)" "channels in rprocctl --json status (valid JSON with them)"
	assert_eq "$(prop m4 Ready)" true "still ready"
	assert_success rprocctl status m4
	# The daemon goes on: the valid channel still echoes through the node it gives.
	assert_success "$RPMSG_ECHO" tty "$(channel_node m4 rpmsg-tty)" still-here
}

test_channel_gone_while_held() {
	local tty
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=rpmsg-tty"
	rprocd_up
	tty=$(channel_node m4 rpmsg-tty)
	# A consumer holds the tty; the firmware withdraws the channel.
	exec 7<>"$tty"
	sim_rpmsg_ctl "destroy rpmsg-tty"
	wait_for "rpmsg-tty gone from Channels while held" no_channel m4 rpmsg-tty
	wait_prop m4 Ready false 5
	assert_eq "$(prop m4 State)" running "the core runs on"
	exec 7>&-
	sim_rpmsg_ctl "announce rpmsg-tty"
	wait_prop m4 Ready true 10
	tty=$(channel_node m4 rpmsg-tty)
	assert_success "$RPMSG_ECHO" tty "$tty" back-again
	assert_success rprocctl status m4
}

# count_lines TEXT PATTERN - lines of TEXT that contain PATTERN
count_lines() {
	grep -cF -- "$2" <<<"$1" || true
}

test_firmware_log() {
	local log
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
ReadyWhen=rpmsg-tty"
	rprocd_up
	# The firmware's banner reaches the log under the core's name, once.
	wait_for "the boot banner forwarded" grep -qF "m4[firmware]: rproc_sim m4: boot 1, firmware fw64-rpmsg.elf" /run/rprocd-test.log
	# A line the firmware writes later (rproc_sim traces control-file writes): once.
	sim_rpmsg_ctl "announce echo"
	wait_for "the new trace line forwarded" grep -qF "m4[firmware]: control rpmsg: announce echo" /run/rprocd-test.log
	sleep 2.5 # two more reads of an unchanged buffer
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 1 "banner forwarded once"
	assert_eq "$(count_lines "$log" "control rpmsg: announce echo")" 1 "line forwarded once"
	# A new boot: its banner, once; nothing of the old boot again.
	core_call m4 Restart >/dev/null
	wait_for "the second boot's banner" grep -qF "m4[firmware]: rproc_sim m4: boot 2," /run/rprocd-test.log
	sleep 2.5
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 2, firmware")" 1 "second banner forwarded once"
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 1 "first banner not again"
	assert_eq "$(count_lines "$log" "control rpmsg: announce echo")" 1 "old line not again"
}

# A ring buffer (rproc_sim trace_wrap=1, 4 KiB): 12 batches of 20 numbered
# lines (about 9 KiB, the ring wraps twice, lines split across its end),
# each batch read before the next: every line in the log exactly once, in
# order; then a crash, and the last trace saved next to the coredump.
test_firmware_log_wraps() {
	local b i log got want dump
	sim_load names=m4 channels=rpmsg-tty trace_wrap=1
	fw_install fw64-rpmsg
	daemon_conf "TraceIntervalSec=100ms"
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
Recovery=enabled
Coredump=enabled"
	rprocd_up
	wait_for "the boot banner forwarded" grep -qF "m4[firmware]: rproc_sim m4: boot 1," /run/rprocd-test.log
	for ((b = 0; b < 12; b++)); do
		for ((i = 0; i < 20; i++)); do
			echo "fw line $((b * 20 + i)) of the wrapping trace buffer" >"$(sim_dev 0)/trace"
		done
		sleep 0.4 # four reads
	done
	wait_for "the last line forwarded" grep -qF "m4[firmware]: fw line 239 of" /run/rprocd-test.log
	sleep 0.5
	got=$(grep -oE "m4\[firmware\]: fw line [0-9]+ of" /run/rprocd-test.log | sed -E 's/.*fw line ([0-9]+) of/\1/' | tr '\n' ' ')
	want=$(seq -s ' ' 0 239)' '
	assert_eq "$got" "$want" "each line once, in order, across two wraps"
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 1 "banner forwarded once"
	# A crash: the kernel recovers; the dump and the last trace, side by side.
	# (Read once before the crash: the kernel restarts the core at once, and
	# then the last read is what the dump gets; test_crash_trace_* cover the rest.)
	echo "the last words" >"$(sim_dev 0)/trace"
	wait_for "the last words forwarded" grep -qF "m4[firmware]: the last words" /run/rprocd-test.log
	echo 1 >"$(sim_dev 0)/crash"
	wait_for "a coredump saved" sh -c 'ls /var/lib/rprocd/coredump/m4-*.core >/dev/null 2>&1'
	wait_for "its trace saved" sh -c 'ls /var/lib/rprocd/coredump/m4-*.trace >/dev/null 2>&1'
	dump=$(ls /var/lib/rprocd/coredump/m4-*.core)
	assert_eq "$(ls /var/lib/rprocd/coredump/m4-*.trace)" "${dump%.core}.trace" "trace named as its dump"
	grep -qF "the last words" "${dump%.core}.trace" || _assert_fail "the trace saved is not the crashed firmware's: $(tail -c 300 "${dump%.core}.trace")"
}

# A restart of rprocd goes on where the last run left the buffer: after a
# clean exit nothing is forwarded twice, and what the firmware wrote while
# rprocd was down is forwarded once. A core that was stopped and booted
# again starts afresh.
test_firmware_log_across_restart() {
	local log
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf"
	rprocd_up
	wait_for "the boot banner forwarded" grep -qF "m4[firmware]: rproc_sim m4: boot 1," /run/rprocd-test.log
	echo "before the restart" >"$(sim_dev 0)/trace"
	wait_for "a line forwarded" grep -qF "m4[firmware]: before the restart" /run/rprocd-test.log
	rprocd_kill TERM
	assert_eq "$(rproc_attr 0 state)" running "OnExit=leave left the core running"
	echo "while rprocd was down" >"$(sim_dev 0)/trace"
	rprocd_up
	wait_for "the line written meanwhile forwarded" grep -qF "m4[firmware]: while rprocd was down" /run/rprocd-test.log
	sleep 1.5
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 1 "banner not forwarded again"
	assert_eq "$(count_lines "$log" "m4[firmware]: before the restart")" 1 "old line not forwarded again"
	assert_eq "$(count_lines "$log" "m4[firmware]: while rprocd was down")" 1 "new line once"
	[[ ! -e /var/lib/rprocd/trace/remoteproc0 ]] || _assert_fail "the saved state was not used up"
	# Stopped while rprocd is down, booted by the next run: the saved state
	# is not used for a core found down, and the new boot's banner comes.
	rprocd_kill TERM
	echo stop >"/sys/class/remoteproc/$(rproc_core 0)/state"
	assert_eq "$(rproc_attr 0 state)" offline "the core stopped"
	rprocd_up
	wait_for "the second boot's banner" grep -qF "m4[firmware]: rproc_sim m4: boot 2," /run/rprocd-test.log
}

# The trace beside a dump is the crashed firmware's: with a slow restart
# (boot_ms) the crashed image is still there when rprocd looks; when rprocd
# looks only after the kernel restarted the core (held with SIGSTOP), the
# new boot's buffer is never taken for the crashed one.
trace_core() {
	sim_load names=m4 channels=rpmsg-tty "$@"
	fw_install fw64-rpmsg
	daemon_conf "TraceIntervalSec=200ms"
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf
OnCrash=kernel
Coredump=enabled"
	rprocd_up
	wait_for "the boot banner forwarded" grep -qF "m4[firmware]: rproc_sim m4: boot 1," /run/rprocd-test.log
}

saved_trace() {
	wait_for "a trace saved" sh -c 'ls /var/lib/rprocd/coredump/m4-*.trace >/dev/null 2>&1'
	cat /var/lib/rprocd/coredump/m4-*.trace
}

test_crash_trace_slow_restart() {
	local t
	trace_core boot_ms=1500
	echo "the last words" >"$(sim_dev 0)/trace"
	echo 1 >"$(sim_dev 0)/crash"
	t=$(saved_trace)
	assert_contains "$t" "the last words" "the crashed firmware's last line"
	assert_contains "$t" "control crash: 1" "its crash"
	assert_not_contains "$t" "boot 2," "not the next boot's buffer"
}

test_crash_trace_late_look() {
	local pid t
	trace_core
	sleep 0.5
	pid=$(cat /run/rprocd-test.pid)
	kill -STOP "$pid"
	echo "said while rprocd slept" >"$(sim_dev 0)/trace"
	echo 1 >"$(sim_dev 0)/crash"
	wait_state 0 running 10
	grep -q "boot 2," "/sys/kernel/debug/remoteproc/$(rproc_core 0)/trace0" ||
		_assert_fail "the kernel did not restart the firmware"
	kill -CONT "$pid"
	t=$(saved_trace)
	assert_contains "$t" "boot 1," "the crashed boot's buffer (as last read)"
	assert_not_contains "$t" "boot 2," "never the new boot's"
}

# The saved state is for the cores rprocd finds at start-up only: a device
# that comes later (the driver reloaded, its buffer reading as the first
# boot's did) starts afresh, its banner forwarded again.
test_firmware_log_state_first_look_only() {
	local log
	rpmsg_core
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf"
	rprocd_up
	wait_for "the boot banner forwarded" grep -qF "m4[firmware]: rproc_sim m4: boot 1," /run/rprocd-test.log
	rprocd_kill TERM
	[[ -e /var/lib/rprocd/trace/remoteproc0 ]] || _assert_fail "no state saved at the clean exit"
	rpmsg_core # reloaded: boot 1 again, at remoteproc0 again
	rprocd_up
	wait_state 0 running 10
	sleep 1.5
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 2 "the new device's banner is forwarded"
	[[ ! -e /var/lib/rprocd/trace/remoteproc0 ]] || _assert_fail "the stale state was not removed"
	# The same, with the device added while rprocd runs: the state saved for
	# remoteproc0 is dropped once rprocd has looked at the cores it found.
	rprocd_kill TERM
	[[ -e /var/lib/rprocd/trace/remoteproc0 ]] || _assert_fail "no state saved at the second exit"
	sim_unload
	rprocd_up
	sleep 1
	[[ ! -e /var/lib/rprocd/trace/remoteproc0 ]] || _assert_fail "the state outlived the first look"
	rpmsg_core
	wait_state 0 running 10
	sleep 1.5
	log=$(rprocd_log)
	assert_eq "$(count_lines "$log" "m4: boot 1, firmware")" 3 "a hotplugged device's banner too"
}

run_cases test_crash_trace_slow_restart test_crash_trace_late_look \
	test_firmware_log_state_first_look_only test_firmware_log_across_restart test_firmware_log_wraps test_firmware_log test_channel_gone_while_held test_odd_channel_names test_wait test_channels_and_ready test_runtime_changes test_ready_timeout_stop \
	test_ready_timeout_restart
