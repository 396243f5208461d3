#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# rprocctl's offline verbs and option parsing, no bus and no kernel: validate
# on the firmware images the real toolchains linked (every ELF class and byte
# order, tests/unit/elf/fixtures/), on one dated after January 2038 (a 32-bit
# time_t fails its fstat()), and --lines at the edges of 32 bits. In a cross
# build it runs under qemu-user like the unit tests (docs/PORTING.md).
set -euo pipefail

RPROCCTL=${RPROCCTL:?path to the rprocctl binary}
FIXTURES=${RPROC_ELF_FIXTURES:?directory of the ELF fixtures}
read -r -a wrap <<<"${RPROCD_EXE_WRAPPER:-}"
ctl() { "${wrap[@]}" "$RPROCCTL" "$@"; }

tmp=$(mktemp -d /tmp/rprocctl-offline-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
check() { # description, then the command; the command's status decides
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		echo "FAIL: $what" >&2
		failed=$((failed + 1))
	fi
}

# out VAR STATUS-WANTED ARGS...: run rprocctl, keep its output, compare its exit status
run() {
	local want=$1 rc=0
	shift
	out=$(ctl "$@" 2>&1) || rc=$?
	[[ $rc == "$want" ]] || {
		echo "rprocctl $*: exit $rc, expected $want: $out" >&2
		return 1
	}
}

check "ELF32 LSB is valid" run 0 validate "$FIXTURES/fw32-lsb.elf"
check "ELF32 LSB: class and machine" grep -q "format: ELF32, machine ARM (40), entry 0x1000" <<<"$out"
check "ELF64 LSB is valid" run 0 validate "$FIXTURES/fw64-lsb.elf"
check "ELF64 LSB: build-id" grep -q "build-id: c0bda7c65e4c3b3b0eb30e10d15361f750b13d47" <<<"$out"
check "ELF32 MSB is refused" run 1 validate "$FIXTURES/fw32-msb.elf"
check "ELF32 MSB: bad-endian" grep -q "(bad-endian)" <<<"$out"
check "ELF64 MSB is refused" run 1 --json validate "$FIXTURES/fw64-msb.elf"
check "ELF64 MSB: bad-endian in JSON" grep -q '"Error":"bad-endian"' <<<"$out"
check "--class 64 on ELF32" run 1 validate --class 64 "$FIXTURES/fw32-lsb.elf"

cp "$FIXTURES/fw32-lsb.elf" "$tmp/late.elf"
touch -d "2040-01-01 00:00:00 UTC" "$tmp/late.elf"
check "an image dated 2040 is read" run 0 validate "$tmp/late.elf"

# --lines is parsed before anything else is done: a bad one is a usage error (2).
for bad in 4294967296 18446744073709551616 -1 "" 12x; do
	check "--lines '$bad' refused" run 2 logs core0 -n "$bad"
	check "--lines '$bad' named" grep -q "^rprocctl: Invalid --lines" <<<"$out"
done

# verify and cat on an image (--root): its links lead into it, absolute or with "..",
# never to the build host; a mask is a link to /dev/null in the image, which has no /dev.
img=$tmp/image
nh=/rprocd-offline-test-not-on-host
[[ ! -e $nh ]] || {
	echo "$nh exists on this host: the test cannot tell the image from the host" >&2
	exit 1
}
mkdir -p "$img$nh/vendor" "$img$nh/cores" "$img/lib/firmware" "$img/etc/rprocd/cores"
cp "$FIXTURES/fw32-lsb.elf" "$img$nh/vendor/m4.elf"
ln -s "$nh/vendor/m4.elf" "$img/lib/firmware/m4.elf"
printf '[Core]\nDescription=the image copy\nFirmware=m4.elf\n' >"$img$nh/cores/m4.core"
ln -s "$nh/cores/m4.core" "$img/etc/rprocd/cores/m4.core"
ln -s "../../../../../../../..$nh/vendor/m4.elf" "$img/lib/firmware/esc.elf"
printf '[Core]\nFirmware=esc.elf\n' >"$img/etc/rprocd/cores/esc.core"
ln -s ../../../../../../../../dev/null "$img/etc/rprocd/cores/dsp.core"
ln -s "$nh/mask" "$img/etc/rprocd/cores/r5f.core"
ln -s /dev/null "$img$nh/mask"
check "verify passes on an image with absolute links" run 0 --root="$img" verify
check "verify: m4 managed" grep -q "^m4: /etc/rprocd/cores/m4.core: managed$" <<<"$out"
check "verify: esc managed (.. stays in the image)" grep -q "^esc: .*: managed$" <<<"$out"
check "verify: dsp masked (relative link to /dev/null)" grep -q "^dsp: .*: masked$" <<<"$out"
check "verify: r5f masked (a chain to /dev/null)" grep -q "^r5f: .*: masked$" <<<"$out"
check "cat reads the image's file" run 0 --root="$img" cat m4
check "cat: the image's Description=" grep -q "^Description=the image copy" <<<"$out"
# A link to a file the build host has and the image has not: not found, not the host's.
ln -s /etc/passwd "$img/lib/firmware/host.bin"
printf '[Core]\nFirmware=host.bin\nFirmwareFormat=opaque\n' >"$img/etc/rprocd/cores/host.core"
check "verify: the host's /etc/passwd is not the image's" run 1 --root="$img" verify
check "verify: host.bin not found in the image" \
	grep -q "host.core:2: error: Firmware=host.bin: no such file in the firmware search path" \
	<<<"$out"
rm "$img/etc/rprocd/cores/host.core"

# AdminGroup= names a group of the image's /etc/group: a warning (verify fails) when not there.
printf '[Daemon]\nAdminGroup=rprocadm\n' >"$img/etc/rprocd/rprocd.conf"
printf 'root:x:0:\nrprocadmins:x:990:\n' >"$img/etc/group"
check "verify fails: AdminGroup= not in the image" run 1 --root="$img" verify
check "verify: the warning at AdminGroup='s line" grep -q \
	"^rprocctl: /etc/rprocd/rprocd.conf:2: warning: AdminGroup=rprocadm: no such group in the image's /etc/group" \
	<<<"$out"
check "verify: one warning, no error" grep -q "; 0 errors, 1 warnings$" <<<"$out"
check "verify --json: the warning" run 1 --json --root="$img" verify
check "verify --json: at its line" grep -q '"Level":"warning","File":"/etc/rprocd/rprocd.conf","Line":2' <<<"$out"
# created at first boot by systemd-sysusers: a note, verify passes
mkdir -p "$img/usr/lib/sysusers.d"
printf '# rprocd\ng rprocadm -\n' >"$img/usr/lib/sysusers.d/rprocd.conf"
check "verify passes: AdminGroup= from sysusers.d" run 0 --root="$img" verify
check "verify: a note names sysusers.d" grep -q \
	"note: AdminGroup=rprocadm: not in the image's /etc/group, created at boot by /usr/lib/sysusers.d/rprocd.conf" \
	<<<"$out"
rm -r "$img/usr/lib/sysusers.d"
printf 'root:x:0:\nrprocadm:x:991:\n' >"$img/etc/group"
check "verify passes: AdminGroup= in the image" run 0 --root="$img" verify

echo "rprocctl-offline: $passed passed, $failed failed"
[[ $failed == 0 ]]
