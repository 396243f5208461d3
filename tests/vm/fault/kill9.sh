#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fault matrix (issue 8), daemon death: rprocd is killed with SIGKILL at
# random moments while it boots and attaches cores at start-up, while a D-Bus
# Start, Stop, Restart, Attach, Detach or Recover has its kernel write in
# flight, and while a crashed core is being recovered (by rprocd for
# OnCrash=restart, by the kernel for OnCrash=kernel). After every kill the
# kernel state and the simulator's counters are recorded once every thread of
# the daemon is gone (a write blocked in the kernel finishes first), rprocd is
# started again, and the script proves that:
# - every core's D-Bus State is the kernel's state, and a core that was
#   running or attached is adopted (Origin "adopted") without one driver
#   operation (all six counters unchanged);
# - only cores that needed it were acted on, exactly once: an offline core
#   with Start=boot/auto booted once, a detached Start=attach core attached
#   once, a crashed OnCrash=restart core recovered once;
# - a BindLifetime=yes core is stopped by the kernel when rprocd dies;
# - a daemon restarted during the kernel's own recovery leaves no extra
#   power reference (a Stop afterwards really stops the core);
# - nothing stays Busy and the daemon answers calls.
#
# KILL9_SEED (default: from the clock) makes the random choices reproducible
# (timing still varies); KILL9_ITERATIONS (default 100). Pass them with
# `tests/vm/run --env KILL9_SEED=N`.
#
# Every exec costs 0.2-0.4 s in a loaded TCG guest (the root is 9p), so the
# loop reads sysfs and /proc with bash builtins, sleeps with `read -t`, and
# asks rprocd everything with one GetManagedObjects call.
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

SEED=${KILL9_SEED:-$(($(date +%s) % 32768))}
ITERATIONS=${KILL9_ITERATIONS:-100}
BOOT_MS=300
ATTACH_MS=300
# boot2 boots at every restart (BindLifetime=): a shorter boot keeps iterations
# short. rec1's boot is long so that a restarted rprocd meets the kernel's
# recovery of it in flight (the state reads offline then, the lock is held).
REC_MS=1500
SIM_PARAMS=("names=boot1,boot2,att1,crash1,rec1" "detached=0,0,1,0,0"
	"boot_ms=$BOOT_MS,150,$BOOT_MS,$BOOT_MS,$REC_MS" "attach_ms=$ATTACH_MS")
# Sim instance I is CORES[I]; SYS[I] its remoteprocN
CORES=(boot1 boot2 att1 crash1 rec1)
ALL=(0 1 2 3 4)
SYS=()
STATS=/run/k9-stats

# What the kernel had when rprocd was gone. Counters are
# "prepare load start stop attach detach" strings.
PRE_STATE=()
PRE_CNT=()
CRASH_CNT=

mkfifo /run/k9-sleep.fifo 2>/dev/null || true
exec {SLEEP_FD}<>/run/k9-sleep.fifo

# msleep MS - sleep without an exec
msleep() {
	read -r -t "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" -u "$SLEEP_FD" _ || true
}

# now_ms - milliseconds in NOW
now_ms() {
	local t=${EPOCHREALTIME/./}
	NOW=$((t / 1000))
}

find_sysnames() {
	local i
	for i in "${ALL[@]}"; do
		SYS[i]=$(sim_rproc "$i")
	done
}

setup_cores() {
	sim_load "${SIM_PARAMS[@]}"
	fw_install fw64 k9.elf
	core_conf boot1 "[Core]
Firmware=k9.elf
Start=boot"
	core_conf boot2 "[Core]
Firmware=k9.elf
Start=auto
BindLifetime=yes"
	core_conf att1 "[Core]
Start=attach
Stop=detach"
	core_conf crash1 "[Core]
Firmware=k9.elf
OnCrash=restart
RestartSec=300ms
StartLimitIntervalSec=0"
	core_conf rec1 "[Core]
Firmware=k9.elf
Start=boot
OnCrash=kernel"
	mkdir -p /etc/rprocd
	printf '[Daemon]\nPollIntervalSec=100ms\n' >/etc/rprocd/rprocd.conf
	: >"$STATS"
}

# kstate I - the kernel state of core I in KSTATE
kstate() {
	read -r KSTATE <"/sys/class/remoteproc/${SYS[$1]}/state"
}

# kcounters I - the counters of instance I in KCNT ("P L S T A D")
kcounters() {
	local line kv out=()
	read -r line <"$SIM_SYSFS/rproc_sim.$1/counters"
	for kv in $line; do
		out+=("${kv#*=}")
	done
	KCNT="${out[*]}"
}

# task_alive PID - some thread of PID is not a zombie yet (a SIGKILLed
# process's leader is Z while a worker still sits in a kernel write)
threads_alive() {
	local f s
	for f in /proc/"$1"/task/*/stat; do
		read -r s 2>/dev/null <"$f" || continue
		s=${s##*) }
		[[ "${s:0:1}" == Z || "${s:0:1}" == X ]] || return 0
	done
	return 1
}

# daemon_spawn - rprocd in the background (the bus and the notify listener
# are up); its log is /run/k9-rprocd.PID.log
daemon_spawn() {
	: >"$NOTIFY_LOG"
	(
		NOTIFY_SOCKET=/run/rprocd-test-notify.sock RPROCD_LOG_TARGET=console \
			exec "$RPROCD" >"/run/k9-rprocd.$BASHPID.log" 2>&1
	) &
	DAEMON_PID=$!
	echo "$DAEMON_PID" >/run/rprocd-test.pid
	disown
}

# daemon_up - spawn and wait for READY=1 (15 s)
daemon_up() {
	local i line s
	daemon_spawn
	for ((i = 0; i < 300; i++)); do
		while read -r line; do
			[[ "$line" == READY=1 ]] && return 0
		done <"$NOTIFY_LOG"
		s=
		read -r s <"/proc/$DAEMON_PID/stat" 2>/dev/null || true
		s=${s##*) }
		if [[ -z "$s" || "${s:0:1}" == Z ]]; then
			cat "/run/k9-rprocd.$DAEMON_PID.log" >&2
			_assert_fail "rprocd exited before READY=1"
		fi
		msleep 50
	done
	cat "/run/k9-rprocd.$DAEMON_PID.log" >&2
	_assert_fail "rprocd did not send READY=1 within 15 s"
}

# daemon_kill9 - SIGKILL and wait until every thread is gone (10 s);
# KILLED_LOG is its log, KILL_GONE_MS how long dying took
daemon_kill9() {
	local pid i t0
	read -r pid </run/rprocd-test.pid 2>/dev/null || return 0
	now_ms
	t0=$NOW
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 1000; i++)); do
		threads_alive "$pid" || break
		msleep 10
	done
	if threads_alive "$pid"; then
		grep -H . /proc/"$pid"/task/*/stat /proc/"$pid"/task/*/stack >&2 2>/dev/null || true
		_assert_fail "rprocd ($pid) still has live threads 10 s after SIGKILL"
	fi
	now_ms
	KILL_GONE_MS=$((NOW - t0))
	KILLED_LOG=/run/k9-rprocd.$pid.log
	rm -f /run/rprocd-test.pid
}

# wait_worker PID TIMEOUT_MS [CALL_PID] - until rprocd runs a worker thread
# (a kernel write in flight: rprocd is single-threaded otherwise); 1 when the
# timeout passed or CALL_PID (the client) ended first
wait_worker() {
	local i tasks
	for ((i = 0; i < $2 / 5; i++)); do
		tasks=(/proc/"$1"/task/*)
		((${#tasks[@]} > 1)) && return 0
		[[ -z "${3:-}" ]] || kill -0 "$3" 2>/dev/null || return 1
		msleep 5
	done
	return 1
}

# add_counts "P L S T A D" "dP dL dS dT dA dD" - in COUNTS; '*' in the delta: any value
add_counts() {
	local -a a d
	local i out=()
	read -ra a <<<"$1"
	read -ra d <<<"$2"
	for ((i = 0; i < 6; i++)); do
		if [[ "${d[i]}" == '*' ]]; then
			out+=('*')
		else
			out+=($((a[i] + d[i])))
		fi
	done
	COUNTS="${out[*]}"
}

# mask_counts ACTUAL EXPECTED - ACTUAL with '*' where EXPECTED has one, in COUNTS
mask_counts() {
	local -a a e
	local i out=()
	read -ra a <<<"$1"
	read -ra e <<<"$2"
	for ((i = 0; i < 6; i++)); do
		if [[ "${e[i]}" == '*' ]]; then
			out+=('*')
		else
			out+=("${a[i]}")
		fi
	done
	COUNTS="${out[*]}"
}

# bus_objects - every core's properties, one busctl call, in OBJECTS (JSON)
bus_objects() {
	OBJECTS=$(busctl --json=short call org.rprocd1 /org/rprocd1 \
		org.freedesktop.DBus.ObjectManager GetManagedObjects) ||
		_assert_fail "GetManagedObjects: no answer from rprocd"
}

# obj_props NAME - P_STATE, P_ORIGIN, P_BUSY of core NAME from OBJECTS
obj_props() {
	local seg re
	[[ "$OBJECTS" == *"\"/org/rprocd1/core/$1\":"* ]] ||
		_assert_fail "core $1 not in GetManagedObjects: $OBJECTS"
	seg=${OBJECTS#*\"/org/rprocd1/core/"$1"\":}
	seg=${seg%%\"/org/rprocd1/core/*}
	P_STATE='?' P_ORIGIN='?' P_BUSY='?'
	re='"State":\{"type":"s","data":"([^"]*)"'
	[[ "$seg" =~ $re ]] && P_STATE=${BASH_REMATCH[1]}
	re='"Origin":\{"type":"s","data":"([^"]*)"'
	[[ "$seg" =~ $re ]] && P_ORIGIN=${BASH_REMATCH[1]}
	re='"Busy":\{"type":"b","data":(true|false)'
	[[ "$seg" =~ $re ]] && P_BUSY=${BASH_REMATCH[1]}
	return 0
}

snapshot() {
	local i
	for i in "${ALL[@]}"; do
		kstate "$i"
		PRE_STATE[i]=$KSTATE
		kcounters "$i"
		PRE_CNT[i]=$KCNT
	done
}

# show_logs - on a failed iteration: what the killed and the new daemon said
show_logs() {
	local rc=$? i now=() cnt=()
	((rc == 0)) && return 0
	for i in "${ALL[@]}"; do
		kstate "$i"
		now+=("$KSTATE")
		kcounters "$i"
		cnt+=("$KCNT")
	done
	{
		echo "    seed $SEED, $ITER_DESC"
		echo "    --- with rprocd gone: ${PRE_STATE[*]}; counters (prepare load start stop attach detach): ${PRE_CNT[0]} | ${PRE_CNT[1]} | ${PRE_CNT[2]} | ${PRE_CNT[3]} | ${PRE_CNT[4]}"
		echo "    --- now: ${now[*]}; counters: ${cnt[0]} | ${cnt[1]} | ${cnt[2]} | ${cnt[3]} | ${cnt[4]}"
		echo "    --- log of the killed rprocd (last 30 lines)"
		tail -n 30 "${KILLED_LOG:-/dev/null}" 2>/dev/null | sed 's/^/    | /'
		echo "    --- log of the restarted rprocd"
		sed 's/^/    | /' "/run/k9-rprocd.${DAEMON_PID:-none}.log" 2>/dev/null
	} >&2
}

# expect I - the state, Origin and counters core I must show after the restart,
# from what the kernel had when rprocd was gone (EXP_STATE, EXP_ORIGIN, EXP_CNT)
expect() {
	local i=$1 name=${CORES[$1]} pre=${PRE_STATE[$1]}
	case "$pre" in
	running | attached)
		# Adopted: not one driver operation.
		EXP_STATE=$pre EXP_ORIGIN=adopted
		EXP_CNT=${PRE_CNT[i]}
		;;
	offline)
		if [[ "$name" == att1 ]]; then
			# Start=attach never boots.
			EXP_STATE=offline EXP_ORIGIN=
			EXP_CNT=${PRE_CNT[i]}
		else
			# Start=boot/auto: booted once.
			EXP_STATE=running EXP_ORIGIN=booted
			add_counts "${PRE_CNT[i]}" "* 1 1 0 0 0"
			EXP_CNT=$COUNTS
		fi
		;;
	detached)
		EXP_STATE=attached EXP_ORIGIN=attached
		add_counts "${PRE_CNT[i]}" "* 0 0 0 1 0"
		EXP_CNT=$COUNTS
		;;
	crashed)
		# OnCrash=restart: the recovery the killed daemon owed, done once.
		EXP_STATE=running EXP_ORIGIN='*'
		add_counts "${PRE_CNT[i]}" "* * 1 1 0 0"
		EXP_CNT=$COUNTS
		;;
	*)
		_assert_fail "$name is '$pre' in the kernel with rprocd gone (no state this test makes)"
		;;
	esac
}

# check_after_restart [CRASH_KERNEL] - the assertions of an iteration
check_after_restart() {
	local i name deadline settled
	local -a exp_state exp_origin exp_cnt
	for i in "${ALL[@]}"; do
		if [[ -n "${1:-}" && $i == 4 ]]; then
			# Restarted during the kernel's recovery of rec1 (OnCrash=kernel):
			# the recovery is the only boot, counted from before the crash.
			EXP_STATE=running EXP_ORIGIN='*'
			add_counts "$CRASH_CNT" "* * 1 1 0 0"
			EXP_CNT=$COUNTS
		else
			expect "$i"
		fi
		exp_state[i]=$EXP_STATE exp_origin[i]=$EXP_ORIGIN exp_cnt[i]=$EXP_CNT
	done
	# Settled (5 s): every core in the expected kernel state, nothing Busy.
	now_ms
	deadline=$((NOW + 5000))
	while :; do
		bus_objects
		settled=1
		for i in "${ALL[@]}"; do
			obj_props "${CORES[i]}"
			kstate "$i"
			[[ "$P_BUSY" == false && "$KSTATE" == "${exp_state[i]}" &&
				"$P_STATE" == "$KSTATE" ]] || settled=0
		done
		now_ms
		((settled || NOW > deadline)) && break
		msleep 100
	done
	for i in "${ALL[@]}"; do
		name=${CORES[i]}
		obj_props "$name"
		kstate "$i"
		assert_eq "$P_BUSY" false "$name Busy 5 s after READY=1"
		assert_eq "$KSTATE" "${exp_state[i]}" \
			"$name kernel state (${PRE_STATE[i]} when rprocd came back)"
		assert_eq "$P_STATE" "$KSTATE" "$name D-Bus State vs sysfs"
		[[ "${exp_origin[i]}" == '*' ]] || assert_eq "$P_ORIGIN" "${exp_origin[i]}" \
			"$name Origin (${PRE_STATE[i]} when rprocd came back)"
		kcounters "$i"
		mask_counts "$KCNT" "${exp_cnt[i]}"
		assert_eq "$COUNTS" "${exp_cnt[i]}" \
			"$name counters prepare/load/start/stop/attach/detach (${PRE_CNT[i]} and ${PRE_STATE[i]} when rprocd came back)"
	done
	if [[ -n "${1:-}" ]]; then
		# No power reference left over: a Stop stops rec1, a Start boots it.
		busctl call --timeout=30 org.rprocd1 /org/rprocd1/core/rec1 org.rprocd1.Core Stop ||
			_assert_fail "Stop of rec1 after the restart failed"
		kstate 4
		assert_eq "$KSTATE" offline "rec1 after a Stop that succeeded (an extra power reference keeps it running)"
		busctl call --timeout=30 org.rprocd1 /org/rprocd1/core/rec1 org.rprocd1.Core Start ||
			_assert_fail "Start of rec1 failed"
		kstate 4
		assert_eq "$KSTATE" running "rec1 after Start"
	fi
}

# count_lines FILE PATTERN - lines of FILE matching the glob PATTERN, in NLINES
count_lines() {
	local line
	NLINES=0
	[[ -r "$1" ]] || return 0
	while read -r line; do
		# shellcheck disable=SC2053 # PATTERN is a glob
		[[ "$line" == $2 ]] && NLINES=$((NLINES + 1))
	done <"$1"
	return 0
}

# run_iteration KIND CORE METHOD DELAY_MS AIM - AIM "worker": the delay
# counts from the moment rprocd's worker thread (the kernel write) runs
run_iteration() {
	local kind=$1 core=$2 method=$3 delay=$4 aim=$5 call_pid rc=0 crash='' t0 i ops=0 line pid
	local aimed=-
	local -a before a b
	trap show_logs EXIT
	case "$kind" in
	startup)
		# The daemon gone; cores left for it to boot and attach at start-up.
		daemon_kill9
		kstate 0
		[[ "$KSTATE" == offline ]] || probe_ok request "${SYS[0]}" stop
		kstate 3
		[[ "$KSTATE" == offline ]] || probe_ok request "${SYS[3]}" stop
		kstate 2
		[[ "$KSTATE" != attached ]] || probe_ok request "${SYS[2]}" detach
		for i in "${ALL[@]}"; do
			kcounters "$i"
			before[i]=$KCNT
		done
		daemon_spawn
		msleep "$delay"
		daemon_kill9
		# Boots and attaches the kernel finished after the kill: the
		# counters moved more than the killed daemon logged.
		for i in "${ALL[@]}"; do
			kcounters "$i"
			read -ra a <<<"${before[i]}"
			read -ra b <<<"$KCNT"
			ops=$((ops + b[2] - a[2] + b[4] - a[4]))
		done
		count_lines "$KILLED_LOG" "*: booted *"
		ops=$((ops - NLINES))
		count_lines "$KILLED_LOG" "*: attached to the running core*"
		ops=$((ops - NLINES))
		count_lines "$KILLED_LOG" "*ready: *"
		if ((NLINES)); then
			echo "startup killed-after-ready" >>"$STATS"
		else
			echo "startup killed-during-startup" >>"$STATS"
		fi
		((ops == 0)) || echo "startup kernel-finished-after-kill $ops" >>"$STATS"
		log "ops the kernel finished after SIGKILL: $ops"
		;;
	method)
		for ((i = 0; i < 4; i++)); do
			[[ "${CORES[i]}" == "$core" ]] && break
		done
		kstate "$i"
		if [[ ($method == Start || $method == Attach) && ($KSTATE == running || $KSTATE == attached) ]]; then
			# Down first (att1 has Stop=detach), so that the call has a kernel write to do.
			busctl call --timeout=30 org.rprocd1 "/org/rprocd1/core/$core" org.rprocd1.Core Stop ||
				_assert_fail "Stop of $core before the $method under test failed"
		fi
		busctl call --timeout=30 org.rprocd1 "/org/rprocd1/core/$core" org.rprocd1.Core "$method" \
			>/run/k9-call.out 2>&1 &
		call_pid=$!
		if [[ "$aim" == worker ]]; then
			read -r pid </run/rprocd-test.pid
			if wait_worker "$pid" 5000 "$call_pid"; then
				aimed="worker seen"
			else
				aimed="no worker seen"
			fi
		fi
		msleep "$delay"
		daemon_kill9
		wait "$call_pid" || rc=$?
		line=
		read -r line </run/k9-call.out || true
		log "call ($aimed): exit $rc $line"
		case "$line" in
		*"disconnected from message bus without replying"*)
			echo "method $method killed before its reply" >>"$STATS" ;;
		"") echo "method $method answered before the kill" >>"$STATS" ;;
		*) echo "method $method not delivered before the kill" >>"$STATS" ;;
		esac
		;;
	crash-restart)
		sim_crash 3
		if [[ "$aim" == worker ]]; then
			read -r pid </run/rprocd-test.pid
			if wait_worker "$pid" 5000; then
				echo "crash-restart recovery write in flight at the kill" >>"$STATS"
			else
				echo "crash-restart no recovery worker within 5 s" >>"$STATS"
			fi
		fi
		msleep "$delay"
		daemon_kill9
		;;
	crash-kernel)
		kcounters 4
		CRASH_CNT=$KCNT
		sim_crash 4
		msleep "$delay"
		daemon_kill9
		crash=1
		;;
	esac
	snapshot
	log "rprocd gone ${KILL_GONE_MS} ms after SIGKILL; kernel: ${PRE_STATE[*]}"
	echo "$kind pre ${PRE_STATE[*]}" >>"$STATS"
	# boot2 has BindLifetime=yes: the kernel stops it when rprocd's chardev closes.
	assert_eq "${PRE_STATE[1]}" offline "boot2 (BindLifetime=yes) with rprocd gone"
	now_ms
	t0=$NOW
	daemon_up
	now_ms
	log "READY=1 after $((NOW - t0)) ms"
	check_after_restart $crash
}

# pick_method I - a method that changes core I from its current state, in METHOD
pick_method() {
	local -a m
	kstate "$1"
	# Start and Attach of a core that is up: it is brought down first.
	case "${CORES[$1]}:$KSTATE" in
	att1:attached) m=(Detach Stop Restart Attach Start) ;;
	att1:*) m=(Attach Start) ;;
	*:running) m=(Stop Restart Start) ;;
	*:crashed) m=(Recover Start Stop) ;;
	*) m=(Start) ;;
	esac
	METHOD=${m[RANDOM % ${#m[@]}]}
}

first_up() {
	local i before=(offline offline detached offline offline)
	local after=(running running attached running running)
	for i in "${ALL[@]}"; do
		kstate "$i"
		assert_eq "$KSTATE" "${before[i]}" "${CORES[i]} before rprocd"
	done
	daemon_up
	bus_objects
	for i in "${ALL[@]}"; do
		kstate "$i"
		assert_eq "$KSTATE" "${after[i]}" "${CORES[i]} after the first start"
		obj_props "${CORES[i]}"
		assert_eq "$P_STATE" "$KSTATE" "${CORES[i]} State"
	done
}

# summary_stats - what the kills hit, from $STATS
summary_stats() {
	local line
	declare -A n=()
	while read -r line; do
		line=${line% [0-9]*}
		n[$line]=$((${n[$line]:-0} + 1))
	done <"$STATS"
	for line in "${!n[@]}"; do
		log "$(printf '%4d  %s' "${n[$line]}" "$line")"
	done | sort -k3
}

daemon_reset
setup_cores
find_sysnames
bus_up
_notify_ensure /run/rprocd-test-notify.sock
log "seed $SEED, $ITERATIONS iterations (KILL9_SEED=$SEED reproduces the choices)"
RANDOM=$SEED
test_case "first start" first_up

for ((n = 1; n <= ITERATIONS; n++)); do
	r=$((RANDOM % 100))
	core=- METHOD=-
	kstate 3
	crash1_state=$KSTATE
	kstate 4
	rec1_state=$KSTATE
	if ((r < 20)); then
		kind=startup delay=$((RANDOM % 1500))
	elif ((r < 35)) && [[ "$crash1_state" == running ]]; then
		kind=crash-restart delay=$((RANDOM % 1200))
	elif ((r < 50)) && [[ "$rec1_state" == running ]]; then
		kind=crash-kernel delay=$((RANDOM % 500))
	else
		kind=method delay=$((RANDOM % 1000))
		ci=$((RANDOM % 4))
		core=${CORES[ci]}
		pick_method "$ci"
	fi
	aim=call
	if [[ $kind == method || $kind == crash-restart ]] && ((RANDOM % 2)); then
		# Aimed at the kernel write: the delay counts from the worker thread.
		aim=worker delay=$((RANDOM % 350))
	fi
	ITER_DESC="iteration $n: $kind $core $METHOD, kill $delay ms after the $aim"
	[[ $kind == startup ]] && ITER_DESC="iteration $n: startup, kill $delay ms after the spawn"
	[[ $kind == crash-* ]] && ITER_DESC="iteration $n: $kind, kill $delay ms after the ${aim/call/crash}"
	failed_before=$_tests_failed
	test_case "$ITER_DESC" run_iteration "$kind" "$core" "$METHOD" "$delay" "$aim"
	if ((_tests_failed != failed_before)); then
		# A clean slate, so that one defect does not fail every later iteration.
		log "resetting after the failure"
		daemon_kill9
		sim_load "${SIM_PARAMS[@]}"
		find_sysnames
		daemon_up
	fi
done
log "seed $SEED; what the kills hit:"
summary_stats
daemon_kill9
daemon_reset
test_summary
