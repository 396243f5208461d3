#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocctl against the rprocd binary on the host: a private system bus, a
# fake sysfs tree under --root (as startup.sh), no kernel. Every command's
# JSON in both layouts through rprocctl_schema.py, the per-command help, the
# one prefix on standard error, the exit codes, show/is-running/is-ready,
# --no-legend, -q, colours, the pager, --no-block, the bash completion. The
# real kernel, ssh (-H) and slow boots are tests/vm/daemon/ctl.sh's.
set -euo pipefail
# shellcheck source=tests/host/lib-host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-host.sh"

RPROCD=${RPROCD:?path to the rprocd binary}
RPROCCTL=${RPROCCTL:?path to the rprocctl binary}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCHEMA="$here/rprocctl_schema.py"
XML_DIR="$here/../../systemd"
COMPLETION="$here/../../rprocctl/rprocctl.bash-completion"
for p in dbus-daemon busctl python3; do
	command -v "$p" >/dev/null || {
		echo "$p missing: skipped"
		exit 77
	}
done

tmp=$(mktemp -d /tmp/rprocctl-host-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# A cross build runs its programs under qemu-user (RPROCD_EXE_WRAPPER, docs/PORTING.md):
# scripts in $tmp/bin run the binaries the same way for everything here, the
# terminal, the pager and the completion included.
read -r -a wrap <<<"${RPROCD_EXE_WRAPPER:-}"
mkdir -p "$tmp/bin"
for p in rprocd:"$RPROCD" rprocctl:"$RPROCCTL"; do
	printf '#!/bin/sh\nexec %s %q "$@"\n' "${wrap[*]}" "${p#*:}" >"$tmp/bin/${p%%:*}"
	chmod +x "$tmp/bin/${p%%:*}"
done
RPROCD=$tmp/bin/rprocd
RPROCCTL=$tmp/bin/rprocctl

fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/rprocd.log" ] && sed 's/^/  rprocd: /' "$tmp/rprocd.log" >&2
	exit 1
}

# ctl ARGS... - rprocctl; its stdout in $tmp/out, stderr in $tmp/err, exit status in $rc
ctl() {
	rc=0
	"$RPROCCTL" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# expect_rc N WHAT - the last ctl exited N
expect_rc() {
	[ "$rc" = "$1" ] || fail "$2: exit $rc, expected $1 (stdout: $(cat "$tmp/out"), stderr: $(cat "$tmp/err"))"
}

# stderr_prefixed WHAT - every line on stderr of the last ctl starts with "rprocctl: "
stderr_prefixed() {
	if grep -qv '^rprocctl: ' "$tmp/err"; then
		fail "$1: a diagnostic without the prefix: $(grep -v '^rprocctl: ' "$tmp/err")"
	fi
}

# schema VERB MODE [ARGS…] - the last ctl's stdout is VERB's JSON in layout MODE
# (kept, and checked all at once by schema_check: one Python start, not forty)
mkdir -p "$tmp/json"
: >"$tmp/json/list"
schema() {
	local verb=$1 mode=$2 f
	shift 2
	f=$tmp/json/$(wc -l <"$tmp/json/list")
	cp "$tmp/out" "$f"
	echo "--mode $mode $* $verb $f" >>"$tmp/json/list"
}
schema_check() {
	python3 "$SCHEMA" --xml-dir "$XML_DIR" --batch "$tmp/json/list" || fail "not the JSON schema (above)"
}

# ---- a fake sysfs: core0 offline (configured), core1 running (not configured) ----
root=$tmp/root
fake_cores "$root" 2
echo running >"$root/sys/devices/platform/sim.1/remoteproc/remoteproc1/state"
mkdir -p "$root/etc/rprocd/cores/core0.core.d" "$root/lib/firmware"
printf 'opaque image' >"$root/lib/firmware/fw.bin"
cat >"$root/etc/rprocd/cores/core0.core" <<EOF
[Core]
Description=the first core
Firmware=fw.bin
FirmwareFormat=opaque
Start=no
RestartSec=1min 30s
CoredumpMaxUse=64M
StartLimitBurst=3
BindLifetime=yes
After=core1 other
X-Vendor=ignored
EOF
printf '[Core]\nUnknownKey=1\n' >"$root/etc/rprocd/cores/core0.core.d/10-extra.conf"
# a core whose configuration is broken: verify and cat report it
printf '[Core]\nStart=sometimes\n' >"$root/etc/rprocd/cores/broken.core"
# Not root (a package build): the calls that change something need AdminGroup=.
if [ "$(id -u)" != 0 ]; then
	printf '[Daemon]\nAdminGroup=%s\n' "$(id -gn)" >"$root/etc/rprocd/rprocd.conf"
fi

private_bus "$tmp" || fail "no private bus"
"$RPROCD" --root="$root" >"$tmp/rprocd.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
	busctl --system call org.rprocd1 /org/rprocd1 org.rprocd1.Manager ListCores >/dev/null 2>&1 && break
	sleep 0.05
done
# Neither colours nor a pager unless a case asks for them.
unset SYSTEMD_COLORS NO_COLOR SYSTEMD_PAGER PAGER SYSTEMD_PAGERSECURE
export TERM=dumb

# ---- help: per command, the same both ways, never the whole list ----------------
ctl --help
expect_rc 0 "--help"
cp "$tmp/out" "$tmp/global-help"
grep -q "^Commands:" "$tmp/global-help" || fail "--help lists no commands"
verbs=$(sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$tmp/global-help")
[ "$(wc -w <<<"$verbs")" -ge 19 ] || fail "--help lists only: $verbs"
for v in $verbs; do
	ctl "$v" --help
	expect_rc 0 "$v --help"
	cp "$tmp/out" "$tmp/verb-help"
	head -n1 "$tmp/verb-help" | grep -q "^rprocctl \[OPTIONS…\] $v" ||
		fail "$v --help does not start with its synopsis: $(head -n1 "$tmp/verb-help")"
	cmp -s "$tmp/verb-help" "$tmp/global-help" && fail "$v --help is the global help"
	ctl help "$v"
	expect_rc 0 "help $v"
	cmp -s "$tmp/out" "$tmp/verb-help" || fail "help $v differs from $v --help"
	[ "$v" = help ] && continue
	# the options each command takes, and only those
	case "$v" in
	show) grep -q -- "--value" "$tmp/verb-help" || fail "show --help lacks --value" ;;
	start) grep -q -- "--no-block" "$tmp/verb-help" || fail "start --help lacks --no-block" ;;
	list) grep -q -- "--no-legend" "$tmp/verb-help" || fail "list --help lacks --no-legend" ;;
	status) ! grep -q -- "--no-block" "$tmp/verb-help" || fail "status --help has --no-block" ;;
	esac
done
ctl help nosuch
expect_rc 2 "help nosuch"
stderr_prefixed "help nosuch"

# ---- JSON: every command, both layouts, the one schema ----------------------------
validate_files=("$root/lib/firmware/fw.bin")
for mode in short pretty; do
	ctl --json="$mode" list
	expect_rc 0 "list --json=$mode"
	schema list "$mode" --expect-n 2
	ctl --json="$mode" status core0 core1
	expect_rc 3 "status --json=$mode"
	schema status "$mode" --expect-n 2
	ctl --json="$mode" show core1
	expect_rc 0 "show --json=$mode"
	schema show "$mode" --expect-n 1
	ctl --json="$mode" show -p State,Channels,CrashCount core0 core1
	schema show "$mode" --partial --expect-n 2
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert [sorted(c) for c in d] == [["Channels","CrashCount","State"]]*2, d' "$tmp/out" ||
		fail "show -p --json: not only the properties named"
	ctl --json="$mode" show
	expect_rc 0 "show (manager) --json=$mode"
	schema show-manager "$mode"
	ctl --json="$mode" is-running core0 core1 nosuch
	expect_rc 4 "is-running --json=$mode"
	schema is-running "$mode" --expect-n 3
	ctl --json="$mode" is-ready core1
	expect_rc 0 "is-ready --json=$mode"
	schema is-ready "$mode" --expect-n 1
	ctl --json="$mode" reload
	expect_rc 0 "reload --json=$mode"
	schema reload "$mode"
	ctl --json="$mode" --root="$root" cat core0 broken
	expect_rc 1 "cat --json=$mode (broken is invalid)"
	schema cat "$mode" --expect-n 2
	ctl --json="$mode" --root="$root" verify
	expect_rc 1 "verify --json=$mode"
	schema verify "$mode"
	[ ! -s "$tmp/err" ] || fail "verify --json: diagnostics on stderr too: $(cat "$tmp/err")"
	ctl --json="$mode" validate --opaque "${validate_files[@]}" "$tmp/bus.conf"
	expect_rc 0 "validate --opaque --json=$mode"
	schema validate "$mode" --expect-n 2
	ctl --json="$mode" validate "${validate_files[@]}" "$tmp/none"
	expect_rc 1 "validate --json=$mode"
	schema validate "$mode" --expect-n 2
	ctl --json="$mode" logs core0
	expect_rc 0 "logs --json=$mode"
	schema logs "$mode"
done
# the typed values cat promises, and the defaults
ctl --json --root="$root" cat core0
python3 - "$tmp/out" <<'PY' || fail "cat --json: values"
import json, sys
c = json.load(open(sys.argv[1]))[0]
s = c["Settings"]
assert s["Core.RestartSec"]["Value"] == 90_000_000 and s["Core.RestartSec"]["Text"] == "1min 30s", s
assert s["Core.CoredumpMaxUse"]["Value"] == 64 << 20, s
assert s["Core.StartLimitBurst"]["Value"] == 3 and s["Core.StartLimitBurst"]["Line"] == 8, s
assert s["Core.BindLifetime"]["Value"] is True, s
assert s["Core.After"]["Value"] == ["core1", "other"], s
assert s["Core.Stop"] == {"Value": "shutdown", "Text": "shutdown", "File": None, "Line": None}, s
assert c["DropIns"] == ["/etc/rprocd/cores/core0.core.d/10-extra.conf"], c
assert any("UnknownKey" in d["Message"] and d["Level"] == "warning" for d in c["Diagnostics"]), c
PY
# an invalid rprocd.conf: cat --json says why it exits 1, on stderr
cp -a "$root" "$tmp/root-badconf"
printf '[Daemon]\nthis is not a line\n' >>"$tmp/root-badconf/etc/rprocd/rprocd.conf"
ctl --json --root="$tmp/root-badconf" cat core0
expect_rc 1 "cat --json with an invalid rprocd.conf"
grep -q '^rprocctl: /etc/rprocd/rprocd.conf:[0-9]*: error: ' "$tmp/err" ||
	fail "cat --json: rprocd.conf's error not said: $(cat "$tmp/err")"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/out" || fail "cat --json: not JSON"
# a long value is shown whole in cat's text
cp -a "$root" "$tmp/root-long"
long=$(printf 'x%.0s' $(seq 700))
printf '[Core]\nDescription=%s\n' "$long" >"$tmp/root-long/etc/rprocd/cores/core0.core.d/20-long.conf"
ctl --root="$tmp/root-long" cat core0
grep -q "^Description=$long  *# /etc/rprocd/cores/core0.core.d/20-long.conf:2$" "$tmp/out" ||
	fail "cat cut a long value: $(grep Description "$tmp/out" | cut -c1-80)…"
# --json=off is the text
ctl --json=off list
cp "$tmp/out" "$tmp/off"
ctl list
cmp -s "$tmp/out" "$tmp/off" || fail "--json=off is not the text output"
# monitor: one document per event
"$RPROCCTL" --json monitor >"$tmp/monitor" 2>"$tmp/monitor.err" &
mon=$!
pids+=("$mon")
for _ in $(seq 100); do grep -q Monitoring "$tmp/monitor.err" 2>/dev/null && break; sleep 0.05; done
ctl set-firmware core0 missing.bin
expect_rc 1 "set-firmware to a missing image"
for _ in $(seq 100); do grep -q LastError "$tmp/monitor" && break; sleep 0.05; done
kill "$mon"
cp "$tmp/monitor" "$tmp/out"
schema monitor short
schema_check
grep -q '"Core":"core0","Event":"changed","Changed":{' "$tmp/out" || fail "monitor: $(cat "$tmp/out")"

# ---- diagnostics: on stderr, one prefix, nothing on stdout -------------------------
check_diag() {
	local want=$1
	shift
	ctl "$@"
	expect_rc "$want" "$*"
	[ -s "$tmp/err" ] || fail "$*: nothing on stderr"
	stderr_prefixed "$*"
	[ ! -s "$tmp/out" ] || fail "$*: a diagnostic on stdout: $(cat "$tmp/out")"
}
check_diag 2 --no-such-option list
check_diag 2 -x list
check_diag 2 nosuchverb
check_diag 2 show -p
check_diag 2 --json=bad list
check_diag 2 --timeout=soon start core0
check_diag 2 reload extra
check_diag 2 set-firmware core0
check_diag 2 -H somewhere cat core0
check_diag 2 -H somewhere logs core0
check_diag 4 status nosuch
check_diag 4 show nosuch
check_diag 4 start nosuch
check_diag 4 --no-block stop nosuch
check_diag 4 wait nosuch
# with --timeout=, a core not there yet is waited for: 4 only once the time is up
t0=$(date +%s%N)
check_diag 4 wait --timeout=1s nosuch
(($(date +%s%N) - t0 >= 1000000000)) || fail "wait --timeout=1s nosuch did not wait"
grep -q 'no core named "nosuch" after the timeout' "$tmp/err" || fail "wait nosuch: $(cat "$tmp/err")"
check_diag 3 wait --timeout=1s core0
check_diag 4 wait --timeout=1s core0 nosuch # (4 outranks 3, as in status)
grep -q "core0 is offline after the timeout" "$tmp/err" || fail "wait core0 nosuch: $(cat "$tmp/err")"
check_diag 1 --no-block start core1
check_diag 1 set-firmware core0 ../escape
check_diag 4 --root="$root" cat nosuch
check_diag 1 validate "$tmp/none"
check_diag 2 validate --class=16 "$tmp/bus.conf"
ctl start nosuch
grep -q '^rprocctl: Failed to start nosuch: no core named "nosuch"$' "$tmp/err" ||
	fail "start nosuch: $(cat "$tmp/err")"
# verify and cat: what they find goes to stderr, the result to stdout
ctl --root="$root" verify
expect_rc 1 "verify"
stderr_prefixed "verify"
grep -q "broken.core:2: error: " "$tmp/err" || fail "verify: no error for broken: $(cat "$tmp/err")"
grep -q "core files: " "$tmp/out" || fail "verify: no summary: $(cat "$tmp/out")"
ctl -q --root="$root" verify
[ ! -s "$tmp/out" ] || fail "verify -q printed $(cat "$tmp/out")"
ctl --root="$root" cat core0
grep -q "^Description=the first core" "$tmp/out" || fail "cat: $(cat "$tmp/out")"
grep -q "10-extra.conf:2: warning: " "$tmp/err" || fail "cat: the warning is not on stderr"
stderr_prefixed "cat"
# the monitor's notice has the prefix; -q drops it
grep -q '^rprocctl: Monitoring' "$tmp/monitor.err" || fail "monitor's notice: $(cat "$tmp/monitor.err")"

# ---- show ---------------------------------------------------------------------------
ctl show -p State --value core1
[ "$(cat "$tmp/out")" = running ] || fail "show -p State --value: $(cat "$tmp/out")"
ctl show -p State --value core0 core1
[ "$(cat "$tmp/out")" = "$(printf 'offline\nrunning')" ] || fail "two cores: $(cat "$tmp/out")"
ctl show -p Description,State core1
[ "$(cat "$tmp/out")" = "$(printf 'Description=\nState=running')" ] ||
	fail "-p shows the empty ones it names: $(cat "$tmp/out")"
ctl show core1
grep -q "^Description=" "$tmp/out" && fail "show: an empty Description without --all"
grep -q "^Managed=no$" "$tmp/out" || fail "show: Managed=no missing: $(cat "$tmp/out")"
ctl show -a core1
grep -q "^Description=$" "$tmp/out" || fail "show -a: no empty Description"
ctl show
grep -q "^Version=" "$tmp/out" || fail "show: no Version: $(cat "$tmp/out")"
grep -Eq "^PollIntervalUSec=[0-9]+(ms|s|min)" "$tmp/out" || fail "show: PollIntervalUSec as a time span"

# ---- is-running, is-ready: exit codes, -q --------------------------------------------
is() { # WANT_RC ARGS...
	local want=$1
	shift
	ctl "$@"
	expect_rc "$want" "$*"
}
is 0 is-running core1
[ "$(cat "$tmp/out")" = running ] || fail "is-running prints the state"
is 3 is-running core0
[ "$(cat "$tmp/out")" = offline ] || fail "is-running prints the state"
is 3 is-running core1 core0
is 4 is-running core1 nosuch
[ "$(cat "$tmp/out")" = "$(printf 'running\nunknown')" ] || fail "is-running nosuch: $(cat "$tmp/out")"
is 4 is-running core0 nosuch
is 0 is-ready core1
[ "$(cat "$tmp/out")" = ready ] || fail "is-ready prints ready"
is 3 is-ready core0
[ "$(cat "$tmp/out")" = not-ready ] || fail "is-ready prints not-ready"
is 0 -q is-running core1
[ ! -s "$tmp/out" ] || fail "-q is-running printed"
is 3 --quiet is-ready core0 core1
[ ! -s "$tmp/out" ] || fail "-q is-ready printed"
# a core that does not exist is an answer: said without -q, not with it
is 4 is-running nosuch
grep -q '^rprocctl: .*nosuch' "$tmp/err" || fail "is-running nosuch says nothing on stderr"
is 4 -q is-running core1 nosuch
[ ! -s "$tmp/out" ] && [ ! -s "$tmp/err" ] || fail "-q is-running nosuch printed: $(cat "$tmp/out" "$tmp/err")"

# ---- --no-legend ---------------------------------------------------------------------
ctl list
grep -q "^CORE " "$tmp/out" || fail "list: no header"
grep -q "cores listed" "$tmp/out" || fail "list: no footer"
ctl --no-legend list
[ "$(wc -l <"$tmp/out")" = 2 ] || fail "--no-legend: $(cat "$tmp/out")"
[ "$(cut -d' ' -f1 "$tmp/out" | tr '\n' ' ')" = "core0 core1 " ] || fail "--no-legend: $(cat "$tmp/out")"
ctl --no-legend list 'core[1-9]'
[ "$(cut -d' ' -f1 "$tmp/out")" = core1 ] || fail "list PATTERN: $(cat "$tmp/out")"

# ---- colours -----------------------------------------------------------------------------
esc=$'\e['
ctl list
grep -qF "$esc" "$tmp/out" && fail "colours on a pipe"
SYSTEMD_COLORS=1 ctl list
grep -qF "${esc}0;1;32mrunning" "$tmp/out" || fail "SYSTEMD_COLORS=1: running not green"
SYSTEMD_COLORS=1 ctl status core1
grep -qF "${esc}0;1;32m●" "$tmp/out" || fail "SYSTEMD_COLORS=1: status dot not green"
SYSTEMD_COLORS=0 NO_COLOR='' ctl list
grep -qF "$esc" "$tmp/out" && fail "SYSTEMD_COLORS=0"
if command -v script >/dev/null; then
	# a terminal: colours unless NO_COLOR or SYSTEMD_COLORS=0 or TERM=dumb
	tty_run() { script -qec "$*" /dev/null </dev/null >"$tmp/out" 2>&1 || true; }
	tty_run "TERM=xterm $RPROCCTL --no-pager list"
	grep -qF "$esc" "$tmp/out" || fail "no colours on a terminal: $(cat -v "$tmp/out")"
	tty_run "TERM=xterm NO_COLOR=1 $RPROCCTL --no-pager list"
	grep -qF "$esc" "$tmp/out" && fail "NO_COLOR on a terminal: $(cat -v "$tmp/out")"
	tty_run "TERM=xterm SYSTEMD_COLORS=0 $RPROCCTL --no-pager list"
	grep -qF "$esc" "$tmp/out" && fail "SYSTEMD_COLORS=0 on a terminal"
	tty_run "TERM=dumb $RPROCCTL --no-pager list"
	grep -qF "$esc" "$tmp/out" && fail "TERM=dumb on a terminal"

	# ---- the pager -------------------------------------------------------------------
	fake=$tmp/fakebin
	mkdir -p "$fake"
	for p in mypager pager less more; do
		# shellcheck disable=SC2016 # $LESS… are the fake pager's
		printf '#!/bin/sh\necho "%s LESS=$LESS LESSSECURE=$LESSSECURE" >>%s\nsed "s/^/PAGED: /"\n' \
			"$p" "$tmp/paged" >"$fake/$p"
		chmod +x "$fake/$p"
	done
	paged() { # ARGS...: run on a terminal; $tmp/paged says who paged
		rm -f "$tmp/paged"
		tty_run "TERM=xterm PATH=$fake:\$PATH $*"
	}
	paged "SYSTEMD_PAGERSECURE=0 PAGER=mypager $RPROCCTL list"
	grep -q "^mypager " "$tmp/paged" 2>/dev/null || fail "\$PAGER with SYSTEMD_PAGERSECURE=0 not used"
	grep -q "^PAGED: core1" "$tmp/out" || fail "the output did not go through the pager: $(cat "$tmp/out")"
	grep -q "LESS=FRSXMK " "$tmp/paged" || fail "LESS is not FRSXMK: $(cat "$tmp/paged")"
	paged "SYSTEMD_PAGERSECURE=0 SYSTEMD_PAGER=mypager PAGER=more SYSTEMD_LESS=XY $RPROCCTL status core1"
	grep -q "^mypager LESS=XY LESSSECURE=$" "$tmp/paged" 2>/dev/null ||
		fail "\$SYSTEMD_PAGER, SYSTEMD_LESS: $(cat "$tmp/paged" 2>/dev/null)"
	# without $SYSTEMD_PAGERSECURE: $PAGER ignored; secure mode (less only) when this
	# user does not own a login session (a build or CI), else "pager" first
	paged "PAGER=mypager $RPROCCTL list"
	case "$(cut -d' ' -f1,3 "$tmp/paged" 2>/dev/null)" in
	"less LESSSECURE=1" | "pager LESSSECURE=") ;;
	*) fail "without SYSTEMD_PAGERSECURE: $(cat "$tmp/paged" 2>/dev/null)" ;;
	esac
	paged "SUDO_UID=1 PAGER=mypager $RPROCCTL list"
	[ "$(cut -d' ' -f1,3 "$tmp/paged" 2>/dev/null)" = "less LESSSECURE=1" ] ||
		fail "secure mode under sudo: $(cat "$tmp/paged" 2>/dev/null)"
	for off in "--no-pager list" "--json list" "-q is-running core1" "monitor --no-pager & sleep 1; kill \$!" \
		"wait core1" "show -p State --value core1 --no-pager"; do
		paged "SYSTEMD_PAGERSECURE=0 PAGER=mypager $RPROCCTL $off"
		case "$off" in
		--json*) [ -e "$tmp/paged" ] || fail "--json list on a terminal is paged too (as systemctl)" ;;
		*) [ ! -e "$tmp/paged" ] || fail "paged: $off" ;;
		esac
	done
	for off in "PAGER=cat" "PAGER=" "SYSTEMD_PAGER=cat PAGER=mypager"; do
		paged "SYSTEMD_PAGERSECURE=0 $off $RPROCCTL list"
		[ ! -e "$tmp/paged" ] || fail "paged with $off"
	done
	paged "SYSTEMD_PAGERSECURE=0 PAGER=mypager $RPROCCTL monitor & sleep 1; kill \$!"
	[ ! -e "$tmp/paged" ] || fail "monitor paged"
	# no pager, less or more at all: the built-in one copies the output and ends
	mkdir -p "$tmp/nopager"
	((${#wrap[@]} == 0)) || ln -sf "$(command -v "${wrap[0]}")" "$tmp/nopager/"
	for sec in "SUDO_UID=1" "SYSTEMD_PAGERSECURE=0"; do
		tty_run "TERM=xterm PATH=$tmp/nopager $sec $(command -v timeout) 20 $RPROCCTL list; echo rc=\$?"
		grep -q "core1" "$tmp/out" || fail "no pager ($sec): the list is lost: $(cat "$tmp/out")"
		grep -q "rc=0" "$tmp/out" || fail "no pager ($sec): $(cat "$tmp/out")"
	done
	# ... also with standard input closed (the pipe's read end is then fd 0)
	tty_run "TERM=xterm PATH=$tmp/nopager SUDO_UID=1 $(command -v timeout) 20 $RPROCCTL list <&-; echo rc=\$?"
	grep -q "core1" "$tmp/out" && grep -q "rc=0" "$tmp/out" ||
		fail "no pager, stdin closed: $(cat "$tmp/out")"
	# a $SYSTEMD_PAGER that does not exist: the built-in one, nothing lost
	tty_run "TERM=xterm SYSTEMD_PAGERSECURE=0 SYSTEMD_PAGER=nosuchpager $RPROCCTL list; echo rc=\$?"
	grep -q "core1" "$tmp/out" && grep -q "rc=0" "$tmp/out" ||
		fail "a missing \$SYSTEMD_PAGER lost the output: $(cat "$tmp/out")"
	# not a terminal: never
	rm -f "$tmp/paged"
	PATH=$fake:$PATH SYSTEMD_PAGERSECURE=0 PAGER=mypager TERM=xterm ctl list
	[ ! -e "$tmp/paged" ] || fail "paged without a terminal"
else
	# script(1) is in bsdutils, essential in Debian: its absence is a broken host
	fail "no script(1) (bsdutils): colours and the pager on a terminal cannot be tested"
fi

# ---- --no-block: rprocd has it when rprocctl returns; its outcome is in LastError -----
# (Here the start fails: BindLifetime= boots through /dev/remoteproc0, which the fake lacks.)
ctl show -p LastError --value core0
[[ "$(cat "$tmp/out")" == "firmware missing.bin"* ]] || fail "LastError before: $(cat "$tmp/out")"
ctl --no-block start core0
# The start fails at once here: rprocctl may already know it when it returns, and says so.
if [ "$rc" = 1 ]; then
	grep -q "^rprocctl: Failed to start core0: start: " "$tmp/err" ||
		fail "--no-block start, failed at once: $(cat "$tmp/err")"
else
	expect_rc 0 "--no-block start core0"
	if [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then fail "--no-block start printed: $(cat "$tmp/out" "$tmp/err")"; fi
fi
for _ in $(seq 100); do
	ctl show -p LastError --value core0
	[[ "$(cat "$tmp/out")" == start:* ]] && break
	sleep 0.05
done
[[ "$(cat "$tmp/out")" == start:* ]] || fail "--no-block start: rprocd did not try: $(cat "$tmp/out")"

# ---- bash completion -----------------------------------------------------------------
out=$(PATH=$tmp/bin:$PATH bash -c '
	. "$1"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _rprocctl; echo "${COMPREPLY[*]}"; }
	c rprocctl ""; c rprocctl is-r; c rprocctl status ""; c rprocctl --json = ""; c rprocctl show -p Sta
	c rprocctl --no-; c rprocctl help set' _ "$COMPLETION") || fail "completion: $out"
mapfile -t lines <<<"$out"
[[ "${lines[0]}" == "list status show is-running is-ready "* ]] || fail "completion of verbs: ${lines[0]}"
[ "${lines[1]}" = "is-running is-ready" ] || fail "completion: ${lines[1]}"
[ "${lines[2]}" = "core0 core1" ] || fail "completion of cores: ${lines[2]}"
[ "${lines[3]}" = "short pretty off" ] || fail "completion of --json=: ${lines[3]}"
[ "${lines[4]}" = "StartLimitHit StartPolicy State" ] || fail "completion of -p: ${lines[4]}"
[ "${lines[5]}" = "--no-pager --no-legend --no-block" ] || fail "completion of options: ${lines[5]}"
[ "${lines[6]}" = "set-firmware" ] || fail "completion of help: ${lines[6]}"
# "--json pretty" is no valid command line: after --json and a space come the commands
out=$(PATH=$tmp/bin:$PATH bash -c '. "$1"; COMP_WORDS=(rprocctl --json ""); COMP_CWORD=2; _rprocctl
	echo "${COMPREPLY[*]}"' _ "$COMPLETION") || fail "completion: $out"
[[ "$out" == "list status show "* ]] || fail "completion after --json and a space: $out"
# -H HOST, -H=HOST and --host=HOST (split at '=' by bash): the cores asked of HOST
mkdir -p "$tmp/fakectl"
printf '#!/bin/sh
[ "$1" = -H ] && echo "on-$2 x"
' >"$tmp/fakectl/rprocctl"
chmod +x "$tmp/fakectl/rprocctl"
out=$(PATH=$tmp/fakectl:$PATH bash -c '
	. "$1"
	c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _rprocctl; echo "${COMPREPLY[*]}"; }
	c rprocctl -H board status ""; c rprocctl --host = board status ""; c rprocctl --host board start ""' \
	_ "$COMPLETION") || fail "completion: $out"
[ "$out" = "$(printf 'on-board\non-board\non-board')" ] || fail "completion with -H: $out"

echo "rprocctl on the host: all passed"
