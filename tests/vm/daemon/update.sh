#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A/B firmware updates on the real kernel (issue 17): rprocctl update boots a
# candidate on trial; it is committed after UpdateConfirmSec= without a crash,
# rolled back on a crash, a failed boot or a reboot, and the decision survives
# a kill -9 of rprocd. rproc_sim's "loaded" file says which image the kernel's
# loader got. Every refusal leaves the core running what it ran.
# shellcheck source=tests/vm/daemon/lib-daemon.sh disable=SC2154
. "$(dirname "${BASH_SOURCE[0]}")/lib-daemon.sh"

STATE=/var/lib/rprocd/update/m4
IMAGES=/var/lib/rprocd/images

sha256() {
	sha256sum "$1" | cut -d' ' -f1
}

loaded_crc() {
	sed -nE 's/.*crc32=([0-9a-f]+).*/\1/p' "$(sim_dev 0)/loaded"
}

file_crc() {
	python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(open(sys.argv[1], "rb").read()))' "$1"
}

# m4 running fw64 (m4.elf), staging on; the candidate is fw32 in /root/new.elf
m4_up() {
	ln -sfn /run/rprocd/firmware /lib/firmware/rprocd
	sim_load names=m4 "${SIM_ARGS[@]}"
	fw_install fw64 m4.elf
	cp "$(fw_image fw32)" /root/new.elf
	core_conf m4 "[Core]
Firmware=m4.elf
$1"
	rprocd_up
	wait_state 0 running
	OLD_CRC=$(file_crc /lib/firmware/m4.elf)
	NEW_CRC=$(file_crc /root/new.elf)
	NEW=sha256:$(sha256 /root/new.elf)
}
SIM_ARGS=()

test_update_commits() {
	m4_up "UpdateConfirmSec=6s"
	assert_eq "$(prop m4 FirmwareSource)" config "FirmwareSource before"
	assert_success rprocctl update m4 /root/new.elf
	assert_eq "$(loaded_crc)" "$NEW_CRC" "the candidate runs"
	assert_eq "$(prop m4 FirmwareSource)" update-trial "on trial"
	assert_eq "$(prop m4 UpdateTrial)" "$NEW" "UpdateTrial"
	assert_contains "$(cat "$STATE")" "trial $NEW" "the trial is on disk"
	wait_prop m4 UpdateCommitted "$NEW" 20
	assert_eq "$(prop m4 UpdateTrial)" "" "no trial after the commit"
	assert_eq "$(prop m4 FirmwareSource)" update-committed "FirmwareSource"
	assert_contains "$(prop m4 LastUpdateResult)" "committed" "LastUpdateResult"
	assert_contains "$(cat "$STATE")" "committed $NEW" "the commit is on disk"
	assert_contains "$(rprocd_log)" "id=5daaf0bc" "the commit's MESSAGE_ID"
	# A reboot (rprocd gone, the core down): the committed image boots next time.
	rprocd_kill
	echo stop >"/sys/class/remoteproc/$(rproc_core 0)/state"
	rm -rf /run/rprocd
	rprocd_up
	wait_state 0 running
	assert_eq "$(loaded_crc)" "$NEW_CRC" "the committed image boots"
	assert_eq "$(prop m4 FirmwareSource)" update-committed "after the reboot"
	# A new Firmware= (a new release installed) wins over the committed update.
	cp "$(fw_image fw64)" /lib/firmware/m4-v2.elf
	core_conf m4 "[Core]
Firmware=m4-v2.elf"
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	assert_eq "$(dbus_error m4 Restart)" ok "Restart"
	assert_eq "$(loaded_crc)" "$(file_crc /lib/firmware/m4-v2.elf)" "Firmware= changed: it boots"
	assert_eq "$(prop m4 FirmwareSource)" config "FirmwareSource"
}

test_update_rolls_back_on_crash() {
	m4_up "UpdateConfirmSec=30s
OnCrash=kernel"
	assert_success rprocctl update m4 /root/new.elf
	assert_eq "$(loaded_crc)" "$NEW_CRC" "the candidate runs"
	sim_crash 0
	wait_prop m4 UpdateTrial "" 10
	wait_prop m4 Busy false 10
	wait_state 0 running
	assert_eq "$(loaded_crc)" "$OLD_CRC" "rolled back to Firmware="
	assert_contains "$(prop m4 LastUpdateResult)" "rolled back: it crashed during its trial" "why"
	assert_eq "$(prop m4 UpdateCommitted)" "" "nothing committed"
	assert_eq "$(prop m4 FirmwareSource)" config "FirmwareSource"
	assert_contains "$(rprocd_log)" "id=a1037891" "the rollback's MESSAGE_ID"
	[[ ! -e "$STATE" ]] || _assert_fail "a state file with nothing in it: $(cat "$STATE")"
	# The candidate's image goes once nothing refers to it.
	for ((i = 0; i < 30; i++)); do
		[[ -z "$(ls "$IMAGES" 2>/dev/null)" ]] && break
		sleep 0.1
	done
	assert_eq "$(ls "$IMAGES")" "" "rolled-back image removed"
}

test_update_kill9_during_trial() {
	m4_up "UpdateConfirmSec=4s"
	assert_success rprocctl update m4 /root/new.elf
	rprocd_kill # SIGKILL: no OnExit=, no goodbye
	assert_eq "$(loaded_crc)" "$NEW_CRC" "the candidate runs on"
	rprocd_up
	assert_contains "$(rprocd_log)" "goes on after a restart of rprocd" "the trial resumes"
	assert_eq "$(prop m4 UpdateTrial)" "$NEW" "still on trial"
	wait_prop m4 UpdateCommitted "$NEW" 15
	# Killed again during a second trial, and the core went down meanwhile (a
	# reboot): rolled back to the committed image.
	cp "$(fw_image fw64)" /root/newer.elf
	assert_success rprocctl update m4 /root/newer.elf
	rprocd_kill
	echo stop >"/sys/class/remoteproc/$(rproc_core 0)/state"
	rprocd_up
	wait_state 0 running
	assert_contains "$(prop m4 LastUpdateResult)" "was not running when rprocd started" "why"
	assert_eq "$(loaded_crc)" "$NEW_CRC" "the committed image boots, not the candidate"
	assert_eq "$(prop m4 UpdateCommitted)" "$NEW" "still committed"
}

# A candidate the validator takes and the kernel refuses: Update fails, rolled back.
test_update_failed_boot() {
	local out
	m4_up "UpdateConfirmSec=30s"
	cp "$(fw_image fw64-outside)" /root/new.elf
	out=$(rprocctl update m4 /root/new.elf 2>&1) && _assert_fail "a candidate that cannot boot was taken: $out"
	assert_contains "$out" "failed to boot" "the caller hears it"
	wait_prop m4 Busy false 10
	wait_state 0 running
	assert_eq "$(loaded_crc)" "$OLD_CRC" "the old image runs again"
	assert_eq "$(prop m4 UpdateTrial)" "" "no trial"
	assert_contains "$(prop m4 LastUpdateResult)" "rolled back" "LastUpdateResult"
	sleep 1
	local starts
	starts=$(sim_counter 0 start)
	sleep 1.5
	assert_eq "$(sim_counter 0 start)" "$starts" "no restart loop"
}

# A Stop during the trial ends it: rolled back, not committed later.
test_update_stopped_during_trial() {
	m4_up "UpdateConfirmSec=3s"
	assert_success rprocctl update m4 /root/new.elf
	assert_eq "$(dbus_error m4 Stop)" ok "Stop"
	wait_prop m4 UpdateTrial "" 10
	assert_contains "$(prop m4 LastUpdateResult)" "stopped running" "why"
	sleep 3.5
	assert_eq "$(prop m4 UpdateCommitted)" "" "not committed"
	assert_eq "$(dbus_error m4 Start)" ok "Start"
	assert_eq "$(loaded_crc)" "$OLD_CRC" "Start boots Firmware="
}

test_update_manual_decisions() {
	m4_up "UpdateConfirmSec=1h"
	assert_success rprocctl update m4 /root/new.elf
	assert_success rprocctl update m4 --confirm
	assert_eq "$(prop m4 UpdateCommitted)" "$NEW" "confirmed by hand"
	assert_failure rprocctl update m4 --confirm # nothing on trial
	cp "$(fw_image fw64)" /root/newer.elf
	assert_success rprocctl update m4 /root/newer.elf
	assert_success rprocctl update m4 --rollback
	# answered once the committed image runs again, as Restart is
	assert_eq "$(loaded_crc)" "$NEW_CRC" "back to the committed image when --rollback returned"
	assert_state 0 running
	assert_eq "$(prop m4 UpdateTrial)" "" "no trial"
	assert_contains "$(prop m4 LastUpdateResult)" "rolled back by the operator" "why"
}

# Each refusal is named, and the core keeps what it runs.
test_update_refusals() {
	local starts
	m4_up "UpdateConfirmSec=1h"
	starts=$(sim_counter 0 start)
	head -c 200 /root/new.elf >/root/bad.elf
	assert_failure rprocctl update m4 /root/bad.elf
	assert_eq "$(dbus_error m4 Update)" org.freedesktop.DBus.Error.InvalidArgs "Update without an fd"
	# A full disk: the copy fails, nothing is left behind.
	mkdir -p "$IMAGES"
	mount -t tmpfs -o size=4k tmpfs "$IMAGES"
	local out
	out=$(rprocctl update m4 /root/new.elf 2>&1) && _assert_fail "update on a full disk succeeded"
	assert_contains "$out" "No space left on device" "ENOSPC named"
	assert_eq "$(ls -A "$IMAGES")" "" "no partial copy left"
	umount "$IMAGES"
	assert_eq "$(sim_counter 0 start)" "$starts" "the core was never touched"
	assert_eq "$(prop m4 UpdateTrial)" "" "no trial"
	# Two updates: the second is refused while the first is on trial.
	assert_success rprocctl update m4 /root/new.elf
	out=$(rprocctl update m4 /root/new.elf 2>&1) && _assert_fail "a second update was taken"
	assert_contains "$out" "is on trial" "UpdateInProgress"
	assert_success rprocctl update m4 --rollback
	wait_prop m4 Busy false 10
	# Pinned: only the qualified image may run, updates included.
	core_conf m4 "[Core]
Firmware=m4.elf
FirmwareDigest=sha256:$(sha256 /lib/firmware/m4.elf)"
	kill -HUP "$(cat /run/rprocd-test.pid)"
	sleep 0.5
	starts=$(sim_counter 0 start)
	out=$(rprocctl update m4 /root/new.elf 2>&1) && _assert_fail "a pinned core took another image"
	assert_contains "$out" "not one FirmwareDigest= allows" "the pin named"
	assert_eq "$(sim_counter 0 start)" "$starts" "the core was never touched"
	# A copy cut short by a kill is removed at the next start.
	touch "$IMAGES/.stage-deadbeef-1"
	rprocd_kill
	rprocd_up
	sleep 1
	[[ ! -e "$IMAGES/.stage-deadbeef-1" ]] || _assert_fail "a leftover copy stayed"
}

test_update_unmanaged_and_wedged() {
	local out
	ln -sfn /run/rprocd/firmware /lib/firmware/rprocd
	sim_load names=m4,lonely
	fw_install fw64 m4.elf
	cp "$(fw_image fw32)" /root/new.elf
	core_conf m4 "[Core]
Firmware=m4.elf
OnCrash=restart
RestartSec=100ms"
	daemon_conf "PollIntervalSec=100ms"
	rprocd_up
	wait_state 0 running
	out=$(rprocctl update lonely /root/new.elf 2>&1) && _assert_fail "an unmanaged core was updated"
	assert_contains "$out" "has no configuration" "NotManaged"
	# Wedged: the kernel's recovery cannot find the image (its staged copy removed).
	rm -f /run/rprocd/firmware/sha256-*
	sim_crash 0
	wait_prop m4 Wedged true 10
	out=$(rprocctl update m4 /root/new.elf 2>&1) && _assert_fail "a wedged core was updated"
	assert_contains "$out" "wedged" "Wedged"
	assert_eq "$(prop m4 UpdateTrial)" "" "no trial"
}

cleanup() {
	umount /var/lib/rprocd/images 2>/dev/null || true
	rm -f /lib/firmware/rprocd /root/new.elf /root/newer.elf /root/bad.elf
}
trap cleanup EXIT

run_cases test_update_commits test_update_rolls_back_on_crash test_update_kill9_during_trial \
	test_update_failed_boot test_update_stopped_during_trial test_update_manual_decisions test_update_refusals test_update_unmanaged_and_wedged
