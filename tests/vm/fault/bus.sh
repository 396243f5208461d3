#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# D-Bus faults against rprocd on the real kernel: wrong signatures, unknown
# objects, cores, methods and properties, unprivileged callers on every
# method that changes something (refused by the bus policy, and by the daemon
# when a policy lets them through), 100 racing clients whose last call wins,
# and a queue filled past its bound (Busy) while a Restart is half done.
# Nothing a caller sends changes a core it may not change, and every call
# gets exactly one reply.
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

BUS_PY=$(dirname "${BASH_SOURCE[0]}")/bus.py

# send_error [--as-nobody] PATH IFACE.METHOD [ARGS...] - the D-Bus error name
# of a call through dbus-send, or "ok"
send_error() {
	local pre=() out
	if [[ "$1" == --as-nobody ]]; then
		pre=(setpriv --reuid=65534 --regid=65534 --clear-groups)
		shift
	fi
	local path=$1 member=$2
	shift 2
	out=$("${pre[@]}" dbus-send --system --print-reply --reply-timeout=30000 --dest=org.rprocd1 \
		"$path" "$member" "$@" 2>&1) && {
		echo ok
		return 0
	}
	echo "$out" | sed -nE 's/^Error ([A-Za-z0-9_.]+):.*/\1/p' | head -n1
}

counters_line() {
	cat "$(sim_dev "$1")/counters"
}

test_wrong_calls() {
	local before0 before1 long
	two_booted_cores
	before0=$(counters_line 0)
	before1=$(counters_line 1)
	local C=/org/rprocd1/core/a M=/org/rprocd1 E=org.freedesktop.DBus.Error
	assert_eq "$(send_error $C org.rprocd1.Core.Stop string:now)" $E.InvalidArgs "Stop with an argument"
	assert_eq "$(send_error $C org.rprocd1.Core.Restart int32:1 int32:2)" $E.InvalidArgs \
		"Restart with two"
	assert_eq "$(send_error $C org.rprocd1.Core.SetFirmware uint32:3)" $E.InvalidArgs \
		"SetFirmware with a number"
	assert_eq "$(send_error $C org.rprocd1.Core.SetFirmware)" $E.InvalidArgs "SetFirmware with nothing"
	assert_eq "$(send_error $C org.rprocd1.Core.SetFirmwareAndRestart array:string:x,y)" \
		$E.InvalidArgs "SetFirmwareAndRestart with an array"
	assert_eq "$(send_error $M org.rprocd1.Manager.GetCore uint32:1)" $E.InvalidArgs "GetCore with a number"
	assert_eq "$(send_error $M org.rprocd1.Manager.Reload string:a)" $E.InvalidArgs "Reload with a string"
	assert_eq "$(send_error $M org.rprocd1.Manager.ListCores string:a)" $E.InvalidArgs \
		"ListCores with an argument"
	assert_eq "$(send_error $C org.rprocd1.Core.Explode)" $E.UnknownMethod "an unknown method"
	assert_eq "$(send_error $M org.rprocd1.Manager.Stop)" $E.UnknownMethod "a core method on the manager"
	assert_match "$(send_error $C org.example.Nope.Start)" "^$E.Unknown(Method|Interface)$" \
		"an unknown interface"
	assert_eq "$(send_error /org/rprocd1/core/zz org.rprocd1.Core.Start)" $E.UnknownObject \
		"a core that does not exist"
	assert_eq "$(send_error /org/rprocd1/core/a/b org.rprocd1.Core.Start)" $E.UnknownObject \
		"a path below a core"
	assert_eq "$(send_error $M org.rprocd1.Manager.GetCore string:zz)" org.rprocd1.Error.NoSuchCore \
		"GetCore of an unknown core"
	assert_eq "$(send_error $M org.rprocd1.Manager.GetCore string:../a)" org.rprocd1.Error.NoSuchCore \
		"GetCore with a path in the name"
	assert_eq "$(send_error $M org.rprocd1.Manager.GetCore string:)" org.rprocd1.Error.NoSuchCore \
		"GetCore of the empty name"
	long=$(head -c 65536 /dev/zero | tr '\0' a)
	assert_eq "$(send_error $M org.rprocd1.Manager.GetCore "string:$long")" org.rprocd1.Error.NoSuchCore \
		"GetCore with a 64 KiB name"
	assert_eq "$(send_error $C org.freedesktop.DBus.Properties.Set string:org.rprocd1.Core \
		string:State variant:string:offline)" $E.PropertyReadOnly "setting State"
	assert_eq "$(send_error $C org.freedesktop.DBus.Properties.Get string:org.rprocd1.Core \
		string:Temperature)" $E.UnknownProperty "an unknown property"
	assert_eq "$(send_error $C org.rprocd1.Core.SetFirmware "string:$(printf 'x%.0s' {1..300})")" \
		org.rprocd1.Error.InvalidFirmware "a 300-byte firmware name"
	# Nothing reached the kernel, and the daemon still answers.
	assert_eq "$(counters_line 0)" "$before0" "core a untouched"
	assert_eq "$(counters_line 1)" "$before1" "core b untouched"
	assert_eq "$(prop a State)" running "still answering"
}

test_unprivileged_everywhere() {
	local before m err pass
	two_booted_cores
	before=$(counters_line 0)
	local calls=(
		"/org/rprocd1/core/a org.rprocd1.Core.Start"
		"/org/rprocd1/core/a org.rprocd1.Core.Stop"
		"/org/rprocd1/core/a org.rprocd1.Core.Restart"
		"/org/rprocd1/core/a org.rprocd1.Core.Attach"
		"/org/rprocd1/core/a org.rprocd1.Core.Detach"
		"/org/rprocd1/core/a org.rprocd1.Core.Recover"
		"/org/rprocd1/core/a org.rprocd1.Core.SetFirmware string:fw.elf"
		"/org/rprocd1/core/a org.rprocd1.Core.SetFirmwareAndRestart string:fw.elf"
		"/org/rprocd1 org.rprocd1.Manager.Reload"
		"/org/rprocd1 org.rprocd1.Manager.StartCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.StopCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.RestartCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.AttachCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.DetachCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.RecoverCore string:a"
		"/org/rprocd1 org.rprocd1.Manager.SetCoreFirmware string:a string:fw.elf"
		"/org/rprocd1 org.rprocd1.Manager.SetCoreFirmwareAndRestart string:a string:fw.elf"
		"/org/rprocd1/core/a org.rprocd1.Core.ConfirmUpdate"
		"/org/rprocd1/core/a org.rprocd1.Core.RollbackUpdate"
		"/org/rprocd1 org.rprocd1.Manager.ConfirmCoreUpdate string:a"
		"/org/rprocd1 org.rprocd1.Manager.RollbackCoreUpdate string:a"
	)
	# The shipped bus policy lets every call through (as systemd's do): the
	# daemon refuses them itself.
	for m in "${calls[@]}"; do
		# shellcheck disable=SC2086 # the entry is PATH METHOD [ARG]
		err=$(send_error --as-nobody $m)
		assert_eq "$err" org.freedesktop.DBus.Error.AccessDenied "unprivileged ${m#* }"
	done
	assert_eq "$(counters_line 0)" "$before" "the core was never touched"
	assert_state 0 running
	# Reading stays open to everyone.
	assert_eq "$(setpriv --reuid=65534 --regid=65534 --clear-groups busctl get-property org.rprocd1 \
		/org/rprocd1/core/a org.rprocd1.Core State)" 's "running"' "unprivileged read"
}

test_race_last_call_wins() {
	local out final core want
	two_booted_cores boot_ms=20
	out=$(/usr/bin/python3 "$BUS_PY" race 100 "${RANDOM_SEED:-7}" a b) ||
		_assert_fail "a client got no reply or two: $(grep -v '"reply": \["' <<<"$out" | head -n3)"
	assert_eq "$(grep -c '"reply": \[' <<<"$out")" 100 "100 calls answered"
	final=$(tail -n1 <<<"$out")
	for core in a b; do
		want=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["final"].get(sys.argv[2], "?"))' \
			"$final" "$core")
		[[ "$want" == "?" ]] && continue # no call on this core succeeded
		wait_prop "$core" Busy false 30
		assert_eq "$(prop "$core" State)" "$want" "$core ends as its last call left it"
		assert_eq "$(rproc_state "$([[ $core == a ]] && echo 0 || echo 1)")" "$want" \
			"$core in the kernel"
	done
}

test_queue_full() {
	local out busy ok
	two_booted_cores boot_ms=4000,20
	# A Restart holds the core (its boot blocks in the kernel for 4 s); then
	# 180 calls from 3 connections (the bus allows 128 pending replies per
	# connection): 128 wait in the core's queue, the rest are told Busy.
	out=$(/usr/bin/python3 "$BUS_PY" pile 3 60 a Start Restart) || _assert_fail "pile failed: $out"
	log "$out"
	busy=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["replies"].get("org.rprocd1.Error.Busy", 0))' "$out")
	ok=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["replies"].get("ok", 0))' "$out")
	assert_contains "$out" '"missing": 0, "extra": 0' "one reply per call"
	assert_contains "$out" '"first": ["ok"]' "the Restart in progress finished"
	# Exactly 52 when all 180 arrive within the Restart; a slow client lets a
	# few through after it, so: some refused, none lost, the bound kept.
	assert_eq "$((busy + ok))" 180 "every call answered ok or Busy"
	((busy > 0)) || _assert_fail "no call was refused with Busy: $out"
	((ok >= 128)) || _assert_fail "calls were refused before 128 waited: $out"
	wait_prop a Busy false 60
	assert_state 0 running
	assert_eq "$(sim_counter 0 start)" 2 "booted, and once more by the Restart"
	assert_eq "$(prop b State)" running "the other core is not affected"
}

tests=(test_wrong_calls test_unprivileged_everywhere test_race_last_call_wins test_queue_full)
# Arguments name the cases to run (all by default).
(($#)) && tests=("$@")
run_cases "${tests[@]}"
