#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocctl against the real rprocd on the real kernel (issue 16): every
# command with --json=short and --json=pretty, parsed by Python and checked
# against the one schema (../../host/rprocctl_schema.py: types from the
# interface XML, the layout Python's json module gives); per-command help;
# diagnostics only on stderr, each line "rprocctl: "; show -p --value;
# is-running and is-ready exit codes; --no-legend and -q; colours
# (NO_COLOR, SYSTEMD_COLORS, a terminal through script(1)); the pager (never
# off a terminal, a fake $PAGER on one); calls without a time limit and
# --no-block on a slow boot; the kernel's errno; the methods by name (or
# the fallback on this rprocd); -H root@localhost through a real sshd; the
# bash completion against the live daemon. The host test
# (tests/host/rprocctl.sh) covers the same rules without a kernel.
# shellcheck source=tests/vm/daemon/lib-daemon.sh disable=SC2154
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

SCHEMA=$RPROCD_SOURCE_DIR/tests/host/rprocctl_schema.py
XML_DIR=$RPROCD_SOURCE_DIR/systemd
COMPLETION=$RPROCD_SOURCE_DIR/rprocctl/rprocctl.bash-completion
# Under TCG every exec costs tens of milliseconds: the helpers use builtins.
CTL_DIR=/run/ctl
CTL_N=0
OUT=$CTL_DIR/none
ERR=$CTL_DIR/err

# ctl ARGS... - rprocctl: stdout in $OUT (a new file each time, kept for
# schema), stderr in $ERR, exit status in $rc
ctl() {
	[[ -d "$CTL_DIR" ]] || mkdir -p "$CTL_DIR"
	CTL_N=$((CTL_N + 1))
	OUT=$CTL_DIR/out.$CTL_N
	rc=0
	"$RPROCCTL" "$@" >"$OUT" 2>"$ERR" || rc=$?
}

# out, err - what the last ctl printed
out() {
	printf '%s' "$(<"$OUT")"
}
err() {
	printf '%s' "$(<"$ERR")"
}

# expect_rc N WHAT - the last ctl exited N
expect_rc() {
	[[ "$rc" == "$1" ]] ||
		_assert_fail "$2: exit $rc, expected $1 (stdout: $(out); stderr: $(err))"
}

# stderr_prefixed WHAT - every line the last ctl wrote to stderr starts with "rprocctl: "
stderr_prefixed() {
	local line
	while IFS= read -r line; do
		[[ "$line" == "rprocctl: "* ]] || _assert_fail "$1: a diagnostic without the prefix: $line"
	done <"$ERR"
}

# schema VERB MODE [ARGS…] - the last ctl's stdout is to be checked as VERB's JSON by schema_check
schema() {
	local verb=$1 mode=$2
	shift 2
	echo "--mode $mode $* $verb $OUT" >>"$CTL_DIR/schema"
}

# schema_check - every output schema named is VERB's JSON (one Python run)
schema_check() {
	local o
	o=$(python3 "$SCHEMA" --xml-dir "$XML_DIR" --batch "$CTL_DIR/schema" 2>&1) ||
		_assert_fail "not the JSON schema: $o"
	: >"$CTL_DIR/schema"
}

# tty_run CMD - CMD (a shell line) on a terminal (script(1)); what it printed in $OUT
tty_run() {
	[[ -d "$CTL_DIR" ]] || mkdir -p "$CTL_DIR"
	CTL_N=$((CTL_N + 1))
	OUT=$CTL_DIR/tty.$CTL_N
	# (a hang fails the case, not the whole suite)
	timeout 60 script -qec "$1" /dev/null </dev/null >"$OUT" 2>&1 || true
}

# m4 (booted from fw64-rpmsg.elf, its rpmsg-tty channel announced, ready) and
# dsp (detached by the bootloader, attached by rprocd). Extra lines of
# m4.core: $M4_EXTRA.
two_cores() {
	sim_load names=m4,dsp detached=0,1 channels=rpmsg-tty
	fw_install fw64-rpmsg m4.elf
	core_conf m4 "[Core]
Description=the M4
Firmware=m4.elf
ReadyWhen=rpmsg-tty
RestartSec=1min 30s
StartLimitBurst=4
${M4_EXTRA:-}"
	core_conf dsp "[Core]
Start=attach
After=m4"
	rprocd_up
}

# ---- every command, both layouts, the one schema ---------------------------------

test_json_every_command() {
	local mode mon
	# A real journal for `logs` (the plain guest has none): journald on cgroup2.
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mkdir -p /run/systemd/journal
	if [[ ! -S /run/systemd/journal/socket ]]; then
		/lib/systemd/systemd-journald >/run/journald.log 2>&1 &
		disown
	fi
	two_cores
	for ((i = 0; i < 100; i++)); do [[ -S /run/systemd/journal/socket ]] && break; sleep 0.1; done
	logger --journald <<EOF || _assert_fail "logger --journald failed: $(cat /run/journald.log)"
MESSAGE=rproc_sim m4: a line "quoted" and a tab	here
RPROC_CORE=m4
RPROC_SOURCE=firmware
EOF
	for ((i = 0; i < 50; i++)); do
		[[ -n "$("$RPROCCTL" logs m4)" ]] && break
		sleep 0.1
	done
	"$RPROCCTL" --json monitor >/run/monitor.json 2>/run/monitor.err &
	mon=$!
	for ((i = 0; i < 100; i++)); do grep -q Monitoring /run/monitor.err && break; sleep 0.05; done
	fw_install fw64 fw64.elf
	head -c 100 /lib/firmware/fw64.elf >/lib/firmware/bad.elf
	for mode in short pretty; do
		ctl --json="$mode" list
		expect_rc 0 "list --json=$mode"
		schema list "$mode" --expect-n 2
		ctl --json="$mode" status m4 dsp
		expect_rc 0 "status --json=$mode"
		schema status "$mode" --expect-n 2
		ctl --json="$mode" show m4
		expect_rc 0 "show --json=$mode"
		schema show "$mode" --expect-n 1
		ctl --json="$mode" show -p State,Channels,Ready,CrashCount m4 dsp
		schema show "$mode" --partial --expect-n 2
		ctl --json="$mode" show
		expect_rc 0 "show --json=$mode (rprocd's)"
		schema show-manager "$mode"
		ctl --json="$mode" is-running m4 dsp
		expect_rc 0 "is-running --json=$mode"
		schema is-running "$mode" --expect-n 2
		ctl --json="$mode" is-ready m4 ghost
		expect_rc 4 "is-ready --json=$mode"
		schema is-ready "$mode" --expect-n 2
		ctl --json="$mode" reload
		expect_rc 0 "reload --json=$mode"
		schema reload "$mode"
		ctl --json="$mode" cat m4 dsp
		expect_rc 0 "cat --json=$mode"
		schema cat "$mode" --expect-n 2
		ctl --json="$mode" verify
		expect_rc 0 "verify --json=$mode"
		schema verify "$mode"
		ctl --json="$mode" validate /lib/firmware/fw64.elf /lib/firmware/m4.elf /lib/firmware/bad.elf
		expect_rc 1 "validate --json=$mode"
		schema validate "$mode" --expect-n 3
		ctl --json="$mode" logs m4
		expect_rc 0 "logs --json=$mode"
		schema logs "$mode" --expect-n 1
	done
	# the commands that print nothing print nothing (and monitor sees the restart)
	for cmd in "set-firmware m4 m4.elf" "restart m4" "wait --ready m4 dsp"; do
		# shellcheck disable=SC2086 # the words of cmd
		ctl --json $cmd
		[[ "$cmd" == set-firmware* ]] || expect_rc 0 "$cmd --json"
		[[ ! -s "$OUT" ]] || _assert_fail "$cmd --json printed: $(out)"
	done
	# monitor saw the restarts: one document per line
	for ((i = 0; i < 100; i++)); do grep -q '"Ready":true' /run/monitor.json && break; sleep 0.05; done
	kill "$mon"
	OUT=/run/monitor.json
	schema monitor short
	schema_check
	# and the values are the real ones, typed
	"$RPROCCTL" --json status m4 dsp >/run/status.json
	"$RPROCCTL" --json=pretty cat m4 >/run/cat.json
	"$RPROCCTL" --json validate /lib/firmware/fw64.elf /lib/firmware/bad.elf >/run/validate.json ||
		true # bad.elf: exit 1
	python3 - /run/status.json /run/cat.json /run/validate.json /run/monitor.json <<'PY' ||
import json, sys
m4, dsp = json.load(open(sys.argv[1]))
assert m4["State"] == "running" and m4["Origin"] == "booted" and m4["Ready"] is True, m4
assert m4["Description"] == "the M4" and m4["Managed"] is True, m4
assert m4["CrashCount"] == 0 and isinstance(m4["CrashCount"], int), m4
tty = [c for c in m4["Channels"] if c["Name"] == "rpmsg-tty"]
assert tty and tty[0]["Node"].startswith("/dev/ttyRPMSG") and tty[0]["LocalAddress"] == 1024, m4
assert dsp["State"] == "attached" and dsp["Origin"] == "attached", dsp
s = json.load(open(sys.argv[2]))[0]["Settings"]
assert s["Core.RestartSec"] == {"Value": 90000000, "Text": "1min 30s",
                                "File": "/etc/rprocd/cores/m4.core", "Line": 5}, s
assert s["Core.StartLimitBurst"]["Value"] == 4 and s["Core.ReadyWhen"]["Value"] == ["rpmsg-tty"], s
assert s["Core.Stop"]["File"] is None and s["Core.Stop"]["Line"] is None, s
good, bad = json.load(open(sys.argv[3]))
assert good["Valid"] is True and good["Class"] == 64 and good["Format"] == "elf", good
assert good["ResourceTable"] is True and len(good["BuildId"]) == 40, good
assert bad["Valid"] is False and bad["Error"].endswith("-outside-file"), bad
events = [json.loads(l) for l in open(sys.argv[4])]
states = [e["Changed"]["State"] for e in events if "State" in e.get("Changed", {})]
assert "offline" in states and "running" in states, events
PY
		_assert_fail "the JSON values (above)"
	# --json=off is the text
	ctl --json=off status m4
	local off
	off=$(out)
	ctl status m4
	[[ "$(out)" == "$off" ]] || _assert_fail "--json=off is not the text"
	assert_contains "$(out)" "State: running (booted)" "status text"
}

# ---- help, diagnostics ------------------------------------------------------------------

test_help_and_diagnostics() {
	local v verbs
	two_cores
	local help first verb_help n=0
	ctl --help
	help=$(out)
	verbs=$(sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p' "$OUT")
	for v in $verbs; do
		n=$((n + 1))
		ctl "$v" --help
		expect_rc 0 "$v --help"
		verb_help=$(out)
		read -r first <"$OUT"
		assert_match "$first" "^rprocctl \[OPTIONS…\] $v( |$)" "$v --help: its synopsis"
		[[ "$verb_help" != "$help" ]] || _assert_fail "$v --help is the global help"
		ctl help "$v"
		[[ "$(out)" == "$verb_help" ]] || _assert_fail "help $v is not $v --help"
	done
	((n >= 20)) || _assert_fail "--help lists only: $verbs"
	# failures: something on stderr, every line with the prefix, nothing on stdout
	check_diag() {
		local want=$1
		shift
		ctl "$@"
		expect_rc "$want" "$*"
		[[ -s "$ERR" ]] || _assert_fail "$*: nothing on stderr"
		stderr_prefixed "$*"
		[[ ! -s "$OUT" ]] || _assert_fail "$*: on stdout: $(out)"
	}
	check_diag 2 --bogus list
	check_diag 2 -Z status m4
	check_diag 2 frobnicate
	check_diag 2 --json=tree list
	check_diag 2 set-firmware m4
	check_diag 2 monitor extra
	check_diag 2 -H root@localhost verify
	for v in status show start stop restart attach detach recover wait; do
		check_diag 4 "$v" ghost
	done
	check_diag 4 set-firmware ghost m4.elf
	check_diag 4 --no-block start ghost
	check_diag 1 set-firmware m4 ../../etc/shadow
	check_diag 1 validate /nonexistent.elf
	check_diag 4 cat ghost
	check_diag 1 attach m4
	assert_contains "$(err)" "rprocctl: Failed to attach m4: " "the action and the core in the message"
	# verify's findings go to stderr, its summary to stdout
	core_conf bad "[Core]
OnCrash=sometimes
Firmware=../../etc/shadow"
	ctl verify
	expect_rc 1 "verify with a broken file"
	stderr_prefixed "verify"
	assert_contains "$(err)" "rprocctl: /etc/rprocd/cores/bad.core:2: warning: " "verify's warning"
	assert_contains "$(err)" "rprocctl: /etc/rprocd/cores/bad.core:3: error: " "verify's error"
	assert_contains "$(out)" "bad: /etc/rprocd/cores/bad.core: not managed" "verify's line for bad"
	assert_match "$(out)" "3 core files: 2 managed, 1 not managed, .*; 1 errors, 1 warnings" \
		"verify's summary"
	ctl -q verify
	expect_rc 1 "verify -q"
	[[ ! -s "$OUT" ]] || _assert_fail "verify -q printed: $(out)"
}

# ---- show, is-running, is-ready, --no-legend, -q ----------------------------------------

test_show_is_legend_quiet() {
	two_cores
	ctl show -p State --value m4
	assert_eq "$(out)" running "show -p State --value m4"
	ctl show -p State,Origin --value m4 dsp
	assert_eq "$(out)" "$(printf 'running\nbooted\nattached\nattached')" "two properties, two cores"
	ctl show -p Description,FallbackReason m4
	assert_eq "$(out)" "$(printf 'Description=the M4\nFallbackReason=')" "-p names an empty one"
	ctl show m4
	assert_not_contains "$(out)" "FallbackReason=" "show leaves out the empty ones"
	assert_contains "$(out)" "CrashCount=0" "show m4"
	ctl show -a m4
	assert_contains "$(out)" "FallbackReason=" "show -a"
	ctl show -p NCores --value
	assert_eq "$(out)" 2 "rprocd's NCores"
	# is-running, is-ready: 0 all, 3 one is not, 4 one does not exist
	ctl is-running m4 dsp
	expect_rc 0 "is-running m4 dsp"
	assert_eq "$(out)" "$(printf 'running\nattached')" "is-running prints the states"
	ctl is-ready m4
	expect_rc 0 "is-ready m4"
	assert_eq "$(out)" ready "is-ready m4"
	ctl is-ready m4 dsp
	expect_rc 0 "is-ready dsp (no ReadyWhen=: up is ready)"
	# running, not ready: its channel withdrawn
	echo "destroy rpmsg-tty" >"$(sim_dev 0)/rpmsg"
	wait_prop m4 Ready false 30
	ctl is-running m4
	expect_rc 0 "is-running of a running core that is not ready"
	ctl is-ready m4 dsp
	expect_rc 3 "is-ready of a core that is not ready"
	assert_eq "$(out)" "$(printf 'not-ready\nready')" "is-ready's words"
	ctl -q is-ready m4
	expect_rc 3 "is-ready -q"
	[[ ! -s "$OUT" && ! -s "$ERR" ]] || _assert_fail "is-ready -q printed: $(out) $(err)"
	assert_success "$RPROCCTL" stop dsp
	ctl is-running m4 dsp
	expect_rc 3 "is-running with dsp down"
	ctl is-running m4 dsp ghost
	expect_rc 4 "is-running with a core that does not exist"
	assert_eq "$(out)" "$(printf 'running\noffline\nunknown')" "is-running ghost"
	stderr_prefixed "is-running ghost"
	ctl --quiet is-running m4
	expect_rc 0 "is-running -q"
	[[ ! -s "$OUT" ]] || _assert_fail "is-running -q printed"
	ctl -q is-running m4 ghost
	expect_rc 4 "is-running -q with a core that does not exist"
	[[ ! -s "$OUT" && ! -s "$ERR" ]] || _assert_fail "is-running -q ghost printed: $(out) $(err)"
	# --no-legend: one line per core, no header, no footer
	ctl list
	assert_match "$(head -n1 "$OUT")" "^CORE +STATE +MANAGED +KERNEL NAME" "list's header"
	assert_contains "$(out)" "2 cores listed." "list's footer"
	ctl --no-legend list
	assert_eq "$(awk '{ print $1, $2, $3 }' "$OUT")" "$(printf 'm4 running yes\ndsp offline yes')" \
		"--no-legend"
	ctl --no-legend list 'd*'
	assert_eq "$(awk '{ print $1 }' "$OUT")" dsp "list PATTERN"
	# -q: monitor's notice
	"$RPROCCTL" -q monitor >/dev/null 2>/run/mon.err &
	local mon=$!
	sleep 1
	kill "$mon"
	[[ ! -s /run/mon.err ]] || _assert_fail "monitor -q: $(cat /run/mon.err)"
}

# ---- colours and the pager ------------------------------------------------------------

test_colors_and_pager() {
	local esc=$'\e[' fake=/run/fakebin p
	M4_EXTRA=OnCrash=leave two_cores
	# not a terminal (and TERM=dumb here): no colours, no pager
	ctl status m4
	[[ "$(out)" != *"$esc"* ]] || _assert_fail "colours on a pipe"
	SYSTEMD_COLORS=1 ctl status m4
	assert_contains "$(out)" "${esc}0;1;32m●" "SYSTEMD_COLORS=1: the dot green"
	assert_contains "$(out)" "State: ${esc}0;1;32mrunning" "SYSTEMD_COLORS=1: running green"
	SYSTEMD_COLORS=1 ctl list
	assert_contains "$(out)" "${esc}0;1;32mrunning" "list: running green"
	SYSTEMD_COLORS=1 NO_COLOR=1 ctl list
	assert_contains "$(out)" "$esc" "SYSTEMD_COLORS outranks NO_COLOR"
	# a terminal
	tty_run "TERM=xterm $RPROCCTL --no-pager list"
	assert_contains "$(out)" "${esc}0;1;32mrunning" "colours on a terminal"
	tty_run "TERM=xterm NO_COLOR=1 $RPROCCTL --no-pager list"
	[[ "$(out)" != *"$esc"* ]] || _assert_fail "NO_COLOR on a terminal: $(cat -v "$OUT")"
	tty_run "TERM=xterm SYSTEMD_COLORS=no $RPROCCTL --no-pager status m4"
	[[ "$(out)" != *"$esc"* ]] || _assert_fail "SYSTEMD_COLORS=no on a terminal"
	tty_run "$RPROCCTL --no-pager list"
	[[ "$(out)" != *"$esc"* ]] || _assert_fail "TERM=dumb on a terminal: $(cat -v "$OUT")"
	# fake pagers, first in PATH: each says who it is and how it was called
	mkdir -p "$fake"
	for p in mypager pager less more; do
		# shellcheck disable=SC2016 # the fake pager's variables
		printf '#!/bin/sh\necho "%s LESS=$LESS LESSSECURE=$LESSSECURE" >>/run/paged\nsed "s/^/PAGED: /"\n' \
			"$p" >"$fake/$p"
		chmod +x "$fake/$p"
	done
	paged() {
		rm -f /run/paged
		tty_run "TERM=xterm PATH=$fake:\$PATH $1"
	}
	paged "SYSTEMD_PAGERSECURE=0 PAGER=mypager $RPROCCTL status m4"
	assert_eq "$(cat /run/paged 2>/dev/null)" "mypager LESS=FRSXMK LESSSECURE=" "\$PAGER on a terminal (LESSSECURE unset)"
	assert_contains "$(out)" "PAGED: " "the output went through the pager"
	# without $SYSTEMD_PAGERSECURE (and no login session here): secure, less only
	paged "PAGER=mypager $RPROCCTL list"
	assert_eq "$(cat /run/paged 2>/dev/null)" "less LESS=FRSXMK LESSSECURE=1" "secure mode"
	for p in "--no-pager list" "wait --timeout=10s dsp" "-q is-running m4" "start m4" \
		"logs -f m4 & sleep 1; kill \$!" \
		"monitor & sleep 1; kill \$!"; do
		paged "SYSTEMD_PAGERSECURE=0 PAGER=mypager $RPROCCTL $p"
		[[ ! -e /run/paged ]] || _assert_fail "paged: rprocctl $p"
	done
	paged "SYSTEMD_PAGERSECURE=0 PAGER=cat $RPROCCTL list"
	[[ ! -e /run/paged ]] || _assert_fail "paged with PAGER=cat"
	rm -f /run/paged
	PATH=$fake:$PATH SYSTEMD_PAGERSECURE=0 PAGER=mypager TERM=xterm ctl status m4
	[[ ! -e /run/paged ]] || _assert_fail "paged without a terminal"
	# a crashed core is red (OnCrash=leave: it stays crashed)
	sim_crash 0
	wait_prop m4 State crashed 30
	SYSTEMD_COLORS=1 ctl status m4
	assert_contains "$(out)" "${esc}0;1;31m×" "crashed: the cross red"
	assert_contains "$(out)" "State: ${esc}0;1;31mcrashed" "crashed: the state red"
}

# ---- no time limit, --timeout=, --no-block on a slow boot ----------------------------------

test_slow_boot_timeouts_no_block() {
	local t0 ms
	sim_load names=m4 boot_ms=4000
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
Start=no"
	rprocd_up
	# sd-bus's default limit (here 1 s) does not apply to an operation
	SYSTEMD_BUS_TIMEOUT=1 ctl start m4
	expect_rc 0 "a 4 s boot with SYSTEMD_BUS_TIMEOUT=1"
	assert_state 0 running
	# --timeout=: rprocctl stops waiting, rprocd goes on
	ctl --timeout=1s restart m4
	expect_rc 1 "restart --timeout=1s of a 4 s boot"
	stderr_prefixed "--timeout"
	assert_contains "$(err)" "Failed to restart m4: no answer within 1s" "the timeout's message"
	wait_state 0 running 30
	wait_prop m4 Busy false 30
	# --no-block: back at once, the boot goes on
	assert_success "$RPROCCTL" stop m4
	t0=$(date +%s%N)
	ctl --no-block start m4
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect_rc 0 "--no-block start"
	[[ ! -s "$OUT" && ! -s "$ERR" ]] || _assert_fail "--no-block printed: $(out) $(err)"
	((ms < 3000)) || _assert_fail "--no-block start took $ms ms (the boot takes 4 s)"
	log "--no-block start returned after $ms ms"
	assert_eq "$(prop m4 Busy)" true "the boot is under way"
	wait_state 0 running 30
	# a failure with --no-block lands in LastError
	assert_success "$RPROCCTL" stop m4
	sim_fail 0 start 5
	ctl --no-block start m4
	# (a failure rprocctl already knows when it returns is reported)
	if ((rc == 1)); then
		assert_contains "$(err)" "Failed to start m4: start: Input/output error (EIO)" "known at once"
	else
		expect_rc 0 "--no-block start that will fail"
	fi
	wait_prop m4 LastError "start: Input/output error (EIO)" 30
	ctl status m4
	assert_contains "$(out)" "Last error: start: Input/output error (EIO)" "status shows it"
	# the checks before sending: an unmanaged core (an invalid value of a strict key)
	core_conf m4 "[Core]
Firmware=../../etc/shadow
Start=no"
	assert_success "$RPROCCTL" reload
	ctl --no-block start m4
	expect_rc 1 "--no-block start of an unmanaged core"
	assert_contains "$(err)" "has an invalid configuration" "why, from rprocd"
}

# wait --timeout= on a core whose driver probes after rprocd started: it is
# waited for until it appears and comes up; a name that never appears is 4.
test_wait_late_core() {
	local pid rc=0
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf"
	rprocd_up
	mkdir -p "$CTL_DIR"
	"$RPROCCTL" wait --timeout=60s m4 >"$CTL_DIR/late.out" 2>"$CTL_DIR/late.err" &
	pid=$!
	sleep 1
	kill -0 "$pid" 2>/dev/null || _assert_fail "wait gave up on a core not there yet: $(<"$CTL_DIR/late.err")"
	sim_load names=m4
	wait "$pid" || rc=$?
	assert_eq "$rc" 0 "wait for a late core: $(<"$CTL_DIR/late.err")"
	assert_state 0 running
	ctl wait --timeout=1s ghost
	expect_rc 4 "wait for a core that never appears"
	assert_contains "$(err)" "no core named \"ghost\" after the timeout" "why"
}

# The timeout policy of org.rprocd1(5) on a boot of a minute: an operation's
# call returns when the operation is done, rprocctl waits for it with no time
# limit, and a client that keeps sd-bus's default (busctl's 25 s) gives up
# while rprocd goes on and the core comes up. Two cores boot at once (each
# operation runs on its own worker), so the case takes one boot, not two.
test_sixty_second_boot() {
	local t0 ms bus_rc=0 bus_ms ctl_pid rc
	sim_load names=m4,dsp boot_ms=60000
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
Start=no"
	core_conf dsp "[Core]
Firmware=m4.elf
Start=no"
	rprocd_up
	mkdir -p "$CTL_DIR"
	t0=$(date +%s%N)
	"$RPROCCTL" start m4 >"$CTL_DIR/slow.out" 2>"$CTL_DIR/slow.err" &
	ctl_pid=$!
	# busctl with its default timeout, the by-name method
	busctl call org.rprocd1 /org/rprocd1 org.rprocd1.Manager StartCore s dsp \
		>"$CTL_DIR/busctl.out" 2>&1 || bus_rc=$?
	bus_ms=$((($(date +%s%N) - t0) / 1000000))
	((bus_rc != 0)) || _assert_fail "busctl's StartCore returned before the 60 s boot ended ($bus_ms ms)"
	assert_contains "$(<"$CTL_DIR/busctl.out")" "timed out" "busctl gave up on its own timeout"
	((bus_ms < 55000)) || _assert_fail "busctl gave up after $bus_ms ms, not at its 25 s default"
	log "busctl gave up after $bus_ms ms"
	assert_eq "$(prop dsp Busy)" true "dsp's boot goes on without busctl"
	rc=0
	wait "$ctl_pid" || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	((rc == 0)) || _assert_fail "rprocctl start of a 60 s boot: exit $rc ($(<"$CTL_DIR/slow.err"))"
	((ms >= 60000)) || _assert_fail "rprocctl returned after $ms ms, before the boot could end"
	log "rprocctl start returned after $ms ms"
	[[ ! -s "$CTL_DIR/slow.out" && ! -s "$CTL_DIR/slow.err" ]] ||
		_assert_fail "rprocctl start printed: $(<"$CTL_DIR/slow.out") $(<"$CTL_DIR/slow.err")"
	assert_state 0 running
	# and the call busctl gave up on has done its work
	wait_state 1 running 30
	assert_eq "$(prop dsp LastError)" "" "dsp's boot succeeded"
}

# ---- the kernel's errno, the methods by name, access, the crash time ----------------------

test_errors_by_name_access() {
	local mon out
	two_cores
	# the kernel's refusal: Kernel.EBUSY, the errno's name in the message, exit 1
	assert_success "$RPROCCTL" stop m4
	sim_fail 0 start 16
	ctl start m4
	expect_rc 1 "a start the kernel refuses"
	assert_contains "$(err)" "rprocctl: Failed to start m4: " "the message"
	assert_contains "$(err)" "(EBUSY)" "the errno's name"
	stderr_prefixed "kernel error"
	# a kernel's ETIMEDOUT (a remote that never signalled ready) is its answer, not rprocctl's timeout
	sim_fail 0 start 110
	ctl start m4
	expect_rc 1 "a start the kernel refuses with ETIMEDOUT"
	assert_contains "$(err)" "(ETIMEDOUT)" "the errno's name"
	assert_not_contains "$(err)" "no answer" "not taken for rprocctl's own timeout"
	# by name (StartCore), no GetCore first: watch the bus (the fallback to
	# GetCore + Core.Start for an older rprocd: tests/host/rprocctl-fallback.sh)
	dbus-monitor --system "destination='org.rprocd1'" >/run/calls.txt 2>&1 &
	mon=$!
	sleep 1
	assert_success "$RPROCCTL" start m4
	sleep 0.5
	kill "$mon"
	assert_contains "$(cat /run/calls.txt)" "member=StartCore" "by name"
	assert_not_contains "$(cat /run/calls.txt)" "member=GetCore" "by name: no GetCore"
	assert_state 0 running
	# not root: exit 6, also with --no-block (rprocd refuses, after the bus's
	# credentials; the refusal comes before the second Ping's reply)
	rc=0
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$RPROCCTL" stop m4 2>&1) || rc=$?
	assert_eq "$rc" 6 "an unprivileged stop: $out"
	assert_match "$out" "^rprocctl: Failed to stop m4: " "its message"
	rc=0
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$RPROCCTL" --no-block stop m4 2>&1) ||
		rc=$?
	assert_eq "$rc" 6 "an unprivileged --no-block stop: $out"
	assert_state 0 running
	# reading is open
	assert_eq "$(setpriv --reuid=65534 --regid=65534 --clear-groups "$RPROCCTL" show -p State --value m4)" \
		running "an unprivileged show"
	# the last crash: a date in status, a number in JSON
	sim_crash 0
	wait_prop m4 CrashCount 1 30
	ctl status m4
	assert_match "$(out)" "Crashes: 1, last [A-Z][a-z]{2} 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} " \
		"status: the crash's date"
	ctl show -p LastCrashTimestamp --value m4
	assert_match "$(out)" "^[A-Z][a-z]{2} 20[0-9]{2}-" "show: LastCrashTimestamp as a date"
	ctl --json show -p LastCrashTimestamp m4
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0]["LastCrashTimestamp"]; assert isinstance(v, int) and v > 1e15, v' \
		"$OUT" || _assert_fail "LastCrashTimestamp in JSON: $(out)"
}

# ---- -H root@localhost through sshd --------------------------------------------------------

SSH_DIR=/run/ctl-ssh

# sshd_up - sshd on 127.0.0.1 with a generated host key and an authorized key
# for root; an ssh wrapper first in PATH (sd-bus runs "ssh") logs in with it.
# Returns 2 when sshd is not installed, 1 when it does not come up.
sshd_up() {
	local i
	[[ -x /usr/sbin/sshd ]] || return 2
	rm -rf "$SSH_DIR"
	mkdir -p "$SSH_DIR/bin" /run/sshd
	chmod 700 "$SSH_DIR"
	ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id" || return 1
	cp "$SSH_DIR/id.pub" "$SSH_DIR/authorized_keys"
	# a locked root ("!" in shadow) may not log in even with a key: unlock it in the guest
	if [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]]; then
		usermod -p '*' root || return 1
	fi
	cat >"$SSH_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port 22
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
	# One connection for all (a handshake costs seconds under TCG): ControlMaster.
	cat >"$SSH_DIR/ssh_config" <<EOF
Host *
  IdentityFile $SSH_DIR/id
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
  ControlMaster auto
  ControlPath $SSH_DIR/cm-%r@%h:%p
  ControlPersist 120
EOF
	printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$SSH_DIR/ssh_config" >"$SSH_DIR/bin/ssh"
	chmod +x "$SSH_DIR/bin/ssh"
	/usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$SSH_DIR/sshd.log" || return 1
	for ((i = 0; i < 100; i++)); do
		"$SSH_DIR/bin/ssh" root@localhost true 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

sshd_down() {
	local pid
	"$SSH_DIR/bin/ssh" -O exit root@localhost 2>/dev/null
	pid=$(cat "$SSH_DIR/sshd.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
	return 0
}

test_remote_host() {
	local r=0
	two_cores
	sshd_up || r=$?
	# -H is issue 16's requirement: no sshd is a failure, not a skip that looks like a pass
	((r != 2)) || _assert_fail "/usr/sbin/sshd is not installed on the host" \
		"(tests/install-deps installs openssh-server): -H cannot be tested"
	((r == 0)) || _assert_fail "sshd did not come up: $(cat "$SSH_DIR/sshd.log" 2>/dev/null)"
	export PATH=$SSH_DIR/bin:$PATH
	# the same answers as here, through ssh and systemd-stdio-bridge
	ctl -H root@localhost show -p State --value m4
	expect_rc 0 "-H show"
	assert_eq "$(out)" running "-H show -p State --value"
	ctl --host=root@localhost --json=pretty status m4 dsp
	expect_rc 0 "-H status --json=pretty"
	schema status pretty --expect-n 2
	schema_check
	# and changes, as root there
	ctl -H root@localhost stop m4
	expect_rc 0 "-H stop"
	assert_state 0 offline
	ctl -H root@localhost --no-block start m4
	expect_rc 0 "-H --no-block start"
	wait_state 0 running 30
	# a host that does not answer: exit 5 (ssh says why on stderr, in its own words)
	ctl -H root@localhost:1 status m4
	expect_rc 5 "-H to a closed port"
	assert_contains "$(grep '^rprocctl: ' "$ERR")" "rprocctl: " "rprocctl's own line"
	sshd_down
}

# ---- bash completion ------------------------------------------------------------------------

test_completion() {
	local out
	two_cores
	out=$(PATH=$(dirname "$RPROCCTL"):$PATH bash -c '
		. "$1"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _rprocctl; echo "${COMPREPLY[*]}"; }
		c rprocctl ""
		c rprocctl is-
		c rprocctl status ""
		c rprocctl start d
		c rprocctl cat ""
		c rprocctl --json = ""
		c rprocctl show -p Rea
		c rprocctl set-firmware m4 m4
		c rprocctl --no-' _ "$COMPLETION") || _assert_fail "completion: $out"
	mapfile -t l <<<"$out"
	assert_match "${l[0]}" "^list status show is-running is-ready start .* help$" "verbs"
	assert_eq "${l[1]}" "is-running is-ready" "is-"
	assert_eq "${l[2]}" "m4 dsp" "core names from rprocd"
	assert_eq "${l[3]}" "dsp" "start d"
	assert_eq "${l[4]}" "dsp m4" "configured cores for cat"
	assert_eq "${l[5]}" "short pretty off" "--json="
	assert_eq "${l[6]}" "Ready" "show -p"
	assert_eq "${l[7]}" "m4.elf" "set-firmware: firmware files"
	assert_eq "${l[8]}" "--no-pager --no-legend --no-block" "options"
}

run_cases test_json_every_command test_help_and_diagnostics test_show_is_legend_quiet \
	test_colors_and_pager test_slow_boot_timeouts_no_block test_sixty_second_boot test_wait_late_core test_errors_by_name_access \
	test_remote_host test_completion
