#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Hostile configuration on the real kernel (issue 8, item 1; issue 16). One
# daemon reads more than forty malformed or hostile files at once: syntax
# errors, invalid values of every type, overflowing numbers, unknown keys and
# sections, a 100 KB line, a file over the size limit, binary junk, invalid
# UTF-8, CRLF, bad firmware names, dependency cycles, two files claiming one
# kernel core, masked files (a /dev/null link, an empty file), a FIFO, a
# directory, a dangling symlink, a symlink loop, an unreadable file (rprocd
# runs without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH), bad drop-ins, a drop-in
# directory that is a file, an invalid file name, a glob in Name=, a file for
# another board ([Match] Compatible=), a specifier, a hostile rprocd.conf. It
# proves that:
# - each file with an error (syntax, an unreadable file, an invalid value of
#   a strict key: which core, which image, whether it boots) leaves its core
#   unmanaged with FILE:LINE and a message naming the problem in LastError,
#   in the daemon's log and in `rprocctl status` (whole-file errors: line 0),
#   and the kernel core is never touched (rproc_sim's counters stay at zero);
# - each warning (an invalid value of any other key, ignored as in systemd;
#   an unknown key) leaves its core managed and booted once, with the warning
#   in ConfigWarnings, the log and `rprocctl status`;
# - a masked core is watched, never touched, and not an error; a file for
#   another board configures nothing and is not an error;
# - `rprocctl verify` reports all of it and fails, and passes a clean root;
# - every good core is booted or attached exactly once, the daemon never hangs
#   or crashes and answers at the end;
# - a reload that breaks a running core's file reports the error and restarts
#   nothing, and fixing the file takes the core back without a reboot.
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

E=/etc/rprocd/cores
U=/usr/lib/rprocd/cores

GOOD=(good1 good2 good3 gooddsp good4)
# Cores whose file has an error: not managed, never touched.
ERRORS=(bad01 bad02 bad12 bad13 bad14 bad15 bad16 bad17 bad18 bad19 bad20 bad22 bad27 bad28
	bad29 bad30 bad32 bad33 bad34 bad35 bad36 bad38 bad39 bad40 bad41 bad42 bad43 bad45)
# Cores with warnings only (invalid values of keys that are not strict are ignored): managed,
# booted once.
WARNINGS=(bad03 bad04 bad05 bad06 bad07 bad08 bad09 bad10 bad11 bad44 bad23 bad24 bad25 bad26)
# Neither: CRLF (accepted), masked (a link, an empty file), no valid file of their own, a
# Name= that names no kernel core, a file for another board.
OTHERS=(bad31 bad21 bad46 bad37 bad47 bad48)

NAMES=("${GOOD[@]}" "${ERRORS[@]}" "${WARNINGS[@]}" "${OTHERS[@]}")
declare -A IDX SYS
for i in "${!NAMES[@]}"; do
	IDX[${NAMES[$i]}]=$i
done

REAL_RPROCD=$RPROCD
NODAC=/run/rprocd-nodac

# ---- helpers ------------------------------------------------------------------

# put PATH FORMAT [ARGS...] - write a file with printf (directories created)
put() {
	local f=$1
	shift
	mkdir -p "$(dirname "$f")"
	# shellcheck disable=SC2059
	printf "$@" >"$f"
}

SNAP=/run/rprocd-cfg-snapshot

# snapshot - every core's properties (one GetManagedObjects call) and its
# `rprocctl status` (one call for all), in $SNAP/NAME.PROPERTY and
# $SNAP/NAME.status: a busctl call costs a third of a second under TCG
snapshot() {
	rm -rf "$SNAP"
	mkdir -p "$SNAP"
	busctl --json=short call org.rprocd1 /org/rprocd1 org.freedesktop.DBus.ObjectManager \
		GetManagedObjects >"$SNAP/objects.json" || _assert_fail "GetManagedObjects failed"
	python3 - "$SNAP" <<'PY' || _assert_fail "cannot parse GetManagedObjects"
import json, os, sys
d = sys.argv[1]
with open(os.path.join(d, "objects.json")) as f:
    objects = json.load(f)["data"][0]
for path, ifaces in objects.items():
    props = ifaces.get("org.rprocd1.Core")
    if not props:
        continue
    for key, v in props.items():
        v = v["data"]
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, list):
            v = "\n".join(v)
        with open(os.path.join(d, "%s.%s" % (props["Name"]["data"], key)), "w") as f:
            f.write(str(v))
PY
	rprocctl status "${NAMES[@]}" >"$SNAP/status" 2>&1 || true
	awk -v d="$SNAP" '/^(●|○|×) / { f = d "/" $2 ".status" } f { print > f }' "$SNAP/status"
	local n
	for n in "${NAMES[@]}"; do
		[[ -e "$SNAP/$n.Managed" ]] || _assert_fail "$n is not in GetManagedObjects"
		[[ -e "$SNAP/$n.status" ]] || _assert_fail "$n is not in rprocctl status: $(cat "$SNAP/status")"
	done
}

# snap NAME PROPERTY - a property from the snapshot ("<no PROPERTY>" if the daemon has none)
# (builtins only: under TCG every exec costs tens of milliseconds)
snap() {
	local v=
	if [[ -e "$SNAP/$1.$2" ]]; then
		IFS= read -r -d '' v <"$SNAP/$1.$2" || true
		printf '%s' "$v"
	else
		echo "<no $2>"
	fi
}

# daemon_log - what rprocd printed (rprocd_log without cat)
daemon_log() {
	local v=
	IFS= read -r -d '' v </run/rprocd-test.log || true
	printf '%s' "$v"
}

# kstate NAME - the kernel's state of the core, in KSTATE
kstate() {
	read -r KSTATE <"/sys/class/remoteproc/${SYS[$1]}/state"
}

# status_of NAME - `rprocctl status NAME` from the snapshot
status_of() {
	local v=
	IFS= read -r -d '' v <"$SNAP/$1.status" || true
	printf '%s' "$v"
}

# has_line TEXT WHERE MESSAGE - a line of TEXT holds WHERE, and MESSAGE after it
has_line() {
	local l
	while IFS= read -r l; do
		[[ "$l" == *"$2"* && "${l#*"$2"}" == *"$3"* ]] && return 0
	done <<<"$1"
	return 1
}

# assert_line TEXT WHERE MESSAGE WHAT - shows the lines naming WHERE's file on failure
assert_line() {
	local base=${2%%:*} near
	base=${base##*/}
	base=${base%%.*}
	has_line "$1" "$2" "$3" && return 0
	near=$(grep -F -- "$base" <<<"$1" | head -c 3000) || true
	_assert_fail "$4: no line with '$2' followed by '$3'; lines with '$base': '${near:-none}'"
}

# untouched NAME - the kernel core is offline and rprocd never drove it
untouched() {
	local n=${IDX[$1]}
	sim_counters "$n" u_
	# shellcheck disable=SC2154
	assert_eq "$u_prepare $u_load $u_start $u_stop $u_attach $u_detach" "0 0 0 0 0 0" \
		"$1: sim counters (prepare load start stop attach detach)"
	kstate "$1"
	assert_eq "$KSTATE" offline "$1: kernel state"
}

# booted_once NAME - running, loaded and started exactly once, never stopped
booted_once() {
	local n=${IDX[$1]}
	kstate "$1"
	assert_eq "$KSTATE" running "$1: kernel state"
	sim_counters "$n" b_
	# shellcheck disable=SC2154
	assert_eq "$b_load $b_start $b_stop $b_attach $b_detach" "1 1 0 0 0" \
		"$1: sim counters (load start stop attach detach)"
}

# expect_error NAME WHERE MESSAGE - not managed, untouched, and "WHERE: …MESSAGE"
# in LastError, the log and rprocctl status (WHERE is FILE:LINE)
expect_error() {
	local name=$1 where=$2 msg=$3 err
	assert_eq "$(snap "$name" Managed)" false "$name Managed"
	untouched "$name"
	err=$(snap "$name" LastError)
	assert_eq "${err%%"$where: "*}" "" "$name: LastError begins with '$where: ' (is '$err')"
	assert_line "$err" "$where: " "$msg" "$name LastError"
	assert_line "$(daemon_log)" "$where: " "$msg" "$name in the daemon's log"
	assert_line "$(status_of "$name")" "Last error: $where: " "$msg" "rprocctl status $name"
}

# expect_warning NAME WHERE MESSAGE - managed, booted once, no error, and
# "WHERE: …MESSAGE" in ConfigWarnings and rprocctl status ("Warning: "); the log
# has WHERE (without a ":0" for line 0) and MESSAGE on one line
expect_warning() {
	local name=$1 where=$2 msg=$3 w
	assert_eq "$(snap "$name" Managed)" true "$name Managed"
	booted_once "$name"
	assert_eq "$(snap "$name" LastError)" "" "$name LastError"
	w=$(snap "$name" ConfigWarnings)
	assert_line "$w" "$where: " "$msg" "$name ConfigWarnings"
	assert_line "$(daemon_log)" "${where%:0}: " "$msg" "$name warning in the daemon's log"
	assert_line "$(status_of "$name")" "Warning: $where: " "$msg" "rprocctl status $name"
}

# ---- the files ------------------------------------------------------------------

write_files() {
	local long300 i
	fw_install fw64 good.elf
	mkdir -p "$E" "$U"

	# Good cores. good3 is ordered after broken cores: it must not wait for them.
	put "$E/good1.core" '[Core]\nFirmware=good.elf\n'
	put "$E/good2.core" '[Core]\nFirmware=good.elf\n'
	put "$U/good3.core" '[Core]\nFirmware=good.elf\nAfter=bad03 bad18 bad32\n'
	put "$E/gooddsp.core" '[Core]\nStart=attach\n'
	# The VM has no device tree: a negated Compatible= holds. %v is the kernel's release.
	put "$E/good4.core" '[Match]\nCompatible=!acme,*\n[Core]\nFirmware=good.elf\nDescription=core of %%v\n'

	# Syntax.
	put "$E/bad01.core" '[Core]\nFirmware=good.elf\nthis line has no equals sign\n'
	put "$E/bad02.core" '[Core\nFirmware=good.elf\n'
	put "$E/bad42.core" '[Core]\nFirmware=good.elf\n=value without a key\n'
	# Invalid values, one per type.
	put "$E/bad03.core" '# OnCrash= takes kernel, restart or leave\n[Core]\nFirmware=good.elf\nOnCrash=sometimes\n'
	put "$E/bad04.core" '[Core]\nFirmware=good.elf\nBindLifetime=perhaps\n'
	put "$E/bad05.core" '[Core]\nFirmware=good.elf\nStartLimitBurst=-1\n'
	put "$E/bad06.core" '[Core]\nFirmware=good.elf\nCoredumpMaxFiles=99999999999999999999\n'
	put "$E/bad07.core" '[Core]\nFirmware=good.elf\nCoredumpMaxUse=12X\n'
	put "$E/bad08.core" '[Core]\nFirmware=good.elf\nCoredumpMaxUse=16E\n'
	put "$U/bad09.core" '[Core]\nFirmware=good.elf\nRestartSec=soon\n'
	put "$E/bad10.core" '[Core]\nFirmware=good.elf\nRestartSec=99999999999999999999s\n'
	put "$E/bad11.core" '[Core]\nFirmware=good.elf\nCoredumpDirectory=var/lib/dumps\n'
	put "$E/bad40.core" '[Core]\nFirmware=good.elf\nFirmwareClass=48\n'
	put "$E/bad41.core" '[Core]\nFirmware=good.elf\nFirmwareMachine=PDP11\n'
	put "$E/bad44.core" '[Core]\nFirmware=good.elf\nCoredump=maybe\n'
	put "$E/bad38.core" '[Match]\nName=bad/38\n[Core]\nFirmware=good.elf\n'
	put "$E/bad39.core" '[Match]\nDevicePath=platform/*\n[Core]\nFirmware=good.elf\n'
	# Firmware names.
	put "$E/bad12.core" '[Core]\nFirmware=../../etc/shadow\n'
	put "$E/bad13.core" '[Core]\nFirmware=/lib/firmware/good.elf\n'
	long300=$(printf 'f%.0s' {1..300})
	put "$E/bad14.core" '[Core]\nFirmware=%s.elf\n' "$long300"
	put "$E/bad15.core" '[Core]\nFirmware=good.elf\nFallbackFirmware=good.elf\n'
	put "$E/bad16.core" '[Core]\nFallbackFirmware=good.elf\n'
	# Dependencies.
	put "$E/bad17.core" '[Core]\nFirmware=good.elf\nRequires=good1 bad17\n'
	put "$E/bad18.core" '[Core]\nFirmware=good.elf\nRequires=bad19\n'
	put "$E/bad19.core" '[Core]\nFirmware=good.elf\nAfter=bad18\n'
	# Two files claim the kernel core bad20.
	put "$E/bad20.core" '[Core]\nFirmware=good.elf\n'
	put "$U/bad20-twin.core" '[Match]\nName=bad20\n[Core]\nFirmware=good.elf\n'
	# Masked: a valid vendor file, masked by the administrator (a link, an empty file).
	put "$U/bad21.core" '[Core]\nFirmware=good.elf\n'
	ln -s /dev/null "$E/bad21.core"
	put "$U/bad46.core" '[Core]\nFirmware=good.elf\n'
	: >"$E/bad46.core"
	# Name= is compared literally: a warning, and the kernel core bad47 has no file.
	put "$E/bad47.core" '[Match]\nName=!bad47\n[Core]\nFirmware=good.elf\n'
	# For another board: not an error, configures nothing here.
	put "$E/bad48.core" '[Match]\nCompatible=acme,board-*\n[Core]\nFirmware=good.elf\n'
	# Drop-ins: a bad value in one of /usr/lib's; an unreadable one; a file in place of the directory.
	put "$E/bad22.core" '[Core]\nFirmware=good.elf\n'
	put "$E/bad22.core.d/10-ok.conf" '[Core]\nDescription=fine\n'
	put "$U/bad22.core.d/50-bad.conf" '[Core]\nStart=whenever\n'
	put "$E/bad45.core" '[Core]\nFirmware=good.elf\n'
	put "$E/bad45.core.d/10-secret.conf" '[Core]\nDescription=secret\n'
	chmod 000 "$E/bad45.core.d/10-secret.conf"
	put "$E/bad23.core" '[Core]\nFirmware=good.elf\n'
	put "$E/bad23.core.d" '[Core]\nStart=whenever\n'
	# Warnings only.
	put "$E/bad24.core" '[Core]\nFirmware=good.elf\nFrimware=other.elf\n'
	put "$E/bad25.core" '[Core]\nFirmware=good.elf\n[Cor]\nFoo=bar\n'
	put "$E/bad26.core" 'Description=outside\n[Core]\nFirmware=good.elf\n'
	# Size and bytes.
	{
		printf '[Core]\nFirmware=good.elf\nDescription='
		head -c 102400 /dev/zero | tr '\0' a
		printf '\n'
	} >"$E/bad27.core"
	{
		printf '[Core]\nFirmware=good.elf\n'
		for ((i = 0; i < 1200; i++)); do
			printf '# %01021d\n' 0
		done
	} >"$E/bad28.core"
	put "$E/bad29.core" '[Core]\nFirmware=good.elf\n\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000>\000\n'
	put "$E/bad30.core" '[Core]\nFirmware=good.elf\nDescription=caf\351 au lait\n'
	put "$E/bad43.core" '[Core]\nFirmware=good.elf\nDescription=\033[31mred\033[0m\n'
	put "$E/bad31.core" '[Core]\r\nFirmware=good.elf\r\nOnCrash=leave\r\n'
	# Not regular files.
	mkfifo "$E/bad32.core"
	mkdir -p "$E/bad33.core"
	put "$E/bad33.core/oops.conf" '[Core]\nFirmware=good.elf\n'
	ln -s /nonexistent/bad34.core "$E/bad34.core"
	ln -s bad35.core "$E/bad35.core"
	put "$E/bad36.core" '[Core]\nFirmware=good.elf\n'
	chmod 000 "$E/bad36.core"
	# An invalid file name (a space) that claims bad37.
	put "$E/bad37 copy.core" '[Match]\nName=bad37\n[Core]\nFirmware=good.elf\n'

	# A hostile rprocd.conf, and a file where its drop-in directory should be.
	put /etc/rprocd/rprocd.conf '[Daemon]\nPollIntervalSec=-1s\nAdminGroup=9nine\n[Defaults]\nOnCrash=explode\nRestartSec=forever\nthis is not an assignment\n'
	put /etc/rprocd/rprocd.conf.d '[Defaults]\nStart=no\n'

	# rprocd without DAC override: a root daemon must not read a mode-000 file either.
	printf '#!/bin/sh\nexec setpriv --bounding-set=-dac_override,-dac_read_search %q "$@"\n' \
		"$REAL_RPROCD" >"$NODAC"
	chmod 755 "$NODAC"
}

setup() {
	local detached=() n d
	daemon_reset
	rm -rf /usr/lib/rprocd
	for n in "${NAMES[@]}"; do
		[[ $n == gooddsp ]] && detached+=(1) || detached+=(0)
	done
	sim_load "names=$(
		IFS=,
		echo "${NAMES[*]}"
	)" "detached=$(
		IFS=,
		echo "${detached[*]}"
	)"
	for n in "${!NAMES[@]}"; do
		for d in "$(sim_dev "$n")"/remoteproc/remoteproc*; do
			SYS[${NAMES[$n]}]=${d##*/}
		done
	done
	write_files
}

# ---- cases ------------------------------------------------------------------------

# start_rprocd - rprocd_up with the DAC-less wrapper and more time for READY=1:
# under TCG, 49 cores and these files take about 10 s
start_rprocd() {
	bus_up
	_notify_ensure /run/rprocd-test-notify.sock
	: >"$NOTIFY_LOG"
	NOTIFY_SOCKET=/run/rprocd-test-notify.sock RPROCD_LOG_TARGET=console \
		"$NODAC" >>/run/rprocd-test.log 2>&1 &
	echo $! >/run/rprocd-test.pid
	disown
	wait_notify READY=1 60
}

test_daemon_up() {
	local pid start
	start=$(date +%s%N)
	start_rprocd
	log "READY=1 after $((($(date +%s%N) - start) / 1000000)) ms"
	pid=$(cat /run/rprocd-test.pid)
	alive "$pid"
	# The pid is rprocd itself, with neither DAC capability.
	assert_eq "$(readlink "/proc/$pid/exe")" "$(readlink -f "$REAL_RPROCD")" "rprocd runs under setpriv"
	local eff
	eff=$(sed -n 's/^CapEff:\t//p' "/proc/$pid/status")
	assert_eq "$(((16#$eff >> 1) & 3))" 0 "CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped (CapEff $eff)"
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" \
		"u ${#NAMES[@]}" NCores
	snapshot
}

test_good_cores() {
	local n
	for n in good1 good2 good3; do
		assert_eq "$(snap "$n" Managed)" true "$n Managed"
		booted_once "$n"
		assert_eq "$(snap "$n" LastError)" "" "$n LastError"
		assert_eq "$(snap "$n" ConfigWarnings)" "" "$n ConfigWarnings"
	done
	assert_state "${IDX[gooddsp]}" attached
	sim_counters "${IDX[gooddsp]}" d_
	# shellcheck disable=SC2154
	assert_eq "$d_load $d_start $d_stop $d_attach $d_detach" "0 0 0 1 0" "gooddsp attached once"
	assert_eq "$(snap gooddsp Origin)" attached "gooddsp Origin"
}

test_good_cores_again() {
	snapshot
	test_good_cores
}

test_daemon_conf() {
	local f=/etc/rprocd/rprocd.conf log
	log=$(daemon_log)
	assert_line "$log" "$f:2: " 'invalid value "-1s" for PollIntervalSec=' "rprocd.conf:2"
	assert_line "$log" "$f:3: " 'invalid value "9nine" for AdminGroup=' "rprocd.conf:3"
	assert_line "$log" "$f:5: " 'invalid value "explode" for OnCrash=' "rprocd.conf:5"
	assert_line "$log" "$f:6: " 'invalid value "forever" for RestartSec=' "rprocd.conf:6"
	assert_line "$log" "$f:7: " "missing '='" "rprocd.conf:7"
	assert_contains "$log" "rprocd.conf has errors; the lines in error are ignored" \
		"the daemon says it goes on without them"
	# Invalid values of keys that are not strict are warnings, ignored (systemd's rule).
	assert_line "$log" "$f:2: " 'for PollIntervalSec=: expected auto, no, or a time span such as 500ms, 30s or 1min; ignored' \
		"rprocd.conf:2 ignored"
	# The built-in defaults stand in: OnCrash=kernel, and the file where the
	# drop-in directory should be (it says Start=no) is ignored with a warning.
	assert_eq "$(snap good1 OnCrashPolicy)" kernel "good1 OnCrash= (built-in default)"
	assert_eq "$(snap good1 StartPolicy)" auto "good1 Start= (rprocd.conf.d is a file)"
	assert_line "$log" "/etc/rprocd/rprocd.conf.d" "is not a directory" "rprocd.conf.d warning"
}

test_crlf_accepted() {
	assert_eq "$(snap bad31 Managed)" true "bad31 Managed"
	booted_once bad31
	assert_eq "$(snap bad31 OnCrashPolicy)" leave "OnCrash= read without its CR"
	assert_eq "$(snap bad31 LastError)" "" "bad31 LastError"
	assert_eq "$(snap bad31 ConfigWarnings)" "" "bad31 ConfigWarnings"
}

# test_masked NAME - watched, never touched, not an error
test_masked() {
	local n=$1
	assert_eq "$(snap "$n" Managed)" false "masked $n Managed"
	untouched "$n"
	assert_eq "$(snap "$n" LastError)" "" "a mask is not an error"
	assert_line "$(daemon_log)" "$n: found" "masked" "the log says $n is masked"
	assert_eq "$(dbus_error "$n" Start)" org.rprocd1.Error.NotManaged "Start on a masked core"
	untouched "$n"
}

test_name_glob() {
	assert_eq "$(snap bad47 Managed)" false "bad47 Managed (its file names kernel core \"!bad47\")"
	untouched bad47
	assert_eq "$(snap bad47 LastError)" "" "bad47 LastError"
	assert_line "$(daemon_log)" "$E/bad47.core:2: " "Name=!bad47 is compared literally" \
		"the warning in the log"
	assert_line "$(daemon_log)" "bad47: found" "not managed" "the kernel core has no file"
}

test_other_board() {
	assert_eq "$(snap bad48 Managed)" false "bad48 Managed"
	untouched bad48
	assert_eq "$(snap bad48 LastError)" "" "another board's file is not an error"
	assert_eq "$(snap bad48 ConfigFiles)" "" "bad48 has no configuration here"
	assert_not_contains "$(daemon_log)" "bad48: configured, no matching kernel core" \
		"no complaint about a file for another board"
}

test_specifier_and_board() {
	assert_eq "$(snap good4 Managed)" true "good4 Managed"
	booted_once good4
	assert_eq "$(snap good4 Description)" "core of $(uname -r)" "%v in Description="
	assert_eq "$(snap good4 ConfigWarnings)" "" "good4 ConfigWarnings"
}

# rprocctl verify on the set rprocd runs with: every problem, exit status 1
test_verify_hostile() {
	local out rc=0
	out=$(rprocctl verify 2>&1) || rc=$?
	assert_eq "$rc" 1 "verify's exit status"
	assert_line "$out" "$E/bad18.core:3: error: " "dependency cycle" "verify: cycle"
	assert_line "$out" "$U/bad20-twin.core:2: error: " "also claims the kernel core \"bad20\"" \
		"verify: two files, one core"
	assert_line "$out" "$E/bad03.core:4: warning: " 'invalid value "sometimes" for OnCrash=' \
		"verify: an ignored value"
	assert_line "$out" "$E/bad12.core:2: error: " 'invalid value "../../etc/shadow"' \
		"verify: a strict key"
	assert_line "$out" "$E/bad48.core:2: note: " "does not match this board" "verify: the board"
	assert_line "$out" "bad48: $E/bad48.core: " "not for this board" "verify: bad48"
	assert_line "$out" "bad46: $E/bad46.core: " "masked" "verify: an empty file masks"
	assert_line "$out" "good1: $E/good1.core: " "managed" "verify: good1"
	assert_line "$out" "bad03: $E/bad03.core: " "managed" "verify: bad03 is managed"
	assert_line "$out" "board: " "no device tree" "verify: the board"
	assert_match "$out" "[0-9]+ core files: [0-9]+ managed, [0-9]+ not managed, 2 masked, 1 not for this board; [0-9]+ errors, [0-9]+ warnings"
}

# rprocctl verify --root: a clean image passes, a missing firmware or root fails
test_verify_root() {
	local r=/run/rprocd-verify-root out rc=0
	rm -rf "$r"
	mkdir -p "$r/etc/rprocd/cores" "$r/lib/firmware"
	cp "$(fw_image fw64)" "$r/lib/firmware/good.elf"
	put "$r/etc/rprocd/cores/a.core" '[Core]\nFirmware=good.elf\nRequires=b\n'
	put "$r/etc/rprocd/cores/b.core" '[Core]\nFirmware=good.elf\nFallbackFirmware=good-%%b.elf\n'
	out=$(rprocctl --root "$r" verify 2>&1) || rc=$?
	assert_eq "$rc" 0 "verify of a clean image: $out"
	assert_contains "$out" "2 core files: 2 managed" "verify's summary"
	assert_contains "$out" "note: FallbackFirmware=good-%b.elf: this root cannot tell %b" \
		"the boot ID is not in an image"
	rm "$r/lib/firmware/good.elf"
	rc=0
	out=$(rprocctl --root "$r" verify 2>&1) || rc=$?
	assert_eq "$rc" 1 "verify without the firmware"
	assert_contains "$out" "/etc/rprocd/cores/a.core:2: error: Firmware=good.elf: no such file" \
		"the missing firmware at its line"
	rc=0
	out=$(rprocctl --root "$r/nonexistent" verify 2>&1) || rc=$?
	assert_eq "$rc" 1 "verify of a missing root"
	assert_contains "$out" "no such directory" "verify says why"
	rm -rf "$r"
}

test_cycle() {
	local n err
	for n in bad18 bad19; do
		assert_eq "$(snap "$n" Managed)" false "$n Managed"
		untouched "$n"
		assert_line "$(daemon_log)" "$E/$n.core:3: " "cycle" "$n cycle in the log"
		err=$(snap "$n" LastError)
		assert_line "$err" "$E/$n.core:3: " "cycle" "$n LastError"
		assert_line "$(status_of "$n")" "Last error: $E/$n.core:3: " "cycle" "rprocctl status $n"
	done
	# good3 is ordered after both and after other broken cores: not held up.
	booted_once good3
}

test_two_files_one_core() {
	local err
	assert_eq "$(snap bad20 Managed)" false "bad20 Managed"
	untouched bad20
	err=$(snap bad20 LastError)
	assert_contains "$err" "$E/bad20.core" "LastError names the first file"
	assert_contains "$err" "$U/bad20-twin.core:2" "LastError names the second file's [Match] Name= line"
	assert_contains "$(daemon_log)" "$err" "the same text in the log"
	assert_contains "$(status_of bad20)" "Last error: $err" "rprocctl status bad20"
	# Both files did match it: the log must not say otherwise.
	assert_not_contains "$(daemon_log)" "bad20: configured, no matching kernel core" "bad20.core"
	assert_not_contains "$(daemon_log)" "bad20-twin: configured, no matching kernel core" \
		"bad20-twin.core"
	assert_eq "$(dbus_error bad20 Start)" org.rprocd1.Error.NotManaged "Start on the contested core"
	untouched bad20
}

test_invalid_file_name() {
	assert_eq "$(snap bad37 Managed)" false "bad37 Managed"
	untouched bad37
	# The file is rejected by its name, and the log says which file and why.
	assert_line "$(daemon_log)" "$E/bad37 copy.core" "name" "the log names the file and its bad name"
}

test_not_managed_cannot_start() {
	local n
	for n in bad12 bad32 bad36; do
		assert_eq "$(dbus_error "$n" Start)" org.rprocd1.Error.NotManaged "Start on $n"
		untouched "$n"
	done
}

# reload_now - Reload over D-Bus (as root); prints its reply. Rereading 49
# cores' hostile files takes over busctl's default 25 s under ASan in TCG.
reload_now() {
	busctl --timeout=120 call org.rprocd1 /org/rprocd1 org.rprocd1.Manager Reload
}

# everything_else_unchanged - after a reload: the other cores as after start-up
everything_else_unchanged() {
	local n
	for n in good1 good3 good4 bad31 "${WARNINGS[@]}"; do
		booted_once "$n"
		assert_eq "$(snap "$n" Managed)" true "$n Managed after the reload"
	done
	sim_counters "${IDX[gooddsp]}" d_
	assert_eq "$d_load $d_start $d_stop $d_attach $d_detach" "0 0 0 1 0" "gooddsp after the reload"
	for n in "${ERRORS[@]}" bad21 bad46 bad37 bad47 bad48; do
		assert_eq "$(snap "$n" Managed)" false "$n Managed after the reload"
		untouched "$n"
	done
	for n in bad12 bad32 bad36 bad45; do
		assert_contains "$(snap "$n" LastError)" "$n" "$n keeps its error after the reload"
	done
	assert_contains "$(snap bad24 ConfigWarnings)" "$E/bad24.core:3: unknown key Frimware=" \
		"bad24 keeps its warning after the reload"
}

test_reload_breaks_running_core() {
	local err
	booted_once good2
	put "$E/good2.core" '[Core]\nFirmware=good.elf\nStart=explode\n'
	assert_success reload_now
	snapshot
	err=$(snap good2 LastError)
	assert_line "$err" "$E/good2.core:3: " 'invalid value "explode" for Start=' "good2 LastError"
	assert_line "$(daemon_log)" "$E/good2.core:3: " 'invalid value "explode" for Start=' \
		"good2 error in the log"
	assert_line "$(status_of good2)" "Last error: $E/good2.core:3: " 'invalid value "explode"' \
		"rprocctl status good2"
	# Still running, not restarted, not stopped.
	assert_state_stays "${IDX[good2]}" running 1000
	booted_once good2
	everything_else_unchanged
}

test_reload_fixed_file() {
	put "$E/good2.core" '[Core]\nFirmware=good.elf\n'
	assert_success reload_now
	wait_prop good2 Managed true 10
	snapshot
	assert_eq "$(snap good2 LastError)" "" "good2 LastError after the fix"
	assert_state_stays "${IDX[good2]}" running 500
	booted_once good2
	everything_else_unchanged
}

# A reload with an invalid value of a key that is not strict: ignored, the core stays managed.
test_reload_ignored_value() {
	put "$E/good2.core" '[Core]\nFirmware=good.elf\nOnCrash=leave\nOnCrash=explode\n'
	assert_success reload_now
	snapshot
	assert_eq "$(snap good2 Managed)" true "good2 Managed"
	assert_eq "$(snap good2 LastError)" "" "good2 LastError"
	assert_eq "$(snap good2 OnCrashPolicy)" leave "the earlier OnCrash= stands"
	assert_line "$(snap good2 ConfigWarnings)" "$E/good2.core:4: " \
		'invalid value "explode" for OnCrash=: kernel, restart, leave; ignored' "good2 ConfigWarnings"
	assert_state_stays "${IDX[good2]}" running 500
	booted_once good2
	put "$E/good2.core" '[Core]\nFirmware=good.elf\n'
	assert_success reload_now
	snapshot
	assert_eq "$(snap good2 ConfigWarnings)" "" "good2 ConfigWarnings after the fix"
	booted_once good2
}

test_daemon_alive() {
	local pid
	pid=$(cat /run/rprocd-test.pid)
	alive "$pid" || _assert_fail "rprocd ($pid) is gone"
	assert_eq "$(busctl get-property org.rprocd1 /org/rprocd1 org.rprocd1.Manager NCores)" \
		"u ${#NAMES[@]}" "NCores at the end"
	assert_success rprocctl list
	assert_not_contains "$(daemon_log)" "Assertion" "no assertion failure in the log"
}

# ---- run ---------------------------------------------------------------------------

setup
test_case "daemon starts without DAC override and sends READY=1" test_daemon_up
test_case "good cores booted and attached once" test_good_cores
test_case "hostile rprocd.conf: errors with file:line, invalid values ignored" test_daemon_conf

L='invalid value'
test_case "bad01 missing '='" expect_error bad01 "$E/bad01.core:3" "missing '=' in \"this line has no equals sign\""
test_case "bad02 unterminated section header" expect_error bad02 "$E/bad02.core:1" 'invalid section header "[Core"'
test_case "bad42 assignment without a key" expect_error bad42 "$E/bad42.core:3" "assignment without a key"
test_case "bad03 enum OnCrash=sometimes (ignored, a warning)" expect_warning bad03 "$E/bad03.core:4" "$L \"sometimes\" for OnCrash="
test_case "bad04 bool BindLifetime=perhaps (ignored, a warning)" expect_warning bad04 "$E/bad04.core:3" "$L \"perhaps\" for BindLifetime="
test_case "bad05 number StartLimitBurst=-1 (ignored, a warning)" expect_warning bad05 "$E/bad05.core:3" "$L \"-1\" for StartLimitBurst="
test_case "bad06 overflowing CoredumpMaxFiles= (ignored, a warning)" expect_warning bad06 "$E/bad06.core:3" "$L \"99999999999999999999\" for CoredumpMaxFiles="
test_case "bad07 size CoredumpMaxUse=12X (ignored, a warning)" expect_warning bad07 "$E/bad07.core:3" "$L \"12X\" for CoredumpMaxUse="
test_case "bad08 overflowing size CoredumpMaxUse=16E (ignored, a warning)" expect_warning bad08 "$E/bad08.core:3" "$L \"16E\" for CoredumpMaxUse="
test_case "bad09 timespan RestartSec=soon (/usr/lib) (ignored, a warning)" expect_warning bad09 "$U/bad09.core:3" "$L \"soon\" for RestartSec="
test_case "bad10 overflowing timespan (ignored, a warning)" expect_warning bad10 "$E/bad10.core:3" "$L \"99999999999999999999s\" for RestartSec="
test_case "bad11 relative CoredumpDirectory= (ignored, a warning)" expect_warning bad11 "$E/bad11.core:3" "$L \"var/lib/dumps\" for CoredumpDirectory="
test_case "bad40 FirmwareClass=48" expect_error bad40 "$E/bad40.core:3" "$L \"48\" for FirmwareClass="
test_case "bad41 FirmwareMachine=PDP11" expect_error bad41 "$E/bad41.core:3" "$L \"PDP11\" for FirmwareMachine="
test_case "bad44 Coredump=maybe (ignored, a warning)" expect_warning bad44 "$E/bad44.core:3" "$L \"maybe\" for Coredump="
test_case "bad38 [Match] Name= with a slash" expect_error bad38 "$E/bad38.core:2" "$L \"bad/38\" for Name="
test_case "bad39 relative [Match] DevicePath=" expect_error bad39 "$E/bad39.core:2" "$L \"platform/*\" for DevicePath="
test_case "bad12 Firmware= with .." expect_error bad12 "$E/bad12.core:2" "$L \"../../etc/shadow\" for Firmware="
test_case "bad13 absolute Firmware=" expect_error bad13 "$E/bad13.core:2" "$L \"/lib/firmware/good.elf\" for Firmware="
test_case "bad14 Firmware= over 255 bytes" expect_error bad14 "$E/bad14.core:2" "$L \"ffffffff"
test_case "bad15 FallbackFirmware= = Firmware=" expect_error bad15 "$E/bad15.core:3" "FallbackFirmware= names the same image as Firmware="
test_case "bad16 FallbackFirmware= without Firmware=" expect_error bad16 "$E/bad16.core:2" "FallbackFirmware= needs Firmware="
test_case "bad17 Requires= itself" expect_error bad17 "$E/bad17.core:3" "$L \"bad17\" for Requires=: a core cannot depend on itself"
test_case "bad18/bad19 dependency cycle" test_cycle
test_case "bad20 two files claim one kernel core" test_two_files_one_core
test_case "bad21 masked: watched, never touched" test_masked bad21
test_case "bad46 masked by an empty file" test_masked bad46
test_case "bad47 Name= with a glob: a warning, compared literally" test_name_glob
test_case "bad48 a file for another board: not an error" test_other_board
test_case "good4 [Match] Compatible=! and a specifier" test_specifier_and_board
test_case "bad22 drop-in with a bad value" expect_error bad22 "$U/bad22.core.d/50-bad.conf:2" "$L \"whenever\" for Start="
test_case "bad45 unreadable drop-in" expect_error bad45 "$E/bad45.core.d/10-secret.conf:0" "Permission denied"
test_case "bad23 drop-in directory is a file (warning)" expect_warning bad23 "$E/bad23.core.d:0" "is not a directory"
test_case "bad24 unknown key (warning)" expect_warning bad24 "$E/bad24.core:3" "unknown key Frimware= in [Core], ignored"
test_case "bad25 unknown section (warning)" expect_warning bad25 "$E/bad25.core:4" "unknown section [Cor], Foo= ignored"
test_case "bad26 assignment outside a section (warning)" expect_warning bad26 "$E/bad26.core:1" "assignment to Description= outside of any section, ignored"
test_case "bad27 100 KB line" expect_error bad27 "$E/bad27.core:3" "line longer than 32768 bytes"
test_case "bad28 file over the size limit" expect_error bad28 "$E/bad28.core:0" "file is larger than 1048576 bytes"
test_case "bad29 binary junk with NUL bytes" expect_error bad29 "$E/bad29.core:3" "binary data (a NUL byte)"
test_case "bad30 invalid UTF-8" expect_error bad30 "$E/bad30.core:3" "invalid UTF-8"
test_case "bad43 escape sequence" expect_error bad43 "$E/bad43.core:3" "control characters"
test_case "bad31 CRLF line endings accepted" test_crlf_accepted
test_case "bad32 FIFO: reported, no hang" expect_error bad32 "$E/bad32.core:0" "not a regular file"
test_case "bad33 directory named NAME.core" expect_error bad33 "$E/bad33.core:0" "directory"
test_case "bad34 dangling symlink" expect_error bad34 "$E/bad34.core:0" "no such file"
test_case "bad35 symlink loop" expect_error bad35 "$E/bad35.core:0" "symbolic links"
test_case "bad36 unreadable file (mode 000, no DAC override)" expect_error bad36 "$E/bad36.core:0" "Permission denied"
test_case "bad37 invalid core file name" test_invalid_file_name
test_case "unmanaged cores refuse Start" test_not_managed_cannot_start
test_case "good cores unaffected after all of it" test_good_cores_again
test_case "reload: broken file of a running core, nothing restarted" test_reload_breaks_running_core
test_case "reload: fixed file, core managed again, not rebooted" test_reload_fixed_file
test_case "reload: an ignored invalid value, core still managed" test_reload_ignored_value
test_case "rprocctl verify: the hostile set fails, with each problem" test_verify_hostile
test_case "rprocctl verify --root: a clean image passes, a missing firmware fails" test_verify_root
test_case "daemon alive and answering" test_daemon_alive
# shellcheck disable=SC2154 # lib.sh counts the failures
if ((_tests_failed > 0)); then
	echo "--- the daemon's log"
	daemon_log | head -c 60000
	echo
fi
daemon_reset
rm -rf /usr/lib/rprocd "$NODAC" "$SNAP"
test_summary
