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

echo "rprocctl-offline: $passed passed, $failed failed"
[[ $failed == 0 ]]
