#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The udev rules and rprocd-udev-name as `meson install` puts them, under
# systemd as PID 1 with udevd (tests/vm/run --systemd): rprocd boots
# fw64-rpmsg.elf on the real virtio_rpmsg_bus, and /dev/remoteproc/by-name/NAME
# and /dev/rpmsg/CORE/CHANNEL[@ADDR] point at the right nodes, echo, have
# .device units that follow channels coming and going, and a unit bound to a
# channel's device starts and stops with it (docs/UDEV.md).
# shellcheck source=tests/vm/systemd/lib-systemd.sh disable=SC2154
. "$(dirname "${BASH_SOURCE[0]}")/lib-systemd.sh"

RPMSG_ECHO=${RPROC_RPMSG_ECHO:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/tests/vm/rpmsg-echo}}
USER_UNIT=rpmsg-tty-user.service

rpmsg_echo() {
	[[ -n "$RPMSG_ECHO" && -x "$RPMSG_ECHO" ]] ||
		die "rpmsg-echo not found (set RPROCD_BUILD_DIR or RPROC_RPMSG_ECHO)"
	"$RPMSG_ECHO" "$@"
}

# dev_unit PATH - the .device unit of a /dev path
dev_unit() {
	systemd-escape -p --suffix=device "$1"
}

# dev_state PATH - ActiveState of PATH's device unit
dev_state() {
	systemctl show -P ActiveState "$(dev_unit "$1")"
}

dev_state_is() {
	[[ "$(dev_state "$1")" == "$2" ]]
}

# points_to LINK NODE - LINK is a symlink that resolves to NODE
points_to() {
	[[ -L "$1" && "$(readlink -f "$1")" == "$2" ]]
}

no_link() {
	[[ ! -e "$1" && ! -L "$1" ]]
}

# assert_link LINK NODE - LINK resolves to NODE (within 10 s), its device unit is active
assert_link() {
	wait_until 10 "$1 -> $2" points_to "$1" "$2"
	wait_until 10 "$(dev_unit "$1") active" dev_state_is "$1" active
}

# assert_no_link LINK - LINK is gone (within 10 s) and its device unit inactive
assert_no_link() {
	wait_until 10 "$1 gone" no_link "$1"
	wait_until 10 "$(dev_unit "$1") inactive" dev_state_is "$1" inactive
}

sim_rpmsg_ctl() {
	echo "$1" >"$(sim_dev 0)/rpmsg"
}

# chan_node NAME DST CLASS - /dev node of the CLASS (tty, rpmsg) device of
# instance 0's channel NAME at remote address DST, from sysfs alone
chan_node() {
	local d
	for d in /sys/bus/rpmsg/devices/*".$1.-1.$(($2))"/"$3"/*; do
		[[ -e "$d/dev" ]] && echo "/dev/${d##*/}" && return 0
	done
	return 1
}

has_node() {
	chan_node "$@" >/dev/null
}

# wait_node NAME DST CLASS - chan_node once it exists (10 s)
wait_node() {
	wait_until 10 "the $3 device of channel $1 at $2" has_node "$@"
	chan_node "$@"
}

# boot_m4 [SIM_PARAMS...] - rproc_sim loaded, rprocd boots m4 with fw64-rpmsg.elf
boot_m4() {
	sim_load "$@"
	fw_install fw64-rpmsg
	core_conf m4 "[Core]
Firmware=fw64-rpmsg.elf"
	systemctl start "$UNIT"
	assert_state 0 running
}

test_links() {
	local tty raw out
	boot_m4 names=m4 channels=rpmsg-tty+rpmsg-raw
	assert_link /dev/remoteproc/by-name/m4 "/dev/$(sim_rproc 0)"
	tty=$(wait_node rpmsg-tty 0x400 tty)
	raw=$(wait_node rpmsg-raw 0x401 rpmsg)
	assert_match "$tty" '^/dev/ttyRPMSG[0-9]+$' "rpmsg-tty's node"
	assert_match "$raw" '^/dev/rpmsg[0-9]+$' "rpmsg-raw's node"
	assert_link /dev/rpmsg/m4/rpmsg-tty "$tty"
	assert_link /dev/rpmsg/m4/rpmsg-raw "$raw"
	assert_link /dev/rpmsg/m4/rpmsg-tty@0x400 "$tty"
	assert_link /dev/rpmsg/m4/rpmsg-raw@0x401 "$raw"
	# through the links, the remote side answers
	assert_success rpmsg_echo tty /dev/rpmsg/m4/rpmsg-tty "through the stable name"
	assert_success rpmsg_echo dev /dev/rpmsg/m4/rpmsg-raw "through the stable name"
	assert_eq "$(dev_unit /dev/rpmsg/m4/rpmsg-tty)" 'dev-rpmsg-m4-rpmsg\x2dtty.device' "unit name"
	assert_eq "$(systemctl show -P ActiveState 'dev-remoteproc-by\x2dname-m4.device')" active \
		"by-name device unit"
	# what the rules put in udev's database, and nothing else links there
	log "$tty: $(udevadm info -q path "$tty")"
	out=$(udevadm info -q property "$tty")
	assert_contains "$out" "RPROC_CORE=m4" "udev properties of $tty"
	assert_contains "$out" "RPROC_CHANNEL=rpmsg-tty" "udev properties of $tty"
	assert_contains "$(udevadm info -q symlink "$tty")" "rpmsg/m4/rpmsg-tty" "symlinks of $tty"
	assert_eq "$(find /dev/rpmsg /dev/remoteproc | sort | tr '\n' ' ')" \
		"/dev/remoteproc /dev/remoteproc/by-name /dev/remoteproc/by-name/m4 /dev/rpmsg /dev/rpmsg/m4 /dev/rpmsg/m4/rpmsg-raw /dev/rpmsg/m4/rpmsg-raw@0x401 /dev/rpmsg/m4/rpmsg-tty /dev/rpmsg/m4/rpmsg-tty@0x400 " \
		"the links"
	# rpmsg_ctrl gets no link
	assert_eq "$(udevadm info -q symlink /dev/rpmsg_ctrl*)" "" "symlinks of rpmsg_ctrl"
}

# A channel destroyed at run time takes its link and device unit (and a
# unit bound to it) away; announced again, all come back.
test_destroy_announce() {
	local raw tty
	boot_m4 names=m4 channels=rpmsg-tty+rpmsg-raw
	tty=$(wait_node rpmsg-tty 0x400 tty)
	raw=$(wait_node rpmsg-raw 0x401 rpmsg)
	assert_link /dev/rpmsg/m4/rpmsg-tty "$tty"
	# the pattern of docs/UDEV.md: a service that lives with the channel
	cat >"/etc/systemd/system/$USER_UNIT" <<'EOF'
[Unit]
Description=uses /dev/rpmsg/m4/rpmsg-tty
BindsTo=dev-rpmsg-m4-rpmsg\x2dtty.device
After=dev-rpmsg-m4-rpmsg\x2dtty.device

[Service]
ExecStart=/bin/sleep infinity

[Install]
WantedBy=dev-rpmsg-m4-rpmsg\x2dtty.device
EOF
	systemctl daemon-reload
	systemctl enable "$USER_UNIT"
	systemctl start "$USER_UNIT"
	assert_eq "$(systemctl is-active "$USER_UNIT")" active "$USER_UNIT with the channel there"

	sim_rpmsg_ctl "destroy rpmsg-tty"
	assert_no_link /dev/rpmsg/m4/rpmsg-tty
	assert_no_link /dev/rpmsg/m4/rpmsg-tty@0x400
	wait_until 10 "$USER_UNIT stopped with its channel" \
		sh -c "! systemctl is-active -q $USER_UNIT"
	# the other channel and the core keep theirs
	assert_link /dev/rpmsg/m4/rpmsg-raw "$raw"
	assert_link /dev/remoteproc/by-name/m4 "/dev/$(sim_rproc 0)"

	sim_rpmsg_ctl "announce rpmsg-tty"
	tty=$(wait_node rpmsg-tty 0x400 tty)
	assert_link /dev/rpmsg/m4/rpmsg-tty "$tty"
	assert_success rpmsg_echo tty /dev/rpmsg/m4/rpmsg-tty "announced again"
	wait_until 10 "$USER_UNIT started by its channel's device" systemctl is-active -q "$USER_UNIT"

	# the core stopped: every channel goes, the core's own link stays
	systemctl stop "$UNIT"
	[[ "$(rproc_state 0)" == offline ]] || echo stop >"/sys/class/remoteproc/$(sim_rproc 0)/state"
	assert_state 0 offline
	assert_no_link /dev/rpmsg/m4/rpmsg-tty
	assert_no_link /dev/rpmsg/m4/rpmsg-raw
	wait_until 10 "$USER_UNIT stopped with the core" sh -c "! systemctl is-active -q $USER_UNIT"
	assert_link /dev/remoteproc/by-name/m4 "/dev/$(sim_rproc 0)"
	systemctl disable "$USER_UNIT"
	rm -f "/etc/systemd/system/$USER_UNIT"
	systemctl daemon-reload
}

# Two channels of one name: CHANNEL goes to the lowest address, CHANNEL@ADDR
# to each; CHANNEL moves when the lowest one goes and comes back with it.
test_same_name() {
	local low high
	boot_m4 names=m4 channels=rpmsg-tty
	low=$(wait_node rpmsg-tty 0x400 tty)
	sim_rpmsg_ctl "announce rpmsg-tty 0x500"
	high=$(wait_node rpmsg-tty 0x500 tty)
	assert_ne "$low" "$high" "the two ttys"
	assert_link /dev/rpmsg/m4/rpmsg-tty@0x400 "$low"
	assert_link /dev/rpmsg/m4/rpmsg-tty@0x500 "$high"
	udevadm settle
	assert_link /dev/rpmsg/m4/rpmsg-tty "$low"
	assert_success rpmsg_echo tty /dev/rpmsg/m4/rpmsg-tty@0x500 "to the second one"

	sim_rpmsg_ctl "destroy rpmsg-tty 0x400"
	assert_no_link /dev/rpmsg/m4/rpmsg-tty@0x400
	assert_link /dev/rpmsg/m4/rpmsg-tty "$high"

	sim_rpmsg_ctl "announce rpmsg-tty 0x400"
	low=$(wait_node rpmsg-tty 0x400 tty)
	assert_link /dev/rpmsg/m4/rpmsg-tty@0x400 "$low"
	udevadm settle
	assert_link /dev/rpmsg/m4/rpmsg-tty "$low"
}

# A second core gets its own by-name link; rmmod takes both away.
test_two_cores() {
	local m4 dsp
	sim_load names=m4,dsp
	m4=/dev/$(sim_rproc 0)
	dsp=/dev/$(sim_rproc 1)
	assert_ne "$m4" "$dsp" "the two cores' nodes"
	assert_link /dev/remoteproc/by-name/m4 "$m4"
	assert_link /dev/remoteproc/by-name/dsp "$dsp"
	sim_unload
	assert_no_link /dev/remoteproc/by-name/m4
	assert_no_link /dev/remoteproc/by-name/dsp
}

# A core named "../evil" gets an escaped link inside by-name/, nothing outside it.
test_hostile_name() {
	local node link
	sim_load 'names=../evil,a:b'
	node=/dev/$(sim_rproc 0)
	link='/dev/remoteproc/by-name/\x2e.\x2fevil'
	assert_link "$link" "$node"
	assert_eq "$(dev_unit "$link")" 'dev-remoteproc-by\x2dname-\x5cx2e.\x5cx2fevil.device' "unit name"
	assert_link /dev/remoteproc/by-name/a:b "/dev/$(sim_rproc 1)"
	assert_eq "$(find /dev/remoteproc | sort | tr '\n' ' ')" \
		"/dev/remoteproc /dev/remoteproc/by-name /dev/remoteproc/by-name/\\x2e.\\x2fevil /dev/remoteproc/by-name/a:b " \
		"everything below /dev/remoteproc"
	assert_not_exists /dev/remoteproc/evil
	assert_not_exists /dev/evil
}

# The firmware's trace buffer in the journal, read by rprocd.service as
# installed (its sandbox lets it read debugfs), shown by rprocctl logs.
test_firmware_log() {
	local i out before
	# Earlier cases booted an m4 too: count what this boot adds.
	before=$(rprocctl logs m4 | grep -c 'boot 1, firmware' || true)
	boot_m4 names=m4 channels=rpmsg-tty
	for ((i = 0; i < 50; i++)); do
		(($(rprocctl logs m4 2>/dev/null | grep -c "rproc_sim m4: boot 1, firmware ") > before)) && break
		sleep 0.2
	done
	out=$(rprocctl logs m4)
	# The kernel's name of the image: the staged copy (the package installs staging's link).
	assert_contains "$out" "m4: rproc_sim m4: boot 1, firmware rprocd/sha256-" "rprocctl logs: the banner"
	assert_contains "$(journalctl -o cat SYSLOG_IDENTIFIER=m4)" "rproc_sim m4: boot 1" \
		"the journal has it under the core's name"
	sim_rpmsg_ctl "announce late"
	for ((i = 0; i < 50; i++)); do
		rprocctl logs -n 1 m4 | grep -q "control rpmsg: announce late" && break
		sleep 0.2
	done
	out=$(rprocctl logs -n 1 m4)
	assert_eq "$(wc -l <<<"$out")" 1 "rprocctl logs -n 1: one line"
	assert_contains "$out" "control rpmsg: announce late" "the last line"
	assert_eq "$(rprocctl logs m4 | grep -c 'boot 1, firmware')" $((before + 1)) \
		"this boot's banner once"
	assert_eq "$(rprocctl logs ghost | wc -l)" 0 "no lines for a core that has none"
}

rprocd_install
# rules.d changed under udevd: make it read them now
udevadm control --reload || die "udevadm control --reload failed"
# Arguments: case names to run only those (default: all).
cases=("$@")
((${#cases[@]})) || cases=(test_links test_destroy_announce test_same_name test_two_cores
	test_hostile_name test_firmware_log)
for t in "${cases[@]}"; do
	service_reset
	udevadm settle
	test_case "$t" "$t"
done
service_reset
test_summary
