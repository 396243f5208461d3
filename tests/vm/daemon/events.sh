#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel events on the real kernel: with the poll switched off
# (PollIntervalSec=no), the kernel log (/dev/kmsg) alone brings every crash
# to D-Bus clients (`rprocctl monitor`), once each, with its type
# (CrashReason), whether rprocd reads the log at once, in batches, or after
# the kernel's recovery is long over; the records of a removed device are
# not its successor's; an overrun of the kernel's ring while rprocd cannot
# read is noticed and repaired by a full re-read, without counting a crash
# twice when its record survived; the start-up log and the Manager's
# EventSources/PollIntervalUSec say what is used; on 6.12-notify, POLLPRI on
# `state` alone is enough (on the plain kernels it is shown never to wake).
# Each positive case has a negative control on the same kernel (no event
# source, no poll: the same crash is never seen), so that a pass means the
# event source did it. Latencies are printed, never asserted.
# On 6.12-notify with the default KernelEvents=auto a read woken by POLLPRI
# often sees a crash before its record: the same cases then check that the
# read and the record are paired (counted once).
#
# Cases can be picked by name: events.sh test_crash_reason test_overrun_…
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

MON_LOG=/run/events-monitor.log
MON_ERR=/run/events-monitor.err
MON_PIDFILE=/run/events-monitor.pid
CRASH_ID=2ef4e2ee # MESSAGE_CORE_CRASHED, as the console log abbreviates it

case "${RPROCD_VM_KERNEL:-}" in
*-notify) NOTIFY_KERNEL=1 ;;
*) NOTIFY_KERNEL=0 ;;
esac

now_us() {
	echo "${EPOCHREALTIME/[.,]/}"
}

# m4_up ONCRASH DAEMON_LINES - one core "m4" booted by rprocd from m4.elf
m4_up() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=$1"
	daemon_conf "$2"
	rprocd_up
	assert_state 0 running
	wait_prop m4 State running
}

# mgr_prop PROPERTY - a Manager property, value only: "kmsg poll" for an
# array of strings, 30000000 for a number
mgr_prop() {
	busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager "$1" |
		sed -E 's/^as [0-9]+ ?//; s/^[a-z]+ //; s/"//g'
}

# wait_mgr_prop PROPERTY VALUE [TIMEOUT_S]
wait_mgr_prop() {
	local i v
	for ((i = 0; i < ${3:-10} * 4; i++)); do
		v=$(mgr_prop "$1") || true
		[[ "$v" == "$2" ]] && return 0
		sleep 0.25
	done
	_assert_fail "Manager $1 is '$v', not '$2' after ${3:-10} s"
}

# rprocd_pid / rprocd_wait_stopped - the daemon's pid; wait until SIGSTOP took effect
rprocd_pid() {
	cat /run/rprocd-test.pid
}
rprocd_wait_stopped() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ "$(awk '{ print $3 }' "/proc/$(rprocd_pid)/stat")" == T ]] && return 0
		sleep 0.05
	done
	_assert_fail "rprocd did not stop after SIGSTOP"
}

# ---- a D-Bus client: `rprocctl monitor`, each line stamped (µs) on arrival -----

monitor_start() {
	local i
	monitor_stop
	: >"$MON_LOG"
	: >"$MON_ERR"
	# rprocctl itself in the background (its pid is $!), writing to a FIFO
	# (the guest has no /dev/fd for a process substitution); the stamping
	# loop ends when it does.
	rm -f "$MON_LOG.fifo"
	mkfifo "$MON_LOG.fifo"
	(while IFS= read -r l; do
		printf '%s %s\n' "${EPOCHREALTIME/[.,]/}" "$l"
	done <"$MON_LOG.fifo" >"$MON_LOG") &
	[[ -n "$RPROCCTL" && -x "$RPROCCTL" ]] || die "rprocctl not built"
	"$RPROCCTL" monitor 2>"$MON_ERR" >"$MON_LOG.fifo" &
	echo $! >"$MON_PIDFILE"
	# The match is added (synchronously) before this line is printed.
	for ((i = 0; i < 200; i++)); do
		grep -q '^rprocctl: Monitoring' "$MON_ERR" && return 0
		sleep 0.05
	done
	_assert_fail "rprocctl monitor did not start: $(cat "$MON_ERR")"
}

monitor_stop() {
	local pid
	pid=$(cat "$MON_PIDFILE" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	rm -f "$MON_PIDFILE"
	return 0
}

# monitor_first ERE T0 - the first monitor line after T0 (µs) that matches ERE
monitor_first() {
	awk -v t0="$2" -v re="$1" '$1 >= t0 && $0 ~ re { print; exit }' "$MON_LOG"
}

# monitor_wait ERE T0 [TIMEOUT_S] - a signal matching ERE reaches the client
# after T0 (default 10 s); prints how long after T0 it arrived
monitor_wait() {
	local i line t
	for ((i = 0; i < ${3:-10} * 20; i++)); do
		line=$(monitor_first "$1" "$2")
		[[ -n "$line" ]] && break
		sleep 0.05
	done
	[[ -n "$line" ]] || _assert_fail "no PropertiesChanged matching /$1/ reached the client" \
		"within ${3:-10} s; it saw: $(cut -d' ' -f2- "$MON_LOG" | tr '\n' '|')"
	t=${line%% *}
	log "latency: '${1#^[0-9]+ }' reached rprocctl monitor $(((t - $2) / 1000)) ms after ${T0_WHAT:-the crash}"
}

# monitor_none ERE T0 SECS - no signal matching ERE arrives within SECS
monitor_none() {
	sleep "$3"
	local line
	line=$(monitor_first "$1" "$2")
	[[ -z "$line" ]] || _assert_fail "a signal matching /$1/ arrived: ${line#* }"
}

# ---- the kernel's side ----------------------------------------------------------

# kernel_crash_no CORE_NAME - the kernel's crash counter, from its last "handling crash #N" record
kernel_crash_no() {
	dmesg | sed -nE "s/.*handling crash #([0-9]+) in $1\$/\1/p" | tail -n1
}

# crash_and_recovered N - a crash of sim instance 0 that the kernel recovers;
# returns once the recovery has booted it again (the start counter is the
# N+1th) and it is running (a crash file write is refused before that)
crash_and_recovered() {
	local i starts
	starts=$(sim_counter 0 start)
	sim_crash 0 "$1"
	for ((i = 0; i < 200; i++)); do
		[[ "$(sim_counter 0 start)" == $((starts + 1)) && "$(rproc_state 0)" == running ]] &&
			return 0
		sleep 0.05
	done
	_assert_fail "the kernel did not recover the crash (start counter $(sim_counter 0 start)," \
		"state $(rproc_state 0))"
}

# kmsg_flood KIB - write KIB KiB to the kernel log, 800-byte records at debug
# level (not on the console): with CONFIG_LOG_BUF_SHIFT=17 (128 KiB) 384 KiB
# overwrites everything a reader had not read
kmsg_flood() {
	local i line n=$(($1 * 1024 / 800))
	printf -v line '%0770d' 0
	exec 9>/dev/kmsg
	for ((i = 0; i < n; i++)); do
		printf '<7>rprocd-test flood %s\n' "$line" >&9
	done
	exec 9>&-
}

# ---- 1. crash detection without the poll --------------------------------------

test_crash_seen_without_poll() {
	local t0 dsp
	# m4 managed; dsp unmanaged (no configuration), started by someone else
	sim_load names=m4,dsp
	fw_install fw64 m4.elf
	fw_install fw64 rproc-dsp-fw
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=leave"
	daemon_conf "PollIntervalSec=no"
	rprocd_up
	assert_state 0 running
	wait_prop m4 State running
	dsp=$(sim_rproc 1)
	assert_eq "$(rproc_attr 0 recovery)" disabled "kernel recovery off for OnCrash=leave"
	assert_eq "$(mgr_prop PollIntervalUSec)" 18446744073709551615 "PollIntervalUSec (no poll)"
	assert_not_contains " $(mgr_prop EventSources) " " poll " "EventSources with PollIntervalSec=no"
	monitor_start
	# A start by someone else is in the log too.
	t0=$(now_us)
	probe_ok request "$dsp" start
	T0_WHAT="the start of dsp" monitor_wait "^[0-9]+ dsp: .*State=running" "$t0"

	t0=$(now_us)
	sim_crash 0
	monitor_wait "^[0-9]+ m4: .*State=crashed" "$t0"
	monitor_wait "^[0-9]+ m4: .*CrashCount=1( |\$)" "$t0"
	wait_state 0 crashed 1
	assert_eq "$(prop m4 State)" crashed State
	assert_eq "$(prop m4 CrashCount)" 1 CrashCount
	assert_eq "$(prop m4 CrashReason)" watchdog CrashReason
	assert_contains "$(rprocctl status m4)" "State: crashed" "rprocctl status"
	assert_contains "$(rprocctl status m4)" "Crashes: 1," "rprocctl status"
	assert_contains "$(rprocctl status m4)" "(watchdog)" "rprocctl status shows the crash type"
	# Once only, and only m4's: nothing later adds to it.
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 1 "CrashCount a second later"
	assert_eq "$(prop dsp CrashCount)" 0 "CrashCount of the other core"
	assert_eq "$(grep -c "id=$CRASH_ID" /run/rprocd-test.log)" 1 "crash log lines"
	# The unmanaged core's crash (the kernel recovers it) is its own.
	t0=$(now_us)
	sim_crash 1 0
	monitor_wait "^[0-9]+ dsp: .*CrashCount=1( |\$)" "$t0"
	wait_prop dsp State running
	assert_eq "$(prop dsp CrashReason)" mmufault "CrashReason of dsp"
	assert_eq "$(prop m4 CrashCount)" 1 "CrashCount of m4 after dsp's crash"
	assert_eq "$(prop m4 CrashReason)" watchdog "CrashReason of m4 after dsp's crash"
}

# The negative control: the same crash, no event source and no poll. rprocd
# cannot know; if it did, the case above would prove nothing.
test_crash_unseen_without_events() {
	local t0
	m4_up leave "KernelEvents=no
PollIntervalSec=no"
	assert_eq "$(mgr_prop EventSources)" "" "EventSources with KernelEvents=no and no poll"
	assert_contains "$(rprocd_log)" "kernel events: none (KernelEvents=no)" "start-up log"
	monitor_start
	t0=$(now_us)
	sim_crash 0
	wait_state 0 crashed 5
	monitor_none "State=|CrashCount=" "$t0" 5
	assert_eq "$(prop m4 State)" running "State (stale: nothing told rprocd)"
	assert_eq "$(prop m4 CrashCount)" 0 "CrashCount (nothing told rprocd)"
	assert_not_contains "$(rprocd_log)" "id=$CRASH_ID" "no crash logged"
	assert_state 0 crashed
}

# ---- 2. crashes the kernel recovers by itself --------------------------------

test_kernel_recovery_counted_once() {
	local i t0
	m4_up kernel "PollIntervalSec=no"
	assert_eq "$(rproc_attr 0 recovery)" enabled "kernel recovery on"
	monitor_start
	# One by one: each crash reaches the client once, and the core is back up.
	for i in 1 2 3 4 5; do
		t0=$(now_us)
		crash_and_recovered 1
		monitor_wait "CrashCount=$i( |\$)" "$t0"
		wait_prop m4 State running
		assert_eq "$(prop m4 CrashCount)" "$i" "CrashCount after crash $i"
	done
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 5 "CrashCount after 5 crashes"
	assert_eq "$(kernel_crash_no m4)" 5 "the kernel's count"
	# A burst: five crashes back to back, each recovered by the kernel before
	# the next (rprocd reads them in whatever batches it gets).
	for i in 1 2 3 4 5; do
		crash_and_recovered 2
	done
	assert_eq "$(kernel_crash_no m4)" 10 "the kernel's count after the burst"
	wait_prop m4 CrashCount 10
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 10 "CrashCount after the burst (none lost, none twice)"
	assert_eq "$(prop m4 State)" running State
	assert_eq "$(grep -c "id=$CRASH_ID" /run/rprocd-test.log)" 10 "crash log lines"
	# Three more while rprocd cannot read: all recovered before it looks again,
	# so only their records say they happened.
	kill -STOP "$(rprocd_pid)"
	rprocd_wait_stopped
	for i in 1 2 3; do
		crash_and_recovered 0
	done
	assert_eq "$(kernel_crash_no m4)" 13 "the kernel's count while rprocd was stopped"
	kill -CONT "$(rprocd_pid)"
	wait_prop m4 CrashCount 13
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 13 "CrashCount after crashes rprocd never saw in sysfs"
	assert_eq "$(prop m4 CrashReason)" mmufault "CrashReason of the last"
	assert_eq "$(prop m4 State)" running State
	assert_eq "$(grep -c "id=$CRASH_ID" /run/rprocd-test.log)" 13 "crash log lines"
	assert_eq "$(sim_counter 0 start)" 14 "the kernel booted it 1 + 13 times, rprocd never"
	# Two reports back to back: the kernel handles one crash or two
	# (a report while its work is pending is merged); rprocd counts what
	# the kernel handled, whichever it was.
	local kbefore starts
	kbefore=$(kernel_crash_no m4)
	starts=$(sim_counter 0 start)
	{ echo 1 >"$(sim_dev 0)/crash" && echo 2 >"$(sim_dev 0)/crash"; } 2>/dev/null || true
	for i in $(seq 100); do
		[[ "$(sim_counter 0 start)" -gt "$starts" && "$(rproc_state 0)" == running ]] && break
		sleep 0.05
	done
	sleep 0.5
	log "two reports back to back: the kernel handled $(($(kernel_crash_no m4) - kbefore))"
	wait_prop m4 CrashCount "$(kernel_crash_no m4)"
	sleep 1
	assert_eq "$(prop m4 CrashCount)" "$(kernel_crash_no m4)" "CrashCount after two reports"
	assert_eq "$(prop m4 State)" running State
}

# The negative control: the kernel's recovery is invisible without the log.
test_kernel_recovery_unseen_without_events() {
	m4_up kernel "KernelEvents=no
PollIntervalSec=no"
	crash_and_recovered 1
	sleep 3
	assert_eq "$(prop m4 CrashCount)" 0 "CrashCount (nothing told rprocd)"
}

# The records of a device that went away are not its successor's: a crash
# recovered while rprocd could not read, then the module removed and loaded
# again (the same name, the same chardev number).
test_records_of_removed_device() {
	local dev_before
	m4_up kernel "PollIntervalSec=no"
	dev_before=$(rproc_attr 0 dev)
	kill -STOP "$(rprocd_pid)"
	rprocd_wait_stopped
	crash_and_recovered 1
	sim_load names=m4
	log "chardev before: $dev_before, after: $(rproc_attr 0 dev)"
	kill -CONT "$(rprocd_pid)"
	wait_state 0 running 15
	wait_prop m4 State running 15
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 0 "CrashCount of the new device"
	assert_eq "$(prop m4 State)" running State
	assert_eq "$(sim_counter 0 start)" 1 "the new device booted once, by rprocd"
}

# ---- 3. CrashReason --------------------------------------------------------------

test_crash_reason() {
	local i type line t0
	local -a types=(mmufault watchdog "fatal error")
	m4_up kernel "PollIntervalSec=no"
	assert_eq "$(prop m4 CrashReason)" "" "CrashReason before any crash"
	monitor_start
	for i in 0 1 2; do
		type=${types[i]}
		t0=$(now_us)
		crash_and_recovered "$i"
		monitor_wait "CrashReason=$type( [A-Z]|\$)" "$t0"
		wait_prop m4 CrashCount $((i + 1))
		assert_eq "$(prop m4 CrashReason)" "$type" "CrashReason after a crash of type $i"
		line=$(grep "id=$CRASH_ID" /run/rprocd-test.log | sed -n "$((i + 1))p")
		assert_contains "$line" "($type)" "crash log line names the type"
		assert_contains "$line" "RPROC_CRASH_REASON=$type]" "crash log line's field"
	done
	# rproc_sim reports anything else as a watchdog
	crash_and_recovered 7
	wait_prop m4 CrashCount 4
	assert_eq "$(prop m4 CrashReason)" watchdog "CrashReason of type 7"
	# A crash left crashed (OnCrash=leave) carries its reason too.
	rprocd_kill
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=leave"
	rprocd_up
	sim_crash 0 2
	wait_prop m4 State crashed
	assert_eq "$(prop m4 CrashReason)" "fatal error" "CrashReason of a core left crashed"
}

# ---- 4. an overrun of the kernel log -----------------------------------------

# The crash's records are lost: only the re-read after the overrun can see it.
test_overrun_crash_lost() {
	local t0
	m4_up leave "PollIntervalSec=no"
	monitor_start
	kill -STOP "$(rprocd_pid)"
	rprocd_wait_stopped
	sim_crash 0 1
	wait_state 0 crashed 5
	kmsg_flood 384
	# Gone from the ring: whoever did not read it before cannot any more.
	assert_eq "$(kernel_crash_no m4)" "" "the crash record is overwritten"
	# What a failed case shows starts here (case_klog would print the flood).
	dmesg -C
	t0=$(now_us)
	kill -CONT "$(rprocd_pid)"
	T0_WHAT=SIGCONT monitor_wait "State=crashed" "$t0"
	T0_WHAT=SIGCONT monitor_wait "CrashCount=1( |\$)" "$t0"
	for _ in $(seq 40); do
		grep -q "kernel log overrun" /run/rprocd-test.log && break
		sleep 0.25
	done
	assert_contains "$(rprocd_log)" "kernel log overrun: records were lost; reading every core again" \
		"overrun logged"
	assert_eq "$(grep -c 'kernel log overrun' /run/rprocd-test.log)" 1 "overrun logged once"
	sleep 1
	assert_eq "$(prop m4 State)" crashed State
	assert_eq "$(prop m4 CrashCount)" 1 "CrashCount (counted by the re-read, once)"
	assert_eq "$(prop m4 CrashReason)" "" "CrashReason (its record was lost)"
	# The log still works after the overrun: the next crash is counted from it.
	assert_eq "$(dbus_error m4 Recover)" ok Recover
	wait_prop m4 State running
	t0=$(now_us)
	sim_crash 0 2
	monitor_wait "CrashCount=2( |\$)" "$t0"
	wait_prop m4 State crashed
	assert_eq "$(prop m4 CrashReason)" "fatal error" "CrashReason of the crash after the overrun"
	sleep 1
	assert_eq "$(prop m4 CrashCount)" 2 "CrashCount after one more crash"
	assert_eq "$(grep -c "id=$CRASH_ID" /run/rprocd-test.log)" 2 "crash log lines"
}

# The overrun comes first and the crash's records survive it: they and the
# re-read both see the crash, which must still count once.
test_overrun_then_crash() {
	local t0
	m4_up leave "PollIntervalSec=no"
	monitor_start
	kill -STOP "$(rprocd_pid)"
	rprocd_wait_stopped
	kmsg_flood 384
	dmesg -C
	sim_crash 0 0
	wait_state 0 crashed 5
	assert_eq "$(kernel_crash_no m4)" 1 "the crash record is in the ring"
	t0=$(now_us)
	kill -CONT "$(rprocd_pid)"
	T0_WHAT=SIGCONT monitor_wait "CrashCount=1( |\$)" "$t0"
	for _ in $(seq 40); do
		grep -q "kernel log overrun" /run/rprocd-test.log && break
		sleep 0.25
	done
	assert_contains "$(rprocd_log)" "kernel log overrun" "overrun logged"
	sleep 1
	assert_eq "$(prop m4 State)" crashed State
	assert_eq "$(prop m4 CrashCount)" 1 "CrashCount (record and re-read: one crash)"
	assert_eq "$(prop m4 CrashReason)" mmufault "CrashReason (its record survived)"
}

# ---- 5. start-up log and Manager properties ----------------------------------

test_startup_defaults() {
	local sources
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	rprocd_up
	assert_contains "$(rprocd_log)" "kernel events: the kernel log (/dev/kmsg), sysfs notifications where the kernel sends them, and a poll every 30s" \
		"start-up log with the defaults"
	assert_eq "$(mgr_prop PollIntervalUSec)" 30000000 "PollIntervalUSec with the defaults"
	sources=$(mgr_prop EventSources)
	assert_contains " $sources " " kmsg " "EventSources with the defaults"
	assert_contains " $sources " " poll " "EventSources with the defaults"
	# A change of state: a notifying kernel says so through sysfs, the others never.
	sim_crash 0
	wait_prop m4 CrashCount 1
	if ((NOTIFY_KERNEL)); then
		wait_mgr_prop EventSources "kmsg sysfs poll"
		assert_contains "$(rprocd_log)" "the kernel notifies state changes through sysfs" \
			"notification logged"
	else
		sleep 0.5
		assert_eq "$(mgr_prop EventSources)" "kmsg poll" "EventSources with the defaults"
		assert_not_contains "$(rprocd_log)" "notifies state changes" \
			"notification logged on $RPROCD_VM_KERNEL"
	fi

	rprocd_kill
	daemon_conf "PollIntervalSec=no"
	: >/run/rprocd-test.log
	rprocd_up
	assert_contains "$(rprocd_log)" "kernel events: the kernel log (/dev/kmsg)" "start-up log"
	assert_contains "$(rprocd_log)" "and no poll (PollIntervalSec=no)" "start-up log"
	assert_eq "$(mgr_prop PollIntervalUSec)" 18446744073709551615 "PollIntervalUSec=no"
	sources=$(mgr_prop EventSources)
	assert_contains " $sources " " kmsg " "EventSources with PollIntervalSec=no"
	assert_not_contains " $sources " " poll " "EventSources with PollIntervalSec=no"

	rprocd_kill
	daemon_conf "KernelEvents=kmsg
PollIntervalSec=2s"
	: >/run/rprocd-test.log
	rprocd_up
	assert_contains "$(rprocd_log)" "kernel events: the kernel log (/dev/kmsg), and a poll every 2s" \
		"start-up log with KernelEvents=kmsg"
	assert_eq "$(mgr_prop PollIntervalUSec)" 2000000 "PollIntervalUSec=2s"
	assert_eq "$(mgr_prop EventSources)" "kmsg poll" "EventSources with KernelEvents=kmsg"

	# No event source: the poll is the 500 ms of old, and it does see a crash.
	rprocd_kill
	daemon_conf "KernelEvents=no"
	: >/run/rprocd-test.log
	rprocd_up
	assert_contains "$(rprocd_log)" "kernel events: none (KernelEvents=no), and a poll every 500ms" \
		"start-up log with KernelEvents=no"
	assert_eq "$(mgr_prop PollIntervalUSec)" 500000 "PollIntervalUSec without event sources"
	assert_eq "$(mgr_prop EventSources)" poll "EventSources with KernelEvents=no"
	# Reload to the defaults: the kernel log is opened, the poll slows down.
	daemon_conf ""
	assert_eq "$(manager_error Reload)" ok Reload
	wait_mgr_prop PollIntervalUSec 30000000
	assert_contains " $(mgr_prop EventSources) " " kmsg " "EventSources after Reload"
	assert_eq "$(grep -c 'kernel events:' /run/rprocd-test.log)" 2 "a 'kernel events:' line per setup"
}

# ---- 6. sysfs notifications alone (6.12-notify) -------------------------------

test_sysfs_notify_alone() {
	local t0 r
	m4_up leave "KernelEvents=sysfs
PollIntervalSec=no"
	r=$(sim_rproc 0)
	assert_contains "$(rprocd_log)" "kernel events: sysfs notifications where the kernel sends them (KernelEvents=sysfs), and no poll" \
		"start-up log with KernelEvents=sysfs"
	monitor_start
	t0=$(now_us)
	sim_crash 0
	wait_state 0 crashed 5
	if ((!NOTIFY_KERNEL)); then
		# The contrast: the plain kernel never notifies, nothing else looks.
		monitor_none "State=|CrashCount=" "$t0" 3
		assert_eq "$(prop m4 State)" running "State (this kernel never notifies)"
		assert_not_contains "$(rprocd_log)" "notifies state changes" "no notification logged"
		assert_eq "$(mgr_prop EventSources)" "" EventSources
		log "SKIP: the positive half needs the 6.12-notify kernel (this is $RPROCD_VM_KERNEL)"
		return 0
	fi
	monitor_wait "State=crashed" "$t0"
	monitor_wait "CrashCount=1( |\$)" "$t0"
	assert_eq "$(prop m4 CrashCount)" 1 CrashCount
	assert_eq "$(prop m4 CrashReason)" "" "CrashReason (the kernel log is not read)"
	assert_contains "$(rprocd_log)" "the kernel notifies state changes through sysfs" "notification logged"
	assert_eq "$(grep -c 'notifies state changes through sysfs' /run/rprocd-test.log)" 1 \
		"notification logged once"
	assert_eq "$(mgr_prop EventSources)" sysfs "EventSources"
	assert_eq "$(mgr_prop PollIntervalUSec)" 18446744073709551615 "PollIntervalUSec"
	# Someone else stops the core: seen through the notification alone.
	assert_eq "$(dbus_error m4 Recover)" ok Recover
	wait_prop m4 State running
	t0=$(now_us)
	probe_ok request "$r" stop
	assert_state 0 offline
	T0_WHAT="the external stop" monitor_wait "State=offline" "$t0"
	assert_eq "$(prop m4 State)" offline State
	assert_contains "$(rprocd_log)" "stopped by someone else" "external stop logged"
	# And someone else starts it again.
	t0=$(now_us)
	probe_ok request "$r" start
	T0_WHAT="the external start" monitor_wait "State=running" "$t0"
	sleep 0.5
	assert_eq "$(prop m4 CrashCount)" 1 "CrashCount (the stop and start are no crashes)"
}

all_cases=(
	test_crash_seen_without_poll
	test_crash_unseen_without_events
	test_kernel_recovery_counted_once
	test_kernel_recovery_unseen_without_events
	test_records_of_removed_device
	test_crash_reason
	test_overrun_crash_lost
	test_overrun_then_crash
	test_startup_defaults
	test_sysfs_notify_alone
)
(($#)) || set -- "${all_cases[@]}"
log "kernel ${RPROCD_VM_KERNEL:-?} ($(uname -r)); sysfs notifications expected: $NOTIFY_KERNEL"
for t in "$@"; do
	# a case that failed while rprocd was stopped must not leave it so
	kill -CONT "$(cat /run/rprocd-test.pid 2>/dev/null)" 2>/dev/null
	daemon_reset
	test_case "$t" "$t"
	monitor_stop
done
daemon_reset
test_summary
