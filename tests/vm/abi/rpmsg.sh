#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Kernel ABI: a firmware with an rpmsg vdev (fw64-rpmsg.elf) makes the
# remoteproc core create a virtio device that Linux's real virtio_rpmsg_bus
# probes; rproc_sim plays the remote side. Its channels (channels=, the
# rpmsg control file) become rpmsg devices bound to rpmsg_tty and
# rpmsg_char, messages are echoed, the trace buffer shows up in debugfs,
# and stop/start, crash recovery and rmmod leave nothing behind. No rprocd:
# the kernel alone.
# shellcheck source=tests/vm/lib.sh disable=SC2154,SC2119,SC2120
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RPMSG_ECHO=${RPROC_RPMSG_ECHO:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/tests/vm/rpmsg-echo}}
RPMSG_DEVS=/sys/bus/rpmsg/devices

# rpmsg_echo ARGS... - tests/vm/rpmsg-echo
rpmsg_echo() {
	[[ -n "$RPMSG_ECHO" && -x "$RPMSG_ECHO" ]] ||
		die "rpmsg-echo not found (set RPROCD_BUILD_DIR or RPROC_RPMSG_ECHO)"
	"$RPMSG_ECHO" "$@"
}

# wait_until WHAT CMD... - poll CMD every 50 ms for up to 5 s
wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < 100; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	_assert_fail "$what: not true after 5 s"
}

# boot_rpmsg [SIM_PARAMS...] - one core "m4" running fw64-rpmsg.elf ($r), its
# rpmsg bus up (the remote side has seen Linux's rx buffers)
boot_rpmsg() {
	sim_load names=m4 "$@"
	r=$(sim_rproc 0)
	fw_install fw64-rpmsg
	probe_ok write "$r" firmware fw64-rpmsg.elf
	start_rpmsg
}

start_rpmsg() {
	probe_ok request "$r" start
	assert_state "$r" running
	wait_until "the remote side sees the rpmsg bus" sim_rpmsg_ready
}

sim_rpmsg_ready() {
	[[ "$(head -n1 "$(sim_dev 0)/rpmsg")" == "vdev=ready "* ]]
}

# sim_rpmsg_ctl TEXT - write TEXT to instance 0's rpmsg control file
sim_rpmsg_ctl() {
	echo "$1" >"$(sim_dev 0)/rpmsg"
}

# sim_rpmsg_stat NAME - received, echoed or dropped from the rpmsg control file
sim_rpmsg_stat() {
	local kv
	for kv in $(head -n1 "$(sim_dev 0)/rpmsg"); do
		[[ "${kv%%=*}" == "$1" ]] && echo "${kv#*=}" && return 0
	done
	die "no $1 in rpmsg"
}

# rpmsg_dev NAME DST - the rpmsg device of a channel the remote announced
# (virtioN.NAME.-1.DST), or nothing
rpmsg_dev() {
	local d suffix=".$1.-1.$(($2))"
	for d in "$RPMSG_DEVS"/virtio*"$suffix"; do
		[[ -e "$d" ]] && echo "${d##*/}"
	done
	return 0
}

has_rpmsg_dev() {
	[[ -n "$(rpmsg_dev "$1" "$2")" ]]
}

no_rpmsg_dev() {
	[[ -z "$(rpmsg_dev "$1" "$2")" ]]
}

# rpmsg_char_node NAME DST - /dev/rpmsgN of the rpmsg_char endpoint with that name and address
rpmsg_char_node() {
	local d
	for d in /sys/class/rpmsg/rpmsg[0-9]*; do
		[[ -e "$d/name" ]] || continue
		if [[ "$(cat "$d/name")" == "$1" && "$(cat "$d/dst")" == "$(($2))" ]]; then
			echo "/dev/${d##*/}"
			return 0
		fi
	done
	return 1
}

# tty_of DEV - /dev/ttyRPMSGn of an rpmsg-tty device
tty_of() {
	local t
	for t in "$RPMSG_DEVS/$1"/tty/ttyRPMSG*; do
		[[ -e "$t" ]] && echo "/dev/${t##*/}" && return 0
	done
	return 1
}

trace_file() {
	echo "/sys/kernel/debug/remoteproc/$r/trace0"
}

# count_glob PATTERN - how many paths match
count_glob() {
	local n=0 p
	for p in $1; do
		[[ -e "$p" ]] && n=$((n + 1))
	done
	echo "$n"
}

# rpmsg_vdevs - the virtio devices of type VIRTIO_ID_RPMSG (the guest's 9p
# root is a virtio device too)
rpmsg_vdevs() {
	local d
	for d in /sys/bus/virtio/devices/virtio*; do
		[[ "$(cat "$d/device" 2>/dev/null)" == 0x0007 ]] && readlink -f "$d"
	done
	return 0
}

count_rpmsg_vdevs() {
	rpmsg_vdevs | grep -c . || true
}

# nothing_left - no virtio or rpmsg device, node or trace of the core remains
nothing_left() {
	assert_eq "$(count_glob "$RPMSG_DEVS/*")" 0 "rpmsg devices"
	assert_eq "$(count_rpmsg_vdevs)" 0 "rpmsg virtio devices"
	assert_eq "$(count_glob "/sys/bus/platform/devices/rproc-virtio.*")" 0 "rproc-virtio devices"
	assert_eq "$(count_glob "/dev/ttyRPMSG*")" 0 "/dev/ttyRPMSG nodes"
	assert_eq "$(count_glob "/dev/rpmsg*")" 0 "/dev/rpmsg nodes"
}

# kernel_trouble - WARNING, BUG, Oops lines in the kernel log (not the test markers)
kernel_trouble() {
	dmesg | grep -v 'rprocd-test: ===' |
		grep -E 'WARNING:|BUG:|Oops|general protection|Call Trace|kernel BUG' || true
}

test_no_vdev() {
	sim_load names=m4 channels=rpmsg-tty
	r=$(sim_rproc 0)
	fw_install fw64
	probe_ok write "$r" firmware fw64.elf
	probe_ok request "$r" start
	assert_state "$r" running
	sleep 0.3
	nothing_left
	assert_eq "$(head -n1 "$(sim_dev 0)/rpmsg")" "vdev=none received=0 echoed=0 dropped=0" \
		"rpmsg control file"
	assert_not_exists "$(trace_file)" "trace without a trace entry"
	assert_failure sim_rpmsg_ctl "announce rpmsg-raw"
	sim_counters 0
	assert_eq "$cnt_prepare $cnt_load $cnt_start" "1 1 1" "counters prepare load start"
	probe_ok request "$r" stop
	assert_state "$r" offline
}

test_bus_probes() {
	local vdev
	boot_rpmsg
	assert_eq "$(count_rpmsg_vdevs)" 1 "rpmsg virtio devices"
	vdev=$(rpmsg_vdevs)
	assert_eq "$(basename "$(readlink -f "$vdev/driver")")" virtio_rpmsg_bus "virtio driver"
	# the virtio device hangs below the remote processor
	assert_contains "$vdev" "/remoteproc/$r/" "virtio device path"
	assert_contains "$(case_klog)" "rpmsg host is online" "kernel log"
	# no channels by default: only the name service and the control device
	assert_eq "$(count_glob "$RPMSG_DEVS/*.rpmsg_ns.53.53")" 1 "rpmsg_ns device"
	assert_eq "$(count_glob "$RPMSG_DEVS/*.rpmsg_ctrl.0.0")" 1 "rpmsg_ctrl device"
	assert_eq "$(count_glob "$RPMSG_DEVS/*")" 2 "rpmsg devices"
	assert_eq "$(count_glob "/dev/rpmsg_ctrl*")" 1 "/dev/rpmsg_ctrl nodes"
	assert_eq "$(wc -l <"$(sim_dev 0)/rpmsg")" 1 "endpoints of the remote side"
}

test_channels_announced() {
	boot_rpmsg channels=rpmsg-tty+rpmsg-raw@0x500+extra
	wait_until "rpmsg-tty at 0x400" has_rpmsg_dev rpmsg-tty 0x400
	wait_until "rpmsg-raw at 0x500" has_rpmsg_dev rpmsg-raw 0x500
	wait_until "extra at 0x401" has_rpmsg_dev extra 0x401
	assert_eq "$(tail -n +2 "$(sim_dev 0)/rpmsg")" $'rpmsg-tty 0x400\nrpmsg-raw 0x500\nextra 0x401' \
		"endpoints of the remote side"
	assert_eq "$(basename "$(readlink -f "$RPMSG_DEVS/$(rpmsg_dev rpmsg-tty 0x400)/driver")")" \
		rpmsg_tty "driver of rpmsg-tty"
	assert_eq "$(basename "$(readlink -f "$RPMSG_DEVS/$(rpmsg_dev rpmsg-raw 0x500)/driver")")" \
		rpmsg_chrdev "driver of rpmsg-raw"
	assert_eq "$(cat "$RPMSG_DEVS/$(rpmsg_dev extra 0x401)/dst")" 0x401 "dst of extra"
}

test_tty_echo() {
	local dev tty
	boot_rpmsg channels=rpmsg-tty
	wait_until "rpmsg-tty device" has_rpmsg_dev rpmsg-tty 0x400
	dev=$(rpmsg_dev rpmsg-tty 0x400)
	wait_until "ttyRPMSG of $dev" tty_of "$dev"
	tty=$(tty_of "$dev")
	assert_exists "$tty"
	assert_success rpmsg_echo tty "$tty" $'hello over rpmsg-tty\n'
	assert_success rpmsg_echo tty "$tty" "second line"
	assert_eq "$(sim_rpmsg_stat echoed)" 2 "messages echoed"
	# past the end of the 16-entry vrings, one after the other
	assert_success rpmsg_echo -n 40 tty "$tty" "line"
	assert_eq "$(sim_rpmsg_stat echoed)" 42 "messages echoed"
	# and the negative control: the remote side stops answering once the core crashed
	probe_ok write "$r" recovery disabled
	sim_crash 0
	wait_state "$r" crashed 5
	assert_failure rpmsg_echo -t 500 tty "$tty" "into the void"
}

test_rpmsg_char_echo() {
	local node
	boot_rpmsg channels=rpmsg-raw@0x500
	wait_until "rpmsg-raw device" has_rpmsg_dev rpmsg-raw 0x500
	wait_until "its /dev/rpmsgN" rpmsg_char_node rpmsg-raw 0x500
	node=$(rpmsg_char_node rpmsg-raw 0x500)
	assert_success rpmsg_echo dev "$node" "one rpmsg message"
	assert_success rpmsg_echo dev "$node" "$(printf 'x%.0s' {1..496})"
	assert_eq "$(sim_rpmsg_stat received) $(sim_rpmsg_stat echoed)" "2 2" "received echoed"
	# 100 sent before the first is read: the vrings wrap, Linux reclaims tx buffers
	assert_success rpmsg_echo -n 100 dev "$node" "burst"
	assert_eq "$(sim_rpmsg_stat received) $(sim_rpmsg_stat echoed) $(sim_rpmsg_stat dropped)" \
		"102 102 0" "received echoed dropped"
}

test_ctrl_echo() {
	local ctrl out dropped
	boot_rpmsg channels=rpmsg-raw@0x500
	wait_until "rpmsg-raw device" has_rpmsg_dev rpmsg-raw 0x500
	ctrl=$(echo /dev/rpmsg_ctrl*)
	assert_exists "$ctrl"
	out=$(rpmsg_echo ctrl "$ctrl" my-ept 0x500 "through rpmsg_ctrl") ||
		_assert_fail "echo through an endpoint of $ctrl failed: $out"
	assert_match "$out" '^/dev/rpmsg[0-9]+$' "endpoint node"
	out=$(rpmsg_echo -n 50 ctrl "$ctrl" my-ept 0x500 "burst") ||
		_assert_fail "50 messages through an endpoint of $ctrl: $out"
	# destroyed again by rpmsg-echo
	assert_not_exists "/sys/class/rpmsg/${out#/dev/}" "the endpoint device after RPMSG_DESTROY_EPT_IOCTL"
	# an address the remote side does not have: no echo, the message is dropped
	dropped=$(sim_rpmsg_stat dropped)
	assert_failure rpmsg_echo -t 500 ctrl "$ctrl" my-ept 0x999 "to nobody"
	wait_until "the message to 0x999 dropped" test "$(sim_rpmsg_stat dropped)" -eq $((dropped + 1))
}

test_announce_destroy() {
	local node
	boot_rpmsg
	sim_rpmsg_ctl "announce rpmsg-raw 0x600"
	wait_until "rpmsg-raw at 0x600" has_rpmsg_dev rpmsg-raw 0x600
	wait_until "its /dev/rpmsgN" rpmsg_char_node rpmsg-raw 0x600
	node=$(rpmsg_char_node rpmsg-raw 0x600)
	assert_success rpmsg_echo dev "$node" "to a channel announced at run time"
	sim_rpmsg_ctl "announce rpmsg-tty"
	wait_until "rpmsg-tty at 0x400 (the first free address)" has_rpmsg_dev rpmsg-tty 0x400
	assert_eq "$(count_glob "/dev/ttyRPMSG*")" 1 "/dev/ttyRPMSG nodes"

	sim_rpmsg_ctl "destroy rpmsg-raw"
	wait_until "rpmsg-raw gone" no_rpmsg_dev rpmsg-raw 0x600
	wait_until "$node gone" test ! -e "$node"
	sim_rpmsg_ctl "destroy rpmsg-tty 0x400"
	wait_until "rpmsg-tty gone" no_rpmsg_dev rpmsg-tty 0x400
	wait_until "/dev/ttyRPMSG gone" test "$(count_glob "/dev/ttyRPMSG*")" -eq 0
	assert_eq "$(count_glob "$RPMSG_DEVS/*")" 2 "rpmsg devices (ns and ctrl)"

	# refused: what the remote side cannot do
	assert_failure sim_rpmsg_ctl "destroy rpmsg-raw"
	assert_failure sim_rpmsg_ctl "announce"
	assert_failure sim_rpmsg_ctl "announce x 53"
	assert_failure sim_rpmsg_ctl "announce x 0xffffffff"
	assert_failure sim_rpmsg_ctl "announce $(printf 'n%.0s' {1..32})"
	assert_failure sim_rpmsg_ctl "frobnicate x"
	sim_rpmsg_ctl "announce a 0x700"
	assert_failure sim_rpmsg_ctl "announce b 0x700"
	wait_until "a at 0x700" has_rpmsg_dev a 0x700
	# the same name twice is two channels
	sim_rpmsg_ctl "announce a"
	wait_until "a at 0x400" has_rpmsg_dev a 0x400
	sim_rpmsg_ctl "destroy a"
	wait_until "both a gone" test "$(count_glob "$RPMSG_DEVS/*.a.*")" -eq 0
}

test_trace() {
	local trace
	boot_rpmsg channels=rpmsg-tty
	trace=$(cat "$(trace_file)")
	assert_eq "$(head -n1 <<<"$trace")" "rproc_sim m4: boot 1, firmware fw64-rpmsg.elf" "banner"
	assert_contains "$trace" "rproc_sim m4: rpmsg vdev, 1 channels" "trace"
	sim_rpmsg_ctl "announce traced-channel"
	echo 0 >"$(sim_dev 0)/fail_stop"
	trace=$(cat "$(trace_file)")
	assert_contains "$trace" $'\ncontrol rpmsg: announce traced-channel\ncontrol fail_stop: 0' \
		"control-file lines"
	# a new boot starts a new trace
	probe_ok request "$r" stop
	start_rpmsg
	trace=$(cat "$(trace_file)")
	assert_eq "$(head -n1 <<<"$trace")" "rproc_sim m4: boot 2, firmware fw64-rpmsg.elf" "banner"
	assert_not_contains "$trace" "traced-channel" "trace after a new boot"
}

test_trace_full() {
	local i size
	boot_rpmsg
	for ((i = 0; i < 120; i++)); do
		printf 'destroy no-such-channel-%04d\n' "$i" >"$(sim_dev 0)/rpmsg" 2>/dev/null || true
	done
	size=$(wc -c <"$(trace_file)")
	# 4 KiB with its NUL: full, and it stopped there
	((size > 4000 && size < 4096)) || _assert_fail "trace size $size, expected 4000..4095"
	assert_eq "$(head -n1 "$(trace_file)")" "rproc_sim m4: boot 1, firmware fw64-rpmsg.elf" \
		"banner of a full trace"
	assert_eq "$(tail -c1 "$(trace_file)" | od -An -c | tr -d ' ')" '\n' "last byte (whole lines)"
	assert_not_contains "$(cat "$(trace_file)")" "channel-0119" "a line past the end"
}

test_stop_start() {
	local i tty node
	boot_rpmsg channels=rpmsg-tty+rpmsg-raw
	for ((i = 2; i <= 4; i++)); do
		wait_until "rpmsg-tty" has_rpmsg_dev rpmsg-tty 0x400
		wait_until "rpmsg-raw" has_rpmsg_dev rpmsg-raw 0x401
		sim_rpmsg_ctl "announce temporary"
		wait_until "temporary" has_rpmsg_dev temporary 0x402
		probe_ok request "$r" stop
		assert_state "$r" offline
		nothing_left
		assert_eq "$(cat "$(sim_dev 0)/rpmsg")" \
			"vdev=none received=$(sim_rpmsg_stat received) echoed=$(sim_rpmsg_stat echoed) dropped=$(sim_rpmsg_stat dropped)" \
			"rpmsg control file after stop"
		assert_not_exists "$(trace_file)" "trace after stop"

		start_rpmsg
		assert_eq "$(head -n1 "$(trace_file)")" "rproc_sim m4: boot $i, firmware fw64-rpmsg.elf" \
			"banner"
		wait_until "rpmsg-tty again" has_rpmsg_dev rpmsg-tty 0x400
		wait_until "rpmsg-raw again" has_rpmsg_dev rpmsg-raw 0x401
		# what was announced at run time belongs to the last boot
		sleep 0.2
		assert_eq "$(rpmsg_dev temporary 0x402)" "" "a run-time channel after a new boot"
		assert_eq "$(count_rpmsg_vdevs)" 1 "rpmsg virtio devices"
		wait_until "ttyRPMSG" tty_of "$(rpmsg_dev rpmsg-tty 0x400)"
		tty=$(tty_of "$(rpmsg_dev rpmsg-tty 0x400)")
		assert_success rpmsg_echo tty "$tty" "boot $i"
		wait_until "rpmsg-raw node" rpmsg_char_node rpmsg-raw 0x401
		node=$(rpmsg_char_node rpmsg-raw 0x401)
		assert_success rpmsg_echo dev "$node" "boot $i"
	done
	sim_counters 0
	assert_eq "$cnt_start $cnt_stop" "4 3" "counters start stop"
}

test_recovery() {
	local tty
	boot_rpmsg channels=rpmsg-tty
	wait_until "rpmsg-tty" has_rpmsg_dev rpmsg-tty 0x400
	sim_crash 0
	wait_state "$r" running 5
	wait_until "the remote side after recovery" sim_rpmsg_ready
	assert_eq "$(head -n1 "$(trace_file)")" "rproc_sim m4: boot 2, firmware fw64-rpmsg.elf" \
		"banner after recovery"
	wait_until "rpmsg-tty after recovery" has_rpmsg_dev rpmsg-tty 0x400
	assert_eq "$(count_rpmsg_vdevs)" 1 "rpmsg virtio devices"
	wait_until "ttyRPMSG" tty_of "$(rpmsg_dev rpmsg-tty 0x400)"
	tty=$(tty_of "$(rpmsg_dev rpmsg-tty 0x400)")
	assert_success rpmsg_echo tty "$tty" "after recovery"
}

test_rebind() {
	local vdev node
	boot_rpmsg channels=rpmsg-raw
	wait_until "rpmsg-raw" has_rpmsg_dev rpmsg-raw 0x400
	vdev=$(rpmsg_vdevs)
	echo "${vdev##*/}" >/sys/bus/virtio/drivers/virtio_rpmsg_bus/unbind
	assert_eq "$(count_glob "$RPMSG_DEVS/*")" 0 "rpmsg devices with the driver unbound"
	echo "${vdev##*/}" >/sys/bus/virtio/drivers/virtio_rpmsg_bus/bind
	# the device side notices the reset and announces again
	wait_until "rpmsg-raw after rebinding" has_rpmsg_dev rpmsg-raw 0x400
	wait_until "its /dev/rpmsgN" rpmsg_char_node rpmsg-raw 0x400
	node=$(rpmsg_char_node rpmsg-raw 0x400)
	assert_success rpmsg_echo dev "$node" "after rebinding"
}

test_rmmod() {
	local tty pid
	boot_rpmsg channels=rpmsg-tty+rpmsg-raw
	wait_until "rpmsg-tty" has_rpmsg_dev rpmsg-tty 0x400
	wait_until "ttyRPMSG" tty_of "$(rpmsg_dev rpmsg-tty 0x400)"
	tty=$(tty_of "$(rpmsg_dev rpmsg-tty 0x400)")
	# with the tty held open
	(
		exec 3<"$tty"
		sleep 30
	) &
	pid=$!
	sleep 0.2
	sim_unload
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	nothing_left
	assert_eq "$(count_glob "/sys/class/remoteproc/*")" 0 "remote processors"
	boot_rpmsg channels=rpmsg-tty
	wait_until "rpmsg-tty after reloading" has_rpmsg_dev rpmsg-tty 0x400
}

test_no_kernel_trouble() {
	assert_eq "$(kernel_trouble)" "" "WARNING/BUG/Oops lines in the kernel log"
}

test_case "firmware without a vdev: no virtio device, no trace, announce refused" test_no_vdev
test_case "vdev: virtio_rpmsg_bus probes, name service and rpmsg_ctrl, no channels" \
	test_bus_probes
test_case "channels= are announced (NS_CREATE) and bound to their drivers" test_channels_announced
test_case "rpmsg-tty: /dev/ttyRPMSGn echoes; not after a crash" test_tty_echo
test_case "rpmsg-raw: rpmsg_char's /dev/rpmsgN echoes" test_rpmsg_char_echo
test_case "rpmsg_ctrl: an RPMSG_CREATE_EPT_IOCTL endpoint echoes; unknown address dropped" \
	test_ctrl_echo
test_case "announce and destroy at run time (NS_CREATE, NS_DESTROY)" test_announce_destroy
test_case "trace0 in debugfs: boot banner, control-file lines, new at each boot" test_trace
test_case "the trace stops when full, with whole lines" test_trace_full
test_case "stop and start three times: all gone, channels re-announced, echo works" \
	test_stop_start
test_case "crash recovery re-creates the bus and re-announces" test_recovery
test_case "virtio_rpmsg_bus unbound and bound again: the remote side starts over" test_rebind
test_case "rmmod with a ttyRPMSG open; reload works" test_rmmod
sim_unload
test_case "the kernel log has no warning, bug or oops" test_no_kernel_trouble
test_summary
