#!/usr/bin/env bash
# npm-ci.sh DIR installs DIR's npm packages exactly as package-lock.json
# pins them (npm ci), and skips the work when node_modules already matches
# the lock file, so that running `make build` or `make test` again is fast.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:?usage: npm-ci.sh DIR}
cd "$dir"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
if [ ! -f package-lock.json ]; then
	note "warning: $dir has no package-lock.json; running npm install (commit the lock file)"
	npm install
	exit 0
fi
sum=$(sha256sum package-lock.json | cut -c1-64)
stamp=node_modules/.imgmgr-npm-ci
if [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
	note "$dir/node_modules matches package-lock.json"
	exit 0
fi
npm ci
echo "$sum" >"$stamp"
