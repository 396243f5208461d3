#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Firmware staging, ownership rules and pinning on the real kernel (issue
# 17): rprocd copies the image it checked into /run/rprocd/firmware and the
# kernel loads that copy through /lib/firmware/rprocd; rproc_sim's "loaded"
# file says which bytes the kernel's loader got (size and CRC-32). A file
# swapped while a boot is under way must not reach the kernel.
# shellcheck source=tests/vm/daemon/lib-daemon.sh disable=SC2154
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

STAGE=/run/rprocd/firmware

route_on() {
	ln -sfn "$STAGE" /lib/firmware/rprocd
}

route_off() {
	rm -f /lib/firmware/rprocd
}

sha256() {
	sha256sum "$1" | cut -d' ' -f1
}

# loaded_crc N - the CRC-32 of what instance N's loader got
loaded_crc() {
	sed -nE 's/.*crc32=([0-9a-f]+).*/\1/p' "$(sim_dev "$1")/loaded"
}

file_crc() {
	python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$1"
}

wait_for_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e "$1" ]] && return 0
		sleep 0.05
	done
	_assert_fail "$1 did not appear"
}

m4_core() {
	sim_load names=m4
	fw_install fw64 m4.elf
	core_conf m4 "[Core]
Firmware=m4.elf
${1:-}"
}

# The kernel loads the staged copy, named by its digest; the digest is on the bus.
test_staged_boot() {
	local digest
	route_on
	m4_core
	digest=$(sha256 /lib/firmware/m4.elf)
	dmesg -C
	rprocd_up
	wait_state 0 running
	assert_contains "$(dmesg)" "Booting fw image rprocd/sha256-$digest" "the kernel loaded the copy"
	assert_eq "$(rproc_attr 0 firmware)" "rprocd/sha256-$digest" "the kernel's name"
	assert_eq "$(prop m4 FirmwareDigest)" "sha256:$digest" "FirmwareDigest"
	assert_eq "$(loaded_crc 0)" "$(file_crc /lib/firmware/m4.elf)" "the bytes loaded"
	assert_eq "$(stat -c %a "$STAGE/sha256-$digest")" 400 "the copy is read-only"
	assert_eq "$(stat -c %a "$STAGE")" 700 "only rprocd writes the directory"
	# Another image: the old copy goes once nothing uses it.
	fw_install fw32 m4-32.elf
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:m4-32.elf)" ok "another image"
	wait_state 0 running
	assert_eq "$(rproc_attr 0 firmware)" "rprocd/sha256-$(sha256 /lib/firmware/m4-32.elf)" "new copy"
	for ((i = 0; i < 50; i++)); do
		[[ -e "$STAGE/sha256-$digest" ]] || break
		sleep 0.1
	done
	assert_eq "$(ls "$STAGE")" "sha256-$(sha256 /lib/firmware/m4-32.elf)" "only the copy in use is kept"
}

# Swap the file while the boot is under way (a test hook holds the worker
# between the check and the kernel's read): the kernel still loads the
# checked bytes. Without staging the same swap reaches the kernel, which is
# what the test would see if staging did not work.
test_swap_during_boot() {
	local good bad
	route_on
	m4_core "Start=no"
	good=$(file_crc /lib/firmware/m4.elf)
	bad=$(file_crc "$(fw_image fw32)")
	RPROCD_TEST_BOOT_DELAY_MS=1500 rprocd_up
	core_call m4 Start >/run/start.out 2>&1 &
	local caller=$!
	# The copy is made, then the hook holds the boot: swap now.
	wait_for_file "$STAGE/sha256-$(sha256 /lib/firmware/m4.elf)"
	cp "$(fw_image fw32)" /lib/firmware/m4.elf.new
	mv /lib/firmware/m4.elf.new /lib/firmware/m4.elf
	wait "$caller" || _assert_fail "Start failed: $(cat /run/start.out)"
	wait_state 0 running
	assert_eq "$(loaded_crc 0)" "$good" "the kernel loaded the checked bytes, not the swapped file"
	assert_ne "$(prop m4 FirmwareDigest)" "sha256:$(sha256 /lib/firmware/m4.elf)" "digest of the checked image"
	# The control: without staging the swapped file reaches the kernel.
	rprocd_kill
	echo stop >"/sys/class/remoteproc/$(rproc_core 0)/state"
	fw_install fw64 m4.elf
	daemon_conf "FirmwareStaging=no"
	RPROCD_TEST_BOOT_DELAY_MS=4000 rprocd_up
	core_call m4 Start >/run/start.out 2>&1 &
	caller=$!
	sleep 1.5
	cp "$(fw_image fw32)" /lib/firmware/m4.elf.new
	mv /lib/firmware/m4.elf.new /lib/firmware/m4.elf
	wait "$caller" || true
	assert_eq "$(loaded_crc 0)" "$bad" "without staging the kernel reads the swapped file"
	assert_contains "$(prop m4 LastError)" "changed between validation and boot" "and rprocd says so"
}

# FirmwareDigest=: any other image is refused before the kernel sees it.
test_digest_pinning() {
	local digest other
	route_on
	digest=$(sha256 "$(fw_image fw64)")
	other=0000000000000000000000000000000000000000000000000000000000000000
	m4_core "FirmwareDigest=sha256:$other"
	dmesg -C
	rprocd_up
	wait_prop m4 Busy false
	assert_eq "$(rproc_attr 0 state)" offline "not booted"
	assert_contains "$(prop m4 LastError)" "sha256:$digest" "the image's digest"
	assert_contains "$(prop m4 LastError)" "sha256:$other" "the pinned one"
	assert_not_contains "$(dmesg)" "Booting fw image" "the kernel never saw it"
	assert_eq "$(sim_counter 0 load)" 0 "nothing loaded"
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.InvalidFirmware "Start of a pinned core"
	# Two digests, the image's among them (uppercase is the same digest).
	core_conf m4 "[Core]
Firmware=m4.elf
FirmwareDigest=sha256:$other sha256:${digest^^}"
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	assert_eq "$(dbus_error m4 Start)" ok "Start with the right digest"
	assert_eq "$(prop m4 FirmwareDigest)" "sha256:$digest" "FirmwareDigest"
	# Pinning holds without staging too (read, hashed and checked before the kernel's read).
	route_off
	assert_eq "$(dbus_error m4 Stop)" ok Stop
	fw_install fw32 m4.elf
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.InvalidFirmware "another image, no staging"
	assert_eq "$(sim_counter 0 load)" 1 "loaded once only"
}

# sshd's StrictModes: a file or directory others may write is refused, named with its mode.
test_strict_modes() {
	route_on
	m4_core "Start=no"
	chmod 664 /lib/firmware/m4.elf
	rprocd_up
	assert_eq "$(dbus_error m4 Start)" org.rprocd1.Error.InvalidFirmware "group-writable image"
	assert_contains "$(prop m4 LastError)" "/lib/firmware/m4.elf: writable by its group" "LastError"
	assert_contains "$(prop m4 LastError)" "mode 0664" "the mode"
	chmod 644 /lib/firmware/m4.elf
	mkdir -p /lib/firmware/vendor
	chmod 777 /lib/firmware/vendor
	fw_install fw64 vendor/m4.elf
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:vendor/m4.elf)" \
		org.rprocd1.Error.InvalidFirmware "a world-writable directory"
	assert_contains "$(prop m4 LastError)" "/lib/firmware/vendor: writable by others" "LastError"
	assert_eq "$(sim_counter 0 load)" 0 "nothing loaded"
	# Relaxed for a development board.
	daemon_conf "FirmwareStrictModes=no"
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	assert_eq "$(dbus_error m4 SetFirmwareAndRestart string:vendor/m4.elf)" ok "FirmwareStrictModes=no"
	rm -rf /lib/firmware/vendor
}

# Firmware= may be an absolute path with staging; without it, the boot says why not.
test_absolute_path() {
	route_on
	sim_load names=m4
	mkdir -p /opt/fw
	cp "$(fw_image fw64)" /opt/fw/m4.elf
	core_conf m4 "[Core]
Firmware=/opt/fw/m4.elf"
	rprocd_up
	wait_state 0 running
	assert_eq "$(loaded_crc 0)" "$(file_crc /opt/fw/m4.elf)" "the image outside /lib/firmware"
	assert_eq "$(prop m4 ConfiguredFirmware)" /opt/fw/m4.elf "ConfiguredFirmware"
	rprocd_kill
	echo stop >"/sys/class/remoteproc/$(rproc_core 0)/state"
	route_off
	rprocd_up
	wait_prop m4 Busy false
	assert_eq "$(rproc_attr 0 state)" offline "not booted without staging"
	assert_contains "$(prop m4 LastError)" "needs firmware staging" "LastError"
	rm -rf /opt/fw
}

# FirmwareStaging=yes without a route: boots fail and say what to install.
test_staging_required() {
	route_off
	m4_core
	daemon_conf "FirmwareStaging=yes"
	rprocd_up
	wait_prop m4 Busy false
	assert_eq "$(rproc_attr 0 state)" offline "not booted"
	assert_contains "$(prop m4 LastError)" "install the link /lib/firmware/rprocd" "LastError"
	# The link appears, a reload sees it.
	route_on
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	assert_eq "$(dbus_error m4 Start)" ok "Start once the route is there"
	assert_contains "$(rproc_attr 0 firmware)" "rprocd/sha256-" "staged"
}

cleanup_route() {
	route_off
	rm -rf "$STAGE"
}
trap cleanup_route EXIT

run_cases test_staged_boot test_swap_during_boot test_digest_pinning test_strict_modes \
	test_absolute_path test_staging_required
