#!/usr/bin/env bash
# deps.sh installs the Debian packages imgmgr needs, and only the missing ones.
#
#   scripts/deps.sh          what building and running need (libvips, cgo, Node)
#   scripts/deps.sh test     that plus the services and browser the tests use
#
# Idempotent: when everything is present it runs no apt-get at all and takes
# well under a second. Go itself is not installed here (Debian's is too old):
# it is expected at /usr/local/go or on PATH.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-build}
case $mode in
build | test) ;;
*) die "usage: $0 [build|test]" ;;
esac

export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
export DEBIAN_FRONTEND=noninteractive

section "deps ($mode): system packages"
start=$(now_ms)

command -v go >/dev/null 2>&1 ||
	die "Go not found (expected /usr/local/go/bin/go); install Go $(sed -n 's/^go //p' "$(dirname "$0")/../go.mod") first"

wanted=(libvips-dev libvips-tools pkg-config gcc)
if [ "$mode" = test ]; then
	wanted+=(redis-server clamav-daemon clamav chromium postgresql-client curl jq)
	# The machine may already run a PostgreSQL (ours, or the user's own build):
	# then the test suite uses it and we install no server.
	if ! listening 127.0.0.1 5432; then
		wanted+=(postgresql)
	fi
fi
# Node.js is used for the web UI build and the browser tests. Keep a Node
# that is already there (e.g. a newer one from another source); otherwise
# take Debian's, which ships npm as a separate package.
if ! command -v node >/dev/null 2>&1; then
	wanted+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
	wanted+=(npm)
fi

# One dpkg-query call for all names: packages not known to dpkg print an
# error line on stderr and are simply absent from the output.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { print $1 }' || true)
missing=()
for p in "${wanted[@]}"; do
	if ! grep -qx -- "$p" <<<"$installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	note "all present: ${wanted[*]}"
else
	note "installing: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Checks that catch a half-installed machine early, with a clear message.
pkg-config --exists vips || die "pkg-config cannot find vips (libvips-dev)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
	note "warning: Node.js $(node --version 2>/dev/null || echo none) is older than 20; the web UI build needs Node 20+"
fi
note "go $(go env GOVERSION), libvips $(pkg-config --modversion vips), node $(node --version 2>/dev/null || echo none)"
note "done in $(since "$start")"
