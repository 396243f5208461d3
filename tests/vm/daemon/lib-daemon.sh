# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers for the daemon suites (tests/vm/daemon/*.sh), on top of ../lib.sh:
# configuration files, the bus policy, rprocd with a real sd_notify socket,
# and the D-Bus clients (busctl, rprocctl) as users run them.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RPROCCTL=${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/rprocctl/rprocctl}
NOTIFY_LOG=/run/rprocd-notify.log

# core_conf NAME TEXT - write /etc/rprocd/cores/NAME.core
core_conf() {
	mkdir -p /etc/rprocd/cores
	printf '%s\n' "$2" >"/etc/rprocd/cores/$1.core"
}

# daemon_conf LINES - /etc/rprocd/rprocd.conf with LINES in [Daemon]
daemon_conf() {
	mkdir -p /etc/rprocd
	printf '[Daemon]\n%s\n' "$1" >/etc/rprocd/rprocd.conf
}

# daemon_reset - no daemon, no configuration, no module, no dumps: a clean slate.
# Under a sanitizer or valgrind (RPROCD_RESET_SIGNAL=TERM) the daemon exits
# cleanly, so that its leak check runs.
daemon_reset() {
	rprocd_kill "${RPROCD_RESET_SIGNAL:-KILL}"
	sim_unload
	rm -rf /etc/rprocd /run/rprocd /var/lib/rprocd
	: >"$NOTIFY_LOG"
	: >/run/rprocd-test.log
}

# bus_up - the system bus with rprocd's policy installed (idempotent)
bus_up() {
	mkdir -p /usr/share/dbus-1/system.d
	cp "$RPROCD_SOURCE_DIR/systemd/org.rprocd1.conf" /usr/share/dbus-1/system.d/
	if [[ ! -S /run/dbus/system_bus_socket ]]; then
		bus_start
	else
		bus_reload
		sleep 0.2
	fi
}

# A datagram socket that records what rprocd sends with sd_notify().
_notify_listener() {
	python3 - "$1" "$NOTIFY_LOG" <<'PY' &
import socket, sys, os
path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as f:
    while True:
        data = s.recv(65536).decode(errors="replace")
        for line in data.split("\n"):
            f.write(line + "\n")
PY
	echo $! >/run/rprocd-notify.pid
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -S "$1" ]] && return 0
		sleep 0.02
	done
	die "notify listener did not start"
}

# One listener serves the whole script (test cases run in subshells).
_notify_ensure() {
	local pid
	pid=$(cat /run/rprocd-notify.pid 2>/dev/null) && alive "$pid" && return 0
	rm -f "$1"
	_notify_listener "$1"
}

# rprocd_up [ARGS...] - start rprocd (console log in /run/rprocd-test.log) and
# wait for READY=1 (10 s). RPROCD_UP_START_NS holds when it was started.
rprocd_up() {
	[[ -n "$RPROCD" && -x "$RPROCD" ]] || die "rprocd not built ($RPROCD)"
	bus_up
	_notify_ensure /run/rprocd-test-notify.sock
	: >"$NOTIFY_LOG"
	RPROCD_UP_START_NS=$(date +%s%N)
	NOTIFY_SOCKET=/run/rprocd-test-notify.sock RPROCD_LOG_TARGET=console \
		"${RPROCD_WRAP[@]}" "$RPROCD" "$@" >>/run/rprocd-test.log 2>&1 &
	echo $! >/run/rprocd-test.pid
	disown
	wait_notify READY=1 "$RPROCD_UP_TIMEOUT"
}

# RPROCD_WRAPPER=valgrind runs the daemon under memcheck (slow: more time to
# get ready); its log goes where sanitizer_check looks.
RPROCD_WRAP=()
RPROCD_UP_TIMEOUT=${RPROCD_UP_TIMEOUT:-10}
if [[ "${RPROCD_WRAPPER:-}" == valgrind ]]; then
	RPROCD_WRAP=(valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --track-fds=no
		"--log-file=$SANITIZER_DIR/valgrind.%p")
	RPROCD_UP_TIMEOUT=120
fi

# wait_notify LINE [TIMEOUT_S] - rprocd sent LINE through sd_notify
wait_notify() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		grep -qx "$1" "$NOTIFY_LOG" 2>/dev/null && return 0
		if ! alive "$(cat /run/rprocd-test.pid 2>/dev/null)"; then
			echo "--- rprocd log" >&2
			cat /run/rprocd-test.log >&2
			_assert_fail "rprocd exited before sending $1"
		fi
		sleep 0.05
	done
	echo "--- rprocd log" >&2
	cat /run/rprocd-test.log >&2
	_assert_fail "rprocd did not send $1 within ${2:-10} s"
}

# alive PID - the process exists and is not a zombie
alive() {
	[[ -r /proc/$1/stat ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# rprocd_kill [SIGNAL] - end rprocd (default SIGKILL: no OnExit=) and wait until it is gone
rprocd_kill() {
	local pid i
	pid=$(cat /run/rprocd-test.pid 2>/dev/null) || return 0
	kill -"${1:-KILL}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 1200; i++)); do
		alive "$pid" || break
		sleep 0.05
	done
	alive "$pid" && _assert_fail "rprocd ($pid) did not exit after SIG${1:-KILL}"
	rm -f /run/rprocd-test.pid
}

# rprocd_log - what the daemon printed
rprocd_log() {
	cat /run/rprocd-test.log 2>/dev/null
}

# prop CORE PROPERTY - a core property through busctl, value only ("running", 3, true)
prop() {
	local path
	path=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager GetCore s "$1" | cut -d'"' -f2) ||
		return 1
	busctl get-property org.rprocd1 "$path" org.rprocd1.Core "$2" | sed -E 's/^[a-z]+ //; s/^"(.*)"$/\1/'
}

# wait_prop CORE PROPERTY VALUE [TIMEOUT_S] - poll a property through busctl
wait_prop() {
	local i v
	for ((i = 0; i < ${4:-10} * 4; i++)); do
		v=$(prop "$1" "$2" 2>/dev/null) || true
		[[ "$v" == "$3" ]] && return 0
		sleep 0.25
	done
	_assert_fail "$1 $2 is '$v', not '$3' after ${4:-10} s"
}

# core_call CORE METHOD [SIGNATURE ARGS...] - call a method; prints the error name on failure
core_call() {
	local core=$1 method=$2 path out
	shift 2
	path=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager GetCore s "$core" | cut -d'"' -f2) ||
		return 1
	busctl call org.rprocd1 "$path" org.rprocd1.Core "$method" "$@"
}

# rprocctl ARGS... - the client as users run it
rprocctl() {
	[[ -n "$RPROCCTL" && -x "$RPROCCTL" ]] || die "rprocctl not built"
	"$RPROCCTL" "$@"
}

# dbus_error CORE METHOD [TYPE:VALUE] - call through dbus-send and print the
# D-Bus error name ("ok" when the call succeeded)
dbus_error() {
	local core=$1 method=$2 path out
	shift 2
	path=$(busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager GetCore s "$core" | cut -d'"' -f2)
	out=$(dbus-send --system --print-reply --reply-timeout=30000 --dest=org.rprocd1 "$path" \
		"org.rprocd1.Core.$method" "$@" 2>&1) && { echo ok; return 0; }
	echo "$out" | sed -nE 's/^Error ([A-Za-z0-9_.]+):.*/\1/p' | head -n1
}

# manager_error METHOD [TYPE:VALUE] - the same for the manager object
manager_error() {
	local method=$1 out
	shift
	out=$(dbus-send --system --print-reply --reply-timeout=30000 --dest=org.rprocd1 /org/rprocd1 \
		"org.rprocd1.Manager.$method" "$@" 2>&1) && { echo ok; return 0; }
	echo "$out" | sed -nE 's/^Error ([A-Za-z0-9_.]+):.*/\1/p' | head -n1
}

# two_booted_cores [SIM_PARAMS...] - cores "a" and "b" booted from fw.elf by rprocd
two_booted_cores() {
	sim_load names=a,b "$@"
	fw_install fw64 fw.elf
	core_conf a "[Core]
Firmware=fw.elf"
	core_conf b "[Core]
Firmware=fw.elf"
	rprocd_up
}

# The suite's arguments, if any: the names of the only cases to run.
RUN_ONLY=" $* "

# run_cases CASE... - each case on a clean slate (daemon_reset), then the summary
run_cases() {
	local t
	for t in "$@"; do
		[[ $RUN_ONLY == "  " || $RUN_ONLY == *" $t "* ]] || continue
		daemon_reset
		test_case "$t" "$t"
	done
	daemon_reset
	test_summary
}
