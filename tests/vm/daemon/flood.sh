#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# 100 clients at once on the same cores: calls on one core are serialised,
# every caller gets exactly one reply, nothing deadlocks, the daemon's view
# stays the kernel's, and its memory returns to the baseline.
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

BUS_PY=$(dirname "${BASH_SOURCE[0]}")/../fault/bus.py

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$(cat /run/rprocd-test.pid)/status"
}

test_hundred_clients() {
	local out base after i
	two_booted_cores boot_ms=20
	# A first round warms up allocations; the second must not grow the daemon.
	# (The clients: ../fault/bus.py, whose race mode fault/bus.sh checks further.)
	out=$(/usr/bin/python3 "$BUS_PY" race 100 1 a b) ||
		_assert_fail "a client got no reply or two: $out"
	sleep 1
	base=$(rss_kib)
	out=$(/usr/bin/python3 "$BUS_PY" race 100 2 a b) ||
		_assert_fail "a client got no reply or two: $out"
	assert_eq "$(grep -c '"reply": \["ok"\]' <<<"$out")" 100 "every call answered ok"
	sleep 1
	after=$(rss_kib)
	log "rprocd RSS: $base KiB after the first flood, $after KiB after the second"
	# ASan's quarantine keeps freed memory: the baseline holds for real builds only.
	if ldd "$RPROCD" | grep -q libasan; then
		log "RSS not compared: an ASan build"
	else
		((after <= base + 256)) || _assert_fail "RSS grew from $base to $after KiB"
	fi
	for i in 0 1; do
		assert_eq "$(prop "$( ((i == 0)) && echo a || echo b)" Busy)" false "core $i idle"
		assert_eq "$(prop "$( ((i == 0)) && echo a || echo b)" State)" "$(rproc_state "$i")" \
			"core $i: reported state is the kernel's"
	done
	# Still answering, and every kernel start was matched by a stop or is still up.
	assert_eq "$(dbus_error a Start)" ok "Start after the flood"
	assert_state 0 running
	sim_counters 0
	assert_eq "$((cnt_start - cnt_stop))" 1 "starts and stops of a balance"
}

run_cases test_hundred_clients
