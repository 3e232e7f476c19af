#!/usr/bin/env bash
# step.sh TITLE COMMAND... runs COMMAND under a section header, then prints
# whether it passed and how long it took. The exit status is COMMAND's.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

title=$1
shift
section "$title"
start=$(now_ms)
rc=0
"$@" || rc=$?
if [ "$rc" -eq 0 ]; then
	note "$title: ok in $(since "$start")"
else
	note "$title: FAILED (exit $rc) after $(since "$start")"
fi
exit "$rc"
