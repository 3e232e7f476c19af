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

# go_binary NAME PACKAGE VERSION prints the path of a Go program built once
# with `go install PACKAGE@VERSION` from the module proxy and cached as
# NAME-VERSION under $IMGMGR_BIN_CACHE (default ~/.cache/imgmgr/bin; set it
# to keep the binaries elsewhere). Later calls find it and build nothing.
# Its stdout is captured, so everything else it says goes to stderr. A
# failed build leaves nothing in the cache.
go_binary() {
	local name=$1 pkg=$2 version=$3
	local cache=${IMGMGR_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/imgmgr/bin}
	local bin=$cache/$name-$version
	if [ ! -x "$bin" ]; then
		note "building $name $version once with go install (minutes; cached in $cache)" >&2
		mkdir -p "$cache" >&2
		local tmp
		tmp=$(mktemp -d)
		if ! GOBIN=$tmp go install "$pkg@$version" >&2; then
			rm -rf "$tmp"
			die "go install $pkg@$version failed"
		fi
		mv "$tmp/$name" "$bin" >&2
		rmdir "$tmp" >&2
	fi
	echo "$bin"
}
