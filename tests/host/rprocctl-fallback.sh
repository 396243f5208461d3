#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocctl against an rprocd that has no by-name methods (old-rprocd.c, as
# the development snapshots were): each action asks StartCore & co. first,
# gets UnknownMethod, and falls back to GetCore + Core.<Method>, with the
# same exit codes and messages as against rprocd. On a private system bus.
set -euo pipefail
# shellcheck source=tests/host/lib-host.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-host.sh"

OLD_RPROCD=${OLD_RPROCD:?path to old-rprocd}
RPROCCTL=${RPROCCTL:?path to the rprocctl binary}
command -v dbus-daemon >/dev/null || {
	echo "dbus-daemon missing: skipped"
	exit 77
}
read -r -a wrap <<<"${RPROCD_EXE_WRAPPER:-}"

tmp=$(mktemp -d /tmp/rprocctl-fallback-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

private_bus "$tmp" || fail "no private bus"
# O_APPEND: the file is emptied before each call, under the writer
"${wrap[@]}" "$OLD_RPROCD" >>"$tmp/calls" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -q READY "$tmp/calls" 2>/dev/null && break; sleep 0.05; done
grep -q READY "$tmp/calls" || fail "old-rprocd did not start: $(cat "$tmp/calls")"

ctl() {
	rc=0
	: >"$tmp/calls"
	"${wrap[@]}" "$RPROCCTL" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

for verb in start restart attach detach recover; do
	method=${verb^}
	ctl "$verb" core0
	[ "$rc" = 0 ] || fail "$verb against an older rprocd: exit $rc: $(cat "$tmp/err")"
	grep -qx "GetCore core0" "$tmp/calls" || fail "$verb: no GetCore: $(cat "$tmp/calls")"
	grep -qx "$method /org/rprocd1/core/core0" "$tmp/calls" ||
		fail "$verb: Core.$method was not called: $(cat "$tmp/calls")"
	[ ! -s "$tmp/err" ] || fail "$verb printed: $(cat "$tmp/err")"
done
# the kernel's refusal through the fallback: the same message and exit 1
ctl stop core0
[ "$rc" = 1 ] || fail "stop (EBUSY) through the fallback: exit $rc"
grep -q '^rprocctl: Failed to stop core0: .*(EBUSY)' "$tmp/err" || fail "stop's message: $(cat "$tmp/err")"
# a core the old rprocd does not know: 4
ctl start nosuch
[ "$rc" = 4 ] || fail "start nosuch through the fallback: exit $rc"
grep -q 'no core named "nosuch"' "$tmp/err" || fail "start nosuch: $(cat "$tmp/err")"
# wait --timeout= while rprocd is not on the bus: the new rprocd's taking the
# name (it announces no core: NameOwnerChanged is the only cue) ends the wait
kill "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
t0=$(date +%s%N)
"${wrap[@]}" "$RPROCCTL" wait --timeout=30s core0 >"$tmp/wait.out" 2>&1 &
waiter=$!
pids+=("$waiter")
sleep 1
kill -0 "$waiter" 2>/dev/null || fail "wait gave up while rprocd was away: $(cat "$tmp/wait.out")"
"${wrap[@]}" "$OLD_RPROCD" >>"$tmp/calls" 2>&1 &
pids+=($!)
rc=0
wait "$waiter" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$rc" = 0 ] || fail "wait across rprocd's start: exit $rc: $(cat "$tmp/wait.out")"
((ms < 15000)) || fail "wait noticed the new rprocd only after $ms ms (at its deadline?)"
echo "rprocctl's fallback to GetCore + Core.<Method>: all passed"
