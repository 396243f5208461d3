#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fault matrix, firmware (issue 8, item 2): malformed images made by fw-forge
# (truncated, overlapping segments, tables outside the file, wrong class,
# machine, endianness, version or header sizes, no PT_LOAD, huge p_memsz, bad
# sections and resource tables, empty, text, too large), a directory, a FIFO,
# a missing file and invalid names are refused through D-Bus with
# org.rprocd1.Error.InvalidFirmware and a named error in LastError, rprocctl
# status and the log, before the kernel sees them: no "Booting fw image", no
# load, the sysfs firmware attribute untouched; an offline core stays offline,
# a running core keeps running its image, the other cores are unaffected.
# Images the validator accepts and the kernel refuses give org.rprocd1.Error.Kernel.EINVAL with the
# errno and an offline core, never retried. A file replaced between validation
# and boot is noticed: a malformed replacement stops the core, a valid one
# runs with a warning.
# shellcheck disable=SC2154 # the p_* variables are set by props

. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

FW_FORGE=${FW_FORGE:-${RPROCD_BUILD_DIR:+$RPROCD_BUILD_DIR/tests/vm/fw-forge}}
BAD=/lib/firmware/bad	  # images the validator must refuse
KERN=/lib/firmware/kern	  # images it accepts and the kernel refuses
LIST=/run/fw-forge.list	  # "FILE EXPECTED" lines
FORGE_ERR=/run/fw-forge.err
E_FW=org.rprocd1.Error.InvalidFirmware

# The cores (rproc_sim instances):
#   0 m4      offline, Firmware=bad/slot.elf, Start=no; class 64, X86_64
#   1 dsp     running fw64 (dsp.elf); class 64, X86_64
#   2 strict  rsc_required=1, Firmware=norsc.elf (the kernel refuses it)
#   3 slow    boot_ms=3000, Firmware=swap.elf, Start=no
#   4 cfgbad  Firmware=bad/overlap.elf at start-up
#   5 cfgname Firmware=../../etc/passwd (an invalid name in the core file)
t_setup() {
	daemon_reset
	dmesg -C
	sim_load names=m4,dsp,strict,slow,cfgbad,cfgname rsc_required=0,0,1,0,0,0 \
		boot_ms=0,0,0,3000,0,0
	[[ -n "$FW_FORGE" && -x "$FW_FORGE" ]] || die "fw-forge not built ($FW_FORGE)"
	rm -rf "$BAD" "$KERN"
	mkdir -p "$BAD" "$KERN"
	local rc=0
	"$FW_FORGE" "$BAD" >"$LIST" 2>"$FORGE_ERR" || rc=$?
	echo "$rc" >/run/fw-forge.rc
	((rc == 0 || rc == 3)) || die "fw-forge failed ($rc): $(cat "$FORGE_ERR")"
	# The images the kernel is to see leave bad/: no kernel message may name bad/.
	local f want
	while read -r f want; do
		if [[ "$want" == kernel:* || "$want" == ok ]]; then
			mv "$BAD/$f" "$KERN/$f"
		fi
	done <"$LIST"
	cp "$KERN/good.elf" "$BAD/slot.elf"
	fw_install fw64 dsp.elf
	fw_install fw64-norsc norsc.elf
	fw_install fw64 swap.elf
	core_conf m4 "[Core]
Firmware=bad/slot.elf
Start=no
FirmwareClass=64
FirmwareMachine=X86_64"
	core_conf dsp "[Core]
Firmware=dsp.elf
FirmwareClass=64
FirmwareMachine=X86_64"
	core_conf strict "[Core]
Firmware=norsc.elf"
	core_conf slow "[Core]
Firmware=swap.elf
Start=no"
	core_conf cfgbad "[Core]
Firmware=bad/overlap.elf"
	core_conf cfgname "[Core]
Firmware=../../etc/passwd"
	rprocd_up
	wait_prop dsp State running
	assert_state 1 running
	assert_state 0 offline
}

t_forge_self_check() {
	local n
	n=$(wc -l <"$LIST")
	((n >= 22)) || _assert_fail "only $n images forged"
	assert_eq "$(cat /run/fw-forge.rc)" 0 "fw-forge: librproc judges every image as listed ($(cat "$FORGE_ERR"))"
}

# Under TCG every exec costs a few hundred milliseconds: the per-image checks
# use one dbus-send or busctl per call and bash builtins for the rest.

# call CORE METHOD [TYPE:VALUE] - sets err to "ok" or the D-Bus error name
call() {
	local core=$1 method=$2 out
	shift 2
	if out=$(dbus-send --system --print-reply --reply-timeout=30000 --dest=org.rprocd1 \
		"/org/rprocd1/core/$core" "org.rprocd1.Core.$method" "$@" 2>&1); then
		err=ok
	elif [[ "$out" =~ Error\ ([A-Za-z0-9_.]+): ]]; then
		err=${BASH_REMATCH[1]}
	else
		err="(no error name) $out"
	fi
}

# props CORE PROPERTY... - one busctl call; sets p_PROPERTY for each
props() {
	local core=$1 out line i=0
	shift
	out=$(busctl get-property org.rprocd1 "/org/rprocd1/core/$core" org.rprocd1.Core "$@") ||
		_assert_fail "cannot read $* of $core"
	while IFS= read -r line; do
		line=${line#* }
		line=${line#\"}
		printf -v "p_$1" '%s' "${line%\"}"
		shift
	done <<<"$out"
}

# snapshot - sets snap to the kernel-side state of m4 and dsp: counters,
# firmware attributes, states
snapshot() {
	local c0 c1 f0 f1 s0 s1
	read -r c0 <"$SIM_SYSFS/rproc_sim.0/counters"
	read -r c1 <"$SIM_SYSFS/rproc_sim.1/counters"
	read -r f0 <"/sys/class/remoteproc/$R0/firmware"
	read -r f1 <"/sys/class/remoteproc/$R1/firmware"
	read -r s0 <"/sys/class/remoteproc/$R0/state"
	read -r s1 <"/sys/class/remoteproc/$R1/state"
	snap="m4[$c0 fw=$f0 $s0] dsp[$c1 fw=$f1 $s1]"
}

# log_lines - sets nlog to the number of lines rprocd has logged
log_lines() {
	local -a l
	mapfile -t l </run/rprocd-test.log
	nlog=${#l[@]}
}

# log_since N - sets log to what rprocd logged after its first N lines
log_since() {
	local -a l
	mapfile -t -s "$1" l </run/rprocd-test.log
	log="${l[*]}"
}

daemon_alive() {
	local pid
	read -r pid </run/rprocd-test.pid
	alive "$pid" || _assert_fail "rprocd died: $(rprocd_log | tail -n 20)"
}

# t_image FILE EXPECTED - refused on the offline core (SetFirmware, then Start
# with it as the configured file) and on the running one (SetFirmwareAndRestart)
t_image() {
	local f=$1 want=$2 before n0 err snap nlog log out
	snapshot
	before=$snap
	log_lines
	n0=$nlog

	# SetFirmware on the offline core: refused, nothing configured.
	call m4 SetFirmware "string:bad/$f"
	assert_eq "$err" "$E_FW" "SetFirmware bad/$f on offline m4"
	log_since "$n0"
	assert_contains "$log" "firmware bad/$f refused" "rprocd log names the file"
	assert_contains "$log" "($want)" "rprocd log names the error"

	# The configured file itself is the bad image: Start validates it again.
	ln -f "$BAD/$f" "$BAD/slot.elf"
	call m4 Start
	assert_eq "$err" "$E_FW" "Start of m4 with bad/slot.elf = $f"
	out=$(rprocctl status m4) || true # exit 3: not running
	assert_contains "$out" "Last error: firmware bad/slot.elf refused" "LastError names the file"
	assert_contains "$out" "($want)" "LastError names the error"
	assert_contains "$out" "State: offline" "State"
	assert_contains "$out" "Configured: bad/slot.elf" "ConfiguredFirmware unchanged"

	# The running core keeps running its image.
	call dsp SetFirmwareAndRestart "string:bad/$f"
	assert_eq "$err" "$E_FW" "SetFirmwareAndRestart bad/$f on running dsp"
	props dsp LastError State Firmware ConfiguredFirmware
	assert_contains "$p_LastError" "($want)" "dsp LastError names the error"
	assert_eq "$p_State" running "dsp State"
	assert_eq "$p_Firmware" dsp.elf "dsp Firmware"
	assert_eq "$p_ConfiguredFirmware" dsp.elf "dsp ConfiguredFirmware"

	# The kernel never saw it; both cores are where they were.
	snapshot
	assert_eq "$snap" "$before" "counters, firmware attributes and states"
	assert_not_contains "$(dmesg)" "bad/" "kernel log"
	log_since "$n0"
	assert_contains "$log" "firmware bad/slot.elf refused" "rprocd log names the configured file"
	daemon_alive
}

# A bad image in the core file at start-up: refused, the core offline, untouched.
t_config_bad_image() {
	wait_prop cfgbad Busy false
	props cfgbad LastError State
	assert_contains "$p_LastError" "bad/overlap.elf" "LastError names the file"
	assert_contains "$p_LastError" "(segments-overlap)" "LastError names the error"
	assert_eq "$p_State" offline "State"
	assert_state 4 offline
	assert_eq "$(cat "$(sim_dev 4)/counters")" \
		"prepare=0 load=0 start=0 stop=0 attach=0 detach=0" "the kernel did nothing"
	assert_eq "$(rproc_attr 4 firmware)" rproc-cfgbad-fw "firmware attribute never written"
	assert_contains "$(rprocctl status cfgbad)" "(segments-overlap)" "rprocctl status"
	assert_contains "$(rprocd_log)" "(segments-overlap)" "rprocd log"
	assert_not_contains "$(dmesg)" "bad/" "kernel log"
}

# An invalid name in the core file: a configuration error, the core not managed.
t_config_bad_name() {
	local err
	props cfgname Managed LastError
	assert_eq "$p_Managed" false "Managed"
	assert_contains "$p_LastError" "Firmware" "LastError names the key"
	call cfgname Start
	assert_eq "$err" org.rprocd1.Error.NotManaged "Start"
	assert_state 5 offline
	assert_eq "$(cat "$(sim_dev 5)/counters")" \
		"prepare=0 load=0 start=0 stop=0 attach=0 detach=0" "the kernel did nothing"
	assert_eq "$(rproc_attr 5 firmware)" rproc-cfgname-fw "firmware attribute never written"
	assert_not_contains "$(dmesg)" "etc/passwd" "kernel log"
}

# rsc_required=1 and an image without a resource table: the kernel's EINVAL,
# offline, not retried; then the same through D-Bus.
t_config_kernel_refuses() {
	local err
	wait_prop strict Busy false
	props strict LastError State
	assert_contains "$p_LastError" "EINVAL" "LastError has the kernel's errno"
	assert_eq "$p_State" offline "State"
	assert_state 2 offline
	assert_contains "$(dmesg)" "Booting fw image norsc.elf" "the kernel saw it"
	assert_eq "$(sim_counter 2 prepare)" 1 "one boot attempt at start-up"
	call strict Start
	assert_eq "$err" org.rprocd1.Error.Kernel.EINVAL "Start"
	assert_contains "$(rprocctl status strict)" "EINVAL" "rprocctl status"
	sleep 2
	assert_eq "$(sim_counter 2 prepare)" 2 "one more attempt, and no retry"
	assert_eq "$(sim_counter 2 start)" 0 "never started"
	assert_state 2 offline
	props strict LastError State
	assert_contains "$p_LastError" "EINVAL" "LastError after Start"
	assert_eq "$p_State" offline "State after Start"
}

# refused_call CORE METHOD ARG [WANT_IN_LASTERROR] - a D-Bus refusal that changes nothing
refused_call() {
	local core=$1 method=$2 arg=$3 want=${4:-} before snap err
	snapshot
	before=$snap
	call "$core" "$method" "$arg"
	assert_eq "$err" "$E_FW" "$core $method ${arg:0:60}"
	if [[ -n "$want" ]]; then
		props "$core" LastError
		assert_contains "$p_LastError" "$want" "LastError of $core"
	fi
	snapshot
	assert_eq "$snap" "$before" "counters, firmware attributes and states"
}

# unchanged - m4 and dsp configured and running as before
unchanged() {
	props m4 ConfiguredFirmware State
	assert_eq "$p_ConfiguredFirmware" bad/slot.elf "m4 ConfiguredFirmware"
	assert_eq "$p_State" offline "m4 State"
	props dsp Firmware State
	assert_eq "$p_Firmware" dsp.elf "dsp Firmware"
	assert_eq "$p_State" running "dsp State"
}

t_directory() {
	mkdir -p "$BAD/dir.elf"
	refused_call m4 SetFirmware string:bad/dir.elf "bad/dir.elf"
	assert_contains "$p_LastError" "EISDIR" "LastError names the error"
	refused_call dsp SetFirmwareAndRestart string:bad/dir.elf EISDIR
	# The configured file becomes a directory.
	rm -f "$BAD/slot.elf"
	mkdir "$BAD/slot.elf"
	call m4 Start
	assert_eq "$err" "$E_FW" "Start with a directory as Firmware="
	props m4 LastError
	assert_contains "$p_LastError" "EISDIR" "LastError after Start"
	assert_contains "$(rprocctl status m4)" "EISDIR" "rprocctl status"
	assert_state 0 offline
	rmdir "$BAD/slot.elf"
	cp "$KERN/good.elf" "$BAD/slot.elf"
	unchanged
	assert_not_contains "$(dmesg)" "bad/" "kernel log"
}

t_fifo() {
	rm -f "$BAD/fifo.elf"
	mkfifo "$BAD/fifo.elf"
	# Must not hang the worker (nobody writes the FIFO).
	refused_call m4 SetFirmware string:bad/fifo.elf "bad/fifo.elf cannot be used: not a regular file"
	refused_call dsp SetFirmwareAndRestart string:bad/fifo.elf "bad/fifo.elf"
	unchanged
	assert_not_contains "$(dmesg)" "bad/" "kernel log"
}

t_missing() {
	refused_call m4 SetFirmware string:bad/missing.elf ENOENT
	refused_call dsp SetFirmwareAndRestart string:bad/missing.elf ENOENT
	rm -f "$BAD/slot.elf"
	call m4 Start
	assert_eq "$err" "$E_FW" "Start with Firmware= missing"
	props m4 LastError
	assert_contains "$p_LastError" "ENOENT" "LastError after Start"
	assert_state 0 offline
	cp "$KERN/good.elf" "$BAD/slot.elf"
	unchanged
}

t_names() {
	local long name before snap err
	# A valid image under a name that is too long (256 bytes), so only the name is wrong.
	long=bad/$(printf 'a%.0s' {1..252})
	cp "$KERN/good.elf" "/lib/firmware/$long"
	snapshot
	before=$snap
	for name in ../../etc/shadow bad/../kern/good.elf /lib/firmware/kern/good.elf \
		"$long" "bad/$(printf 'x\ty')" "" bad//slot.elf ./kern/good.elf; do
		call m4 SetFirmware "string:$name"
		assert_eq "$err" "$E_FW" "m4 SetFirmware '${name:0:60}'"
		call dsp SetFirmwareAndRestart "string:$name"
		assert_eq "$err" "$E_FW" "dsp SetFirmwareAndRestart '${name:0:60}'"
	done
	snapshot
	assert_eq "$snap" "$before" "counters, firmware attributes and states"
	unchanged
	assert_not_contains "$(dmesg)" "etc/shadow" "kernel log"
	daemon_alive
}

# Images the validator accepts and the kernel refuses.
t_kernel_refuses_offline() {
	local f prep err
	for f in outside-mem.elf memsz-beyond-mem.elf; do
		call m4 SetFirmware "string:kern/$f"
		assert_eq "$err" ok "SetFirmware kern/$f"
		call m4 Start
		assert_eq "$err" org.rprocd1.Error.Kernel.EINVAL "Start with kern/$f"
		props m4 LastError State ConfiguredFirmware
		assert_contains "$p_LastError" "EINVAL" "LastError has the kernel's errno"
		assert_eq "$p_State" offline "State"
		assert_eq "$p_ConfiguredFirmware" "kern/$f" "ConfiguredFirmware"
		assert_state 0 offline
		assert_contains "$(dmesg)" "Booting fw image kern/$f" "the kernel saw it"
	done
	prep=$(sim_counter 0 prepare)
	sleep 2
	assert_eq "$(sim_counter 0 prepare)" "$prep" "not retried"
	assert_eq "$(sim_counter 0 start)" 0 "never started"
	assert_state 1 running
}

t_kernel_refuses_running() {
	local start err
	start=$(sim_counter 1 start)
	call dsp SetFirmwareAndRestart string:kern/outside-mem.elf
	assert_eq "$err" org.rprocd1.Error.Kernel.EINVAL "SetFirmwareAndRestart kern/outside-mem.elf"
	props dsp LastError State
	assert_contains "$p_LastError" "EINVAL" "LastError has the kernel's errno"
	assert_eq "$p_State" offline "State"
	assert_state 1 offline
	assert_eq "$(sim_hw_running 1)" 0 "stopped"
	sleep 2
	assert_eq "$(sim_counter 1 start)" "$start" "not retried"
	assert_state 1 offline
	# Back to its image.
	call dsp SetFirmware string:dsp.elf
	assert_eq "$err" ok "SetFirmware dsp.elf"
	call dsp Start
	assert_eq "$err" ok "Start"
	assert_state 1 running
	props dsp Firmware LastError
	assert_eq "$p_Firmware" dsp.elf "dsp Firmware"
	assert_eq "$p_LastError" "" "LastError cleared"
}

# After everything, the offline core still boots a good image.
t_still_boots() {
	local err
	call m4 SetFirmware string:kern/good.elf
	assert_eq "$err" ok "SetFirmware kern/good.elf"
	call m4 Start
	assert_eq "$err" ok "Start"
	assert_state 0 running
	props m4 Firmware LastError
	assert_eq "$p_Firmware" kern/good.elf "Firmware"
	assert_eq "$p_LastError" "" "LastError cleared"
	assert_eq "$(sim_counter 0 start)" 1 "booted once"
	call m4 Stop
	assert_eq "$err" ok "Stop"
	assert_state 0 offline
}

# swap_during_boot HOW IMAGE - start slow through D-Bus (a 3 s boot); once the
# kernel has read swap.elf, replace it (rename: a new file; inplace: the same
# inode rewritten) with IMAGE. The call's answer is left in $reply.
swap_during_boot() {
	local how=$1 image=$2 pid i state
	fw_install fw64 swap.elf
	cp "$image" /lib/firmware/.swap.tmp
	dmesg -C
	rm -f /run/swap-reply
	dbus-send --system --print-reply --reply-timeout=30000 --dest=org.rprocd1 \
		/org/rprocd1/core/slow org.rprocd1.Core.Start >/run/swap-reply 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		[[ "$(dmesg)" == *"Booting fw image swap.elf"* ]] && break
		sleep 0.05
	done
	# One exec each: the kernel is inside the 3 s start.
	case $how in
	rename) mv -f /lib/firmware/.swap.tmp /lib/firmware/swap.elf ;;
	inplace) cp /lib/firmware/.swap.tmp /lib/firmware/swap.elf ;;
	esac
	read -r state <"/sys/class/remoteproc/$R3/state"
	assert_contains "$(dmesg)" "Booting fw image swap.elf" "the kernel read swap.elf"
	assert_eq "$state" offline "the file was replaced while the start was under way"
	wait "$pid" || true
	reply=$(cat /run/swap-reply)
}

t_swap_malformed() {
	local how=$1 image=$2 want=$3 start stop reply
	start=$(sim_counter 3 start)
	stop=$(sim_counter 3 stop)
	swap_during_boot "$how" "$image"
	wait_prop slow Busy false
	# The core was booted from the checked image, then found to rest on a bad file.
	assert_eq "$(sim_counter 3 start)" "$((start + 1))" "the kernel started it"
	wait_state 3 offline 10
	assert_eq "$(sim_counter 3 stop)" "$((stop + 1))" "rprocd stopped it"
	props slow State LastError
	assert_eq "$p_State" offline "State"
	assert_contains "$p_LastError" "changed between validation and boot" "LastError says what happened"
	assert_contains "$p_LastError" "($want)" "LastError names the new file's error"
	assert_contains "$(rprocd_log)" "changed between validation and boot" "rprocd log"
	assert_contains "$reply" "$E_FW" "the Start call's answer"
	assert_state_stays 3 offline 500
	assert_state 1 running
	daemon_alive
}

t_swap_valid() {
	local stop reply err
	stop=$(sim_counter 3 stop)
	swap_during_boot rename "$KERN/good.elf"
	wait_prop slow Busy false
	assert_contains "$reply" "method return" "Start succeeds"
	assert_state_stays 3 running 500
	assert_eq "$(sim_counter 3 stop)" "$stop" "not stopped"
	props slow State LastError
	assert_eq "$p_State" running "State"
	assert_contains "$p_LastError" "changed between validation and boot" "LastError warns"
	assert_contains "$(rprocd_log)" "changed between validation and boot" "rprocd log warns"
	call slow Stop
	assert_eq "$err" ok "Stop"
	daemon_alive
}

t_final() {
	daemon_alive
	assert_state 1 running
	props dsp State
	assert_eq "$p_State" running "dsp"
	assert_state 4 offline
	assert_state 5 offline
	assert_not_contains "$(dmesg)" "Oops" "kernel log"
}

test_case "setup: forge images, start rprocd" t_setup
test_case "forged images are judged as listed by librproc" t_forge_self_check
test_case "malformed Firmware= at start-up is refused" t_config_bad_image
test_case "invalid Firmware= name in the core file" t_config_bad_name
test_case "kernel refuses the configured image at start-up" t_config_kernel_refuses

R0=$(sim_rproc 0)
R1=$(sim_rproc 1)
R3=$(sim_rproc 3)

mapfile -t images <"$LIST"
for line in "${images[@]}"; do
	read -r f want <<<"$line"
	[[ "$want" == kernel:* || "$want" == ok ]] && continue
	test_case "image $f: $want" t_image "$f" "$want"
done

test_case "a directory as firmware" t_directory
test_case "a FIFO as firmware" t_fifo
test_case "a missing file" t_missing
test_case "invalid names: .., absolute, over 255 bytes, control characters" t_names
test_case "kernel refuses an accepted image: offline core" t_kernel_refuses_offline
test_case "kernel refuses an accepted image: running core" t_kernel_refuses_running
test_case "the offline core still boots a good image" t_still_boots
test_case "file replaced by a malformed one during boot" \
	t_swap_malformed rename "$BAD/overlap.elf" segments-overlap
test_case "file overwritten in place with a truncated one during boot" \
	t_swap_malformed inplace "$BAD/trunc-data.elf" segment-outside-file
test_case "file replaced by a valid one during boot" t_swap_valid
test_case "rprocd and the other cores survive" t_final
daemon_reset
test_summary
