# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Root for the scripts README.md gives (tests/demo, tests/run-all) and for
# tools/build-deb's package installs, on a fresh Debian 12 machine where the
# user is root, or a user with sudo. Source it; then:
#
#   as_root_reexec WHY "$@"   the calling script again as root: returns at
#                             once for root, re-executes it through sudo
#                             otherwise, or explains WHY root is needed and
#                             exits 1 when there is no sudo
#   as_root CMD...            CMD as root (directly, or through sudo)
#
# sudo resets the environment: the project's variables (RPROCD_*, RPROC_*)
# and DEB_BUILD_OPTIONS are handed over explicitly with env(1), which needs
# no SETENV right in sudoers.

# _as_root_env - the variables to hand over, as NAME=VALUE words
_as_root_env() {
	local name value
	while IFS='=' read -r -d '' name value; do
		[[ "$name" =~ ^(RPROCD?_[A-Za-z0-9_]*|DEB_BUILD_OPTIONS)$ ]] && printf '%s=%s\0' "$name" "$value"
	done < <(env -0)
}

# _as_root_no_sudo WHAT WHY - explain, then exit 1
_as_root_no_sudo() {
	echo "${1##*/}: needs root: $2." >&2
	echo "${1##*/}: run it as root, or as a user who may use sudo (apt-get install sudo)." >&2
	exit 1
}

as_root_reexec() {
	local why=$1 script
	shift
	(($(id -u) == 0)) && return 0
	script=$(realpath "${BASH_SOURCE[1]}")
	command -v sudo >/dev/null 2>&1 || _as_root_no_sudo "$script" "$why"
	if [[ -n "${RPROCD_AS_ROOT_REEXEC:-}" ]]; then
		echo "${script##*/}: still not root after sudo" >&2
		exit 1
	fi
	echo "${script##*/}: not root: running it again through sudo ($why)" >&2
	local vars=()
	mapfile -d '' -t vars < <(_as_root_env)
	exec sudo -- env RPROCD_AS_ROOT_REEXEC=1 "${vars[@]}" "$script" "$@"
}

as_root() {
	if (($(id -u) == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		local vars=()
		mapfile -d '' -t vars < <(_as_root_env)
		sudo -- env "${vars[@]}" "$@"
	else
		_as_root_no_sudo "${BASH_SOURCE[1]}" "to run $*"
	fi
}
