#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo (README's first command runs it through tests/demo): a real kernel
# with three simulated remote processors — m4 offline, dsp already running as
# if a bootloader had started it, r5f that crashes and talks rpmsg (ready
# once its firmware announced its channel) — managed by rprocd with the
# example configurations of configs/, watched with rprocctl and busctl.
. "$(dirname "${BASH_SOURCE[0]}")/daemon/lib-daemon.sh"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@" || true; }

sim_load names=m4,dsp,r5f detached=0,1,0 boot_ms=0,0,300 channels=,,rpmsg-tty+rpmsg-raw
fw_install fw32 rproc-demo-m4.elf
fw_install fw64-rpmsg rproc-demo-r5f.elf
fw_install fw64-norsc rproc-demo-r5f-safe.elf
# Firmware staging's route, as the package installs it: the kernel loads checked copies.
ln -sfn /run/rprocd/firmware /lib/firmware/rprocd
mkdir -p /etc/rprocd/cores/m4.core.d
cp "$RPROCD_SOURCE_DIR"/configs/cores/*.core /etc/rprocd/cores/
printf '[Core]\nUpdateConfirmSec=2s\n' >/etc/rprocd/cores/m4.core.d/demo-update.conf
cp "$RPROCD_SOURCE_DIR"/configs/rprocd.conf /etc/rprocd/

echo "Kernel $(uname -r); the kernel's remote processors before rprocd:"
for d in /sys/class/remoteproc/remoteproc*; do
	printf '  %s  name=%-4s state=%s\n' "${d##*/}" "$(cat "$d/name")" "$(cat "$d/state")"
done

run rprocctl verify
run rprocctl validate /lib/firmware/rproc-demo-m4.elf
head -c 200 /lib/firmware/rproc-demo-r5f.elf >/tmp/broken.elf
run rprocctl validate /tmp/broken.elf

say "rprocd &   (waits for READY=1)"
rprocd_up
run rprocctl list
run rprocctl status m4 dsp r5f

say "r5f is ready: its firmware announced rpmsg-tty; rprocctl wait --ready returns at once"
run rprocctl wait --ready --timeout=10s r5f
tty=$(busctl --json=short get-property org.rprocd1 /org/rprocd1/core/r5f org.rprocd1.Core Channels |
	python3 -c 'import json, sys
print(next(n for c, s, d, dev, n in json.load(sys.stdin)["data"] if c == "rpmsg-tty"))')
say "echo through $tty (the node Channels gives; the simulated firmware echoes)"
"$RPROCD_BUILD_DIR/tests/vm/rpmsg-echo" tty "$tty" "hello, r5f" && echo "  echoed: hello, r5f"

say "rprocctl monitor &   then the r5f crashes (echo 1 > .../rproc_sim.2/crash)"
rprocctl monitor >/tmp/monitor.txt 2>/dev/null &
mon=$!
sleep 0.5
sim_crash 2
for ((i = 0; i < 40; i++)); do
	[[ "$(prop r5f CrashCount)" == 1 && "$(rproc_state 2)" == running ]] && break
	sleep 0.25
done
sleep 0.5
kill "$mon"
cat /tmp/monitor.txt
run rprocctl status r5f
run busctl get-property org.rprocd1 /org/rprocd1/core/r5f org.rprocd1.Core CrashCount State

say "an A/B update of m4 that commits: staged, checked, booted on trial, committed after UpdateConfirmSec=2s"
cp "$(fw_image fw32-norsc)" /tmp/m4-v2.elf
run rprocctl update m4 /tmp/m4-v2.elf
run busctl get-property org.rprocd1 /org/rprocd1/core/m4 org.rprocd1.Core FirmwareSource UpdateTrial
sleep 2.5
run busctl get-property org.rprocd1 /org/rprocd1/core/m4 org.rprocd1.Core FirmwareSource UpdateCommitted LastUpdateResult

say "an update of m4 that crashes in its trial: rolled back to the committed image"
{ cat "$(fw_image fw32)"; echo "build 3"; } >/tmp/m4-v3.elf
run rprocctl update m4 /tmp/m4-v3.elf
sim_crash 0
for ((i = 0; i < 40; i++)); do
	[[ -z "$(prop m4 UpdateTrial)" && "$(prop m4 Busy)" == false && "$(rproc_state 0)" == running ]] && break
	sleep 0.25
done
run busctl get-property org.rprocd1 /org/rprocd1/core/m4 org.rprocd1.Core FirmwareSource FirmwareDigest LastUpdateResult
echo "  the kernel loads: $(cat /sys/class/remoteproc/$(sim_rproc 0)/firmware)"

say "kill -TERM rprocd   (OnExit=: m4 stops, dsp detaches and keeps running)"
rprocd_kill TERM
for d in /sys/class/remoteproc/remoteproc*; do
	printf '  %s  name=%-4s state=%s\n' "${d##*/}" "$(cat "$d/name")" "$(cat "$d/state")"
done
echo "  dsp hw_running=$(sim_hw_running 1) (still executing after the detach)"

say "what rprocd logged (the journal gets the same entries with RPROC_CORE=, MESSAGE_ID=, …)"
rprocd_log
