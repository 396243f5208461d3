# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers for the systemd suites (tests/vm/systemd/*.sh), which run under
# `tests/vm/run --systemd`: systemd is PID 1, journald, udevd and the system
# bus run, and rprocd is installed with `meson install` and driven with
# systemctl as on a device. On top of ../daemon/lib-daemon.sh (core_conf,
# prop, core_call, dbus_error), whose own daemon and bus helpers are not
# used here.
. "$(dirname "${BASH_SOURCE[0]}")/../daemon/lib-daemon.sh"

UNIT=rprocd.service
UNIT_DROPIN_DIR=/etc/systemd/system/rprocd.service.d

[[ -d /run/systemd/system ]] || die "systemd is not PID 1: run with tests/vm/run --systemd"

# rprocd_install - `meson install` of the build tree into the guest's root
# (the overlay: nothing reaches the host) with prefix /usr, then what a
# package's maintainer scripts do: ldconfig, daemon-reload, reload the bus
# (policy and activation file), update the journal's catalog.
rprocd_install() {
	local log=/run/rprocd-install.log t0=$SECONDS
	[[ -d "$RPROCD_BUILD_DIR" ]] || die "RPROCD_BUILD_DIR is not set"
	# The tree's own prefix may be /usr/local; in the guest it becomes /usr
	# (a reconfigure costs about 20 s under TCG: skipped when not needed).
	: >"$log"
	if ! grep -q '"name": "prefix", "value": "/usr"' \
		"$RPROCD_BUILD_DIR/meson-info/intro-buildoptions.json" 2>/dev/null; then
		meson setup --reconfigure --prefix=/usr "$RPROCD_BUILD_DIR" "$RPROCD_SOURCE_DIR" >>"$log" 2>&1 ||
			{ cat "$log" >&2; die "meson setup --reconfigure --prefix=/usr failed"; }
	fi
	if ! meson install -C "$RPROCD_BUILD_DIR" --no-rebuild >>"$log" 2>&1; then
		cat "$log" >&2
		die "meson install failed"
	fi
	ldconfig
	systemctl daemon-reload
	systemctl reload dbus.service || die "reloading the system bus failed"
	journalctl --update-catalog || die "journalctl --update-catalog failed"
	log "installed with meson install (prefix /usr) in $((SECONDS - t0)) s"
}

# unit_prop PROPERTY - a property of rprocd.service (systemctl show -P)
unit_prop() {
	systemctl show -P "$1" "$UNIT"
}

# unit_dropin NAME TEXT - /etc/systemd/system/rprocd.service.d/NAME.conf, then daemon-reload
unit_dropin() {
	mkdir -p "$UNIT_DROPIN_DIR"
	printf '%s\n' "$2" >"$UNIT_DROPIN_DIR/$1.conf"
	systemctl daemon-reload
}

# journal_mark - remember the time: journal_since shows the entries after it
journal_mark() {
	JOURNAL_SINCE=$(date +%s.%N)
}

# journal_since [ARGS...] - journalctl (this boot) since journal_mark. Not
# --after-cursor: with a match, journalctl 252 skips the first matching entry.
journal_since() {
	journalctl --sync 2>/dev/null
	journalctl -b --no-pager --since="@$JOURNAL_SINCE" "$@"
}

# service_reset - rprocd stopped and unconfigured, its drop-ins and state
# gone, no module loaded, the unit's failure and restart counts reset. (A
# daemon-reload costs seconds under TCG: only when something changed.)
service_reset() {
	local reload=0
	systemctl stop "$UNIT" 2>/dev/null
	if [[ "$(systemctl is-enabled "$UNIT" 2>/dev/null)" == enabled ]]; then
		systemctl --no-reload disable "$UNIT" 2>/dev/null
		reload=1
	fi
	[[ -d "$UNIT_DROPIN_DIR" ]] && reload=1
	rm -rf "$UNIT_DROPIN_DIR" /etc/rprocd /var/lib/rprocd
	((reload)) && systemctl daemon-reload
	systemctl reset-failed "$UNIT" 2>/dev/null
	sim_unload
	return 0
}

# wait_until TIMEOUT_S WHAT CMD... - poll CMD every 100 ms until it succeeds
wait_until() {
	local timeout=$1 what=$2 deadline
	deadline=$(($(date +%s%N) + timeout * 1000000000))
	shift 2
	until "$@"; do
		(($(date +%s%N) < deadline)) || _assert_fail "$what: not within $timeout s"
		sleep 0.1
	done
}

# fail MSG - fail the test case here (for checks the assert_* helpers do not cover)
fail() {
	_assert_fail "$@"
}

# in_unit_cgroup CMD... - run CMD in rprocd.service's cgroup (so its device
# policy applies) from a child shell; prints CMD's output, returns its status
in_unit_cgroup() {
	local cg
	cg=/sys/fs/cgroup$(unit_prop ControlGroup)
	[[ -w "$cg/cgroup.procs" ]] || die "no cgroup $cg"
	bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' in-unit "$cg" "$@"
}
