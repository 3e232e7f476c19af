# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.

# section prints a header that stands out in long CI logs.
section() { printf '\n==> %s\n' "$*"; }

# note prints an indented line under the current section.
note() { printf '    %s\n' "$*"; }

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# as_root runs a command as root: directly when we are root, through sudo
# otherwise. It fails with a clear message when neither is possible.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $*  (run it as root, or install sudo)"
	fi
}

# listening HOST PORT reports whether something accepts TCP connections there.
# Pure bash (/dev/tcp): nc and friends may not be installed.
listening() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# wait_for SECONDS DESCRIPTION COMMAND... polls COMMAND every 0.2 s until it
# succeeds or SECONDS pass.
wait_for() {
	local secs=$1 what=$2
	shift 2
	local tries=$((secs * 5))
	while [ "$tries" -gt 0 ]; do
		if "$@"; then
			return 0
		fi
		sleep 0.2
		tries=$((tries - 1))
	done
	die "$what did not come up within ${secs}s"
}

# now_ms prints the wall clock in milliseconds, for step timings.
now_ms() {
	local t=${EPOCHREALTIME/./}
	echo "${t:0:-3}"
}

# since MS prints the time elapsed since now_ms printed MS, e.g. "1.234s".
since() {
	local d=$(($(now_ms) - $1))
	printf '%d.%03ds' $((d / 1000)) $((d % 1000))
}
