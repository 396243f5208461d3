# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers for guest scripts run by tests/vm/run. Source it:
#   . "$(dirname "$0")/../lib.sh"     (from tests/vm/abi/)
# Documented in tests/vm/README.md.

set -u

RPROC_SIM_KO=${RPROC_SIM_KO:-}
RPROC_TEST_FW_DIR=${RPROC_TEST_FW_DIR:-}
RPROCD_BUILD_DIR=${RPROCD_BUILD_DIR:-}
RPROC_PROBE=${RPROC_PROBE:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/tests/vm/rproc-probe}}
SIM_SYSFS=/sys/bus/platform/devices

_tests_passed=0
_tests_failed=0
_failed_names=()

# Sanitizer and valgrind reports of anything run from a sanitized build
# (tests/run-all's ASan/UBSan pass, RPROCD_WRAPPER=valgrind) land here; a
# report fails the test case during which it appeared (sanitizer_check).
SANITIZER_DIR=/run/sanitizer
mkdir -p "$SANITIZER_DIR" "$SANITIZER_DIR.seen" 2>/dev/null
# quarantine_size_mb: ASan keeps freed memory out of use up to this much (256
# MiB by default), so a long suite's daemon grows until the 128 MiB guest
# thrashes its page cache; the guest then froze for minutes before the OOM
# killer came (session 5). 8 MiB still catches a use shortly after a free.
export ASAN_OPTIONS=${ASAN_OPTIONS:-log_path=$SANITIZER_DIR/asan:detect_leaks=1:abort_on_error=0:quarantine_size_mb=8}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-log_path=$SANITIZER_DIR/ubsan:print_stacktrace=1:halt_on_error=1}

log() {
	echo "# $*"
}

# die MSG - the script cannot go on (not an assertion)
die() {
	echo "ERROR: $*" >&2
	exit 1
}

# ---- assertions: print what differs and fail the current test case --------

_assert_fail() {
	local where
	where=$(caller 1)
	echo "FAIL: $* (${where##* }:${where%% *})" >&2
	exit 1
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[[ "$1" == "$2" ]] || _assert_fail "${3:-value}: expected '$2', got '$1'"
}

# assert_ne ACTUAL UNEXPECTED [WHAT]
assert_ne() {
	[[ "$1" != "$2" ]] || _assert_fail "${3:-value}: expected anything but '$2'"
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	[[ "$1" == *"$2"* ]] || _assert_fail "${3:-text}: '$2' not found in '$1'"
}

# assert_not_contains HAYSTACK NEEDLE [WHAT]
assert_not_contains() {
	[[ "$1" != *"$2"* ]] || _assert_fail "${3:-text}: '$2' unexpectedly found in '$1'"
}

# assert_match STRING ERE [WHAT]
assert_match() {
	[[ "$1" =~ $2 ]] || _assert_fail "${3:-value}: '$1' does not match /$2/"
}

# assert_exists PATH [WHAT]
assert_exists() {
	[[ -e "$1" || -L "$1" ]] || _assert_fail "${2:-path}: $1 does not exist"
}

# assert_not_exists PATH [WHAT]
assert_not_exists() {
	[[ ! -e "$1" && ! -L "$1" ]] || _assert_fail "${2:-path}: $1 exists"
}

# assert_success CMD [ARGS...] - the command exits 0 (its output is shown on failure)
assert_success() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	((rc == 0)) || _assert_fail "'$*' failed with exit $rc: $out"
}

# assert_failure CMD [ARGS...] - the command exits non-zero
assert_failure() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	((rc != 0)) || _assert_fail "'$*' unexpectedly succeeded: $out"
}

# ---- test-case runner --------------------------------------------------------

# test_case NAME FUNCTION [ARGS...] - run FUNCTION in a subshell with
# `set -e`: a failed assertion, a die or any failing command fails the case.
# The kernel log of a failed case is shown.
test_case() {
	local name=$1 rc start
	shift
	echo "=== $name"
	echo "rprocd-test: === $name" >/dev/kmsg 2>/dev/null
	start=$(date +%s%N)
	# A failing case must not end a script that runs with errexit itself.
	local errexit=0
	[[ $- == *e* ]] && errexit=1
	set +e
	(
		set -e
		"$@"
	)
	rc=$?
	((errexit)) && set -e
	sanitizer_check || rc=1
	oom_check "$(case_klog)" || rc=1
	local ms=$((($(date +%s%N) - start) / 1000000))
	if ((rc == 0)); then
		echo "--- PASS: $name (${ms} ms)"
		_tests_passed=$((_tests_passed + 1))
	else
		echo "--- FAIL: $name (${ms} ms, exit $rc)"
		echo "    kernel log of the case:"
		case_klog | sed 's/^/    | /'
		_tests_failed=$((_tests_failed + 1))
		_failed_names+=("$name")
	fi
	return 0
}

# sanitizer_check - fail (and show them) if sanitizer or valgrind reports
# appeared since the last check; they are moved aside once shown
sanitizer_check() {
	local f bad=0
	for f in "$SANITIZER_DIR"/*; do
		[[ -f "$f" ]] || continue
		# valgrind --quiet leaves an empty log for a clean run (it stays
		# here: the process may still be writing to it)
		if [[ "${f##*/}" == valgrind.* ]] && ! grep -q '[^[:space:]]' "$f"; then
			continue
		fi
		echo "FAIL: report in ${f##*/}:" >&2
		sed 's/^/    /' "$f" | head -n 80 >&2
		mv "$f" "$SANITIZER_DIR.seen/"
		bad=1
	done
	return $bad
}

# oom_check KERNEL_LOG - fail (and show it) if the OOM killer ran: a process
# it killed (the daemon during its leak check, say) proves nothing
oom_check() {
	grep -E 'invoked oom-killer|Out of memory' <<<"$1" >&2 || return 0
	echo "FAIL: the guest ran out of memory (above)" >&2
	return 1
}

# case_klog - the kernel log written since the current test case began
# (after the last "rprocd-test: ===" marker test_case writes to /dev/kmsg)
case_klog() {
	dmesg | awk '/rprocd-test: === / { n = 0; delete l; next } { l[n++] = $0 }
		END { for (i = 0; i < n; i++) print l[i] }'
}

# test_summary - print "N passed, N failed"; exit status 1 if any failed
test_summary() {
	local n
	# Reports of what ran after the last case (the daemon's final exit and
	# its leak check) and an OOM kill since then count too. (The test
	# kernels have no VM event counters: the kernel log, since the last
	# case's marker, is where an OOM kill shows.)
	if ! sanitizer_check || ! oom_check "$(case_klog)"; then
		_tests_failed=$((_tests_failed + 1))
		_failed_names+=("after the last case: sanitizer report or OOM kill")
	fi
	for n in "${_failed_names[@]}"; do
		echo "failed: $n"
	done
	echo "$_tests_passed passed, $_tests_failed failed"
	((_tests_failed == 0 && _tests_passed > 0))
}

# ---- rproc_sim ------------------------------------------------------------

# sim_load [PARAM=VALUE...] - (re)load rproc_sim with module parameters,
# e.g. sim_load names=a,b detached=0,1 boot_ms=200
sim_load() {
	[[ -n "$RPROC_SIM_KO" && -f "$RPROC_SIM_KO" ]] || die "RPROC_SIM_KO is not set or missing"
	sim_unload
	insmod "$RPROC_SIM_KO" "$@" || die "insmod rproc_sim $* failed"
}

# sim_unload - remove rproc_sim if it is loaded
sim_unload() {
	if [[ -d /sys/module/rproc_sim ]]; then
		rmmod rproc_sim || die "rmmod rproc_sim failed"
	fi
}

# sim_dev N - the platform device directory of instance N
sim_dev() {
	echo "$SIM_SYSFS/rproc_sim.$1"
}

# sim_rproc N - the remoteprocM sysname of instance N
sim_rproc() {
	local d
	for d in "$SIM_SYSFS/rproc_sim.$1"/remoteproc/remoteproc*; do
		[[ -e "$d" ]] || die "instance $1 of rproc_sim has no remoteproc device"
		echo "${d##*/}"
		return 0
	done
}

# sim_rproc_by_name NAME - sysnames of every core whose name attribute is NAME
sim_rproc_by_name() {
	local d
	for d in /sys/class/remoteproc/remoteproc*; do
		[[ "$(cat "$d/name" 2>/dev/null)" == "$1" ]] && echo "${d##*/}"
	done
	return 0
}

# sim_counters N [PREFIX] - set ${PREFIX}prepare, …load, …start, …stop,
# …attach, …detach from instance N's counters (PREFIX defaults to "cnt_")
sim_counters() {
	local prefix=${2:-cnt_} line kv
	read -r line <"$(sim_dev "$1")/counters" || die "cannot read counters of instance $1"
	for kv in $line; do
		printf -v "$prefix${kv%%=*}" '%s' "${kv#*=}"
	done
}

# sim_counter N NAME - one counter of instance N
sim_counter() {
	local line kv
	read -r line <"$(sim_dev "$1")/counters" || die "cannot read counters of instance $1"
	for kv in $line; do
		[[ "${kv%%=*}" == "$2" ]] && echo "${kv#*=}" && return 0
	done
	die "no counter $2"
}

# sim_hw_running N - 0 or 1
sim_hw_running() {
	cat "$(sim_dev "$1")/hw_running"
}

# sim_crash N [TYPE] - the simulated core crashes (TYPE 0 mmufault, 1 watchdog, 2 fatal)
sim_crash() {
	echo "${2:-1}" >"$(sim_dev "$1")/crash"
}

# sim_fail N OP ERRNO - the next OP (start, attach, stop, detach) fails with -ERRNO
sim_fail() {
	echo "$3" >"$(sim_dev "$1")/fail_$2"
}

# ---- remote processors --------------------------------------------------------

# rproc_core CORE - a sysname: remoteprocN as given, or the core of sim instance N
rproc_core() {
	if [[ "$1" =~ ^[0-9]+$ ]]; then
		sim_rproc "$1"
	else
		echo "$1"
	fi
}

# rproc_attr CORE ATTR - read a sysfs attribute (plain cat: checks only)
rproc_attr() {
	cat "/sys/class/remoteproc/$(rproc_core "$1")/$2"
}

# rproc_state CORE
rproc_state() {
	rproc_attr "$1" state
}

# wait_state CORE STATE [TIMEOUT_S] - poll until CORE is in STATE (default 10 s)
wait_state() {
	local core state deadline
	core=$(rproc_core "$1")
	deadline=$(($(date +%s%N) + ${3:-10} * 1000000000))
	while :; do
		state=$(cat "/sys/class/remoteproc/$core/state")
		[[ "$state" == "$2" ]] && return 0
		if (($(date +%s%N) > deadline)); then
			echo "wait_state: $core is '$state', not '$2' after ${3:-10} s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# assert_state CORE STATE - the state is STATE now
assert_state() {
	assert_eq "$(rproc_state "$1")" "$2" "state of $(rproc_core "$1")"
}

# assert_state_stays CORE STATE [MS] - and does not change for a while (default 500 ms)
assert_state_stays() {
	local i
	for ((i = 0; i <= ${3:-500} / 100; i++)); do
		assert_state "$1" "$2"
		sleep 0.1
	done
}

# probe ARGS... - run rproc-probe (the actions under test go through librproc)
probe() {
	[[ -n "$RPROC_PROBE" && -x "$RPROC_PROBE" ]] ||
		die "rproc-probe not found (set RPROCD_BUILD_DIR or RPROC_PROBE)"
	"$RPROC_PROBE" "$@"
}

# probe_ok ARGS... - rproc-probe must succeed
probe_ok() {
	local out rc=0
	out=$(probe "$@" 2>&1) || rc=$?
	((rc == 0)) || _assert_fail "rproc-probe $*: exit $rc: $out"
	[[ -z "$out" ]] || echo "$out"
}

# probe_err ERRNO ARGS... - rproc-probe must fail with ERRNO (its name, e.g. EBUSY)
probe_err() {
	local want=$1 out rc=0
	shift
	out=$(probe "$@" 2>/dev/null) || rc=$?
	((rc == 1)) || _assert_fail "rproc-probe $*: expected failure $want, got exit $rc ($out)"
	assert_eq "$out" "$want" "error of rproc-probe $*"
}

# cdev_hold CORE [--shutdown-on-release] [--start] - `rproc-probe hold-cdev`
# in the background, once it has said "ready"; its pid is in CDEV_HOLD_PID
cdev_hold() {
	local core out i
	core=$(rproc_core "$1")
	shift
	out=$(mktemp /tmp/cdev-hold.XXXXXX)
	[[ -n "$RPROC_PROBE" && -x "$RPROC_PROBE" ]] ||
		die "rproc-probe not found (set RPROCD_BUILD_DIR or RPROC_PROBE)"
	# The binary itself in the background (not the probe function, which
	# would run in a subshell), so that CDEV_HOLD_PID is the holder.
	"$RPROC_PROBE" hold-cdev "$core" "$@" >"$out" 2>&1 &
	CDEV_HOLD_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -qx ready "$out" && return 0
		kill -0 "$CDEV_HOLD_PID" 2>/dev/null ||
			_assert_fail "rproc-probe hold-cdev $core $* ended: $(cat "$out")"
		sleep 0.05
	done
	_assert_fail "rproc-probe hold-cdev $core $* not ready after 10 s"
}

# cdev_release [SIGNAL] - kill the holder (default SIGKILL) and reap it
cdev_release() {
	kill -"${1:-KILL}" "$CDEV_HOLD_PID"
	wait "$CDEV_HOLD_PID" 2>/dev/null || true
	CDEV_HOLD_PID=
}

# setup_core [SIM_PARAMS...] - one sim core "m4" (sysname in $r); an offline one gets fw64.elf
setup_core() {
	sim_load names=m4 "$@"
	r=$(sim_rproc 0)
	if [[ "$(rproc_state "$r")" == offline ]]; then
		fw_install fw64
		probe_ok write "$r" firmware fw64.elf
	fi
}

# ---- firmware ------------------------------------------------------------------

# fw_image NAME - path of a test firmware image (fw64, fw64-norsc, fw32,
# fw32-norsc, fw64-outside; see tests/firmware/build)
fw_image() {
	local f=$RPROC_TEST_FW_DIR/$1.elf
	[[ -f "$f" ]] || die "no test firmware $1 in '$RPROC_TEST_FW_DIR'"
	echo "$f"
}

# fw_install SRC [NAME] - copy a firmware file (a path, or a test image name)
# into /lib/firmware/NAME (default: its basename). The copy is written beside
# and renamed into place: a kernel load that runs meanwhile (rprocd booting a
# hotplugged core) sees the old file or the new one, never a file still open
# for writing, which the kernel refuses with ETXTBSY.
fw_install() {
	local src=$1
	[[ -f "$src" ]] || src=$(fw_image "$1") || exit 1
	local name=${2:-${src##*/}}
	local dst="/lib/firmware/$name"
	mkdir -p "$(dirname "$dst")"
	cp "$src" "$dst.tmp$$" && mv -f "$dst.tmp$$" "$dst" || die "cannot install $dst"
}

# ---- coredumps -----------------------------------------------------------------

# devcd_for CORE - the devcoredump directories whose failing_device is CORE
devcd_for() {
	local core d
	core=$(rproc_core "$1")
	for d in /sys/class/devcoredump/devcd*; do
		[[ -e "$d/failing_device" ]] || continue
		[[ "$(readlink -f "$d/failing_device")" == "$(readlink -f "/sys/class/remoteproc/$core")" ]] &&
			echo "$d"
	done
	return 0
}

# devcd_clear - free every pending devcoredump
devcd_clear() {
	local d
	for d in /sys/class/devcoredump/devcd*; do
		[[ -e "$d/data" ]] && echo 1 >"$d/data"
	done
	return 0
}

# ---- system bus ---------------------------------------------------------------

# bus_start - a real system bus: the host's dbus-daemon with its system
# configuration, so policy files in /usr/share/dbus-1/system.d and
# /etc/dbus-1/system.d apply
bus_start() {
	id messagebus >/dev/null 2>&1 || die "no messagebus user (install the dbus package)"
	mkdir -p /run/dbus /var/lib/dbus
	[[ -s /etc/machine-id ]] || dbus-uuidgen --ensure=/etc/machine-id
	rm -f /run/dbus/pid /run/dbus/system_bus_socket
	dbus-daemon --system --fork --print-pid=3 3>/run/dbus/rprocd-test.pid ||
		die "dbus-daemon --system failed"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -S /run/dbus/system_bus_socket ]] && return 0
		sleep 0.05
	done
	die "the system bus socket did not appear"
}

# bus_stop - stop the system bus started by bus_start
bus_stop() {
	local pid
	pid=$(cat /run/dbus/rprocd-test.pid 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	rm -f /run/dbus/rprocd-test.pid
}

# bus_reload - make dbus-daemon reread its configuration (new policy files)
bus_reload() {
	local pid
	pid=$(cat /run/dbus/rprocd-test.pid) || die "no system bus running"
	kill -HUP "$pid"
}

# ---- rprocd (placeholders: used once the daemon exists) ----------------------

RPROCD=${RPROCD:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/daemon/rprocd}}

# rprocd_start [ARGS...] - PLACEHOLDER until daemon/rprocd exists: start the
# daemon in the background (on the system bus, see bus_start), log in
# /run/rprocd-test.log, pid in /run/rprocd-test.pid
rprocd_start() {
	[[ -n "$RPROCD" && -x "$RPROCD" ]] || die "rprocd not built ($RPROCD)"
	"$RPROCD" "$@" >/run/rprocd-test.log 2>&1 &
	echo $! >/run/rprocd-test.pid
}

# rprocd_stop - PLACEHOLDER until daemon/rprocd exists: SIGTERM and wait (5 s)
rprocd_stop() {
	local pid i
	pid=$(cat /run/rprocd-test.pid 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f /run/rprocd-test.pid
}
