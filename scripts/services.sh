#!/usr/bin/env bash
# services.sh starts the real services the tests use, verifies each one, and
# writes their addresses to an env file that `make test` sources.
#
#   scripts/services.sh [start]   start what does not answer yet, verify all
#   scripts/services.sh stop      stop what this script started (by pid file)
#   scripts/services.sh status    show what answers
#
# A service that already answers on its port is used as it is (this is how a
# machine's own PostgreSQL or Redis is picked up); only missing ones are
# started, with their files under $IMGMGR_SERVICES_DIR (default
# /tmp/imgmgr-services-UID: Debian's AppArmor profile for clamd lets it write
# under /tmp but not under $HOME). Variables that are
# already set (IMGMGR_TEST_POSTGRES_URL, ...) are honoured and only verified.
#
#   PostgreSQL  127.0.0.1:5432  database "test", user postgres (private trust cluster if started here)
#   Redis       127.0.0.1:6379  nothing kept on disk
#   clamd       127.0.0.1:3310  signature database = one custom EICAR signature (no downloads)
#   MinIO       127.0.0.1:9000  only when a test uses testenv.S3Server (or IMGMGR_WITH_S3=1)
#   promtool    no port: the Prometheus rule checker the deploy/prometheus tests run
#
# MinIO and promtool are built once from the Go module proxy and cached under
# $IMGMGR_BIN_CACHE (default ~/.cache/imgmgr/bin); IMGMGR_MINIO_VERSION and
# IMGMGR_PROMTOOL_VERSION pick other versions.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/.." && pwd)
state=${IMGMGR_SERVICES_DIR:-/tmp/imgmgr-services-$(id -u)}
env_file=${IMGMGR_TEST_ENV_FILE:-$root/.cache/test-env}
pg_port=${IMGMGR_PG_PORT:-5432}
redis_port=${IMGMGR_REDIS_PORT:-6379}
clamd_port=${IMGMGR_CLAMD_PORT:-3310}
s3_port=${IMGMGR_S3_PORT:-9000}
minio_version=${IMGMGR_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
promtool_version=${IMGMGR_PROMTOOL_VERSION:-v0.316.0}
s3_user=imgmgrtest
s3_secret=imgmgrtestsecret
s3_bucket=imgmgr-test

export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
export LC_ALL=C # byte lengths for the clamd check

# EICAR's standard anti-virus test string, hex-encoded so that this file is
# not itself flagged by a virus scanner.
eicar_hex=58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a

# pid_alive PIDFILE NAME reports whether the pid in PIDFILE runs a NAME process.
pid_alive() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		grep -q -- "$2" "/proc/$pid/cmdline" 2>/dev/null
}

# stop_pid PIDFILE NAME stops the process that PIDFILE names, if it runs NAME.
stop_pid() {
	local pid
	if pid_alive "$1" "$2"; then
		pid=$(cat "$1")
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		note "$2: stopped pid $pid"
	fi
	rm -f "$1"
}

# ---------------------------------------------------------------- PostgreSQL

pg_bin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ]; then
		echo "$d"
	elif command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
	else
		die "no PostgreSQL server binaries (run scripts/deps.sh test)"
	fi
}

# pg_run runs a PostgreSQL server tool as a user it accepts: initdb and
# postgres refuse root, so root runs them as the postgres user.
pg_run() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start_private starts a throwaway cluster (trust auth, fsync off) under
# $state/postgres, listening on 127.0.0.1:$pg_port only.
pg_start_private() {
	local bin dir=$state/postgres
	bin=$(pg_bin)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	chmod 700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		note "initdb $dir/data"
		pg_run "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$state/postgres-initdb.log" 2>&1 ||
			{ cat "$state/postgres-initdb.log" >&2; die "initdb failed"; }
	fi
	note "starting private PostgreSQL on 127.0.0.1:$pg_port"
	pg_run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null 9>&- ||
		{ tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start"; }
}

# pg_password_role handles a server that wants passwords over TCP (Debian's
# own cluster as its package sets it up): as root, through the Unix socket
# with peer auth, it makes a role with a known password that owns database
# "test", and prints the URL to use. It fails when that is not possible.
pg_password_role() {
	[ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 || return 1
	local sock
	for sock in /var/run/postgresql "$state/postgres"; do
		[ -S "$sock/.s.PGSQL.$pg_port" ] || continue
		local q=(runuser -u postgres -- psql -w -X -q -t -A -v ON_ERROR_STOP=1 -h "$sock" -p "$pg_port" -d postgres)
		"${q[@]}" -c 'select 1' >/dev/null 2>&1 || continue
		note "server wants a password over TCP: using role imgmgr_test (made through $sock)" >&2
		if [ "$("${q[@]}" -c "select 1 from pg_roles where rolname = 'imgmgr_test'")" != 1 ]; then
			"${q[@]}" -c "create role imgmgr_test login password 'imgmgr_test'" >/dev/null || return 1
		fi
		if [ "$("${q[@]}" -c "select 1 from pg_database where datname = 'test'")" != 1 ]; then
			"${q[@]}" -c 'create database test owner imgmgr_test' >/dev/null || return 1
		fi
		"${q[@]}" -c 'grant all on database test to imgmgr_test' >/dev/null || return 1
		echo "postgres://imgmgr_test:imgmgr_test@127.0.0.1:$pg_port/test?sslmode=disable"
		return 0
	done
	return 1
}

psql_q() { PGCONNECT_TIMEOUT=5 psql -w -X -q -t -A -v ON_ERROR_STOP=1 "$@"; }

postgres_up() {
	section "PostgreSQL"
	local url=${IMGMGR_TEST_POSTGRES_URL:-}
	if [ -z "$url" ]; then
		if listening 127.0.0.1 "$pg_port"; then
			note "already listening on 127.0.0.1:$pg_port; using it"
		else
			pg_start_private
		fi
		local admin="postgres://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable"
		if psql_q "$admin" -c 'select 1' >/dev/null 2>&1; then
			if [ "$(psql_q "$admin" -c "select 1 from pg_database where datname = 'test'")" != 1 ]; then
				# Two runs at once may race here; the second CREATE fails harmlessly.
				psql_q "$admin" -c 'create database test' >/dev/null 2>&1 || true
				note "created database test"
			fi
			url="postgres://postgres@127.0.0.1:$pg_port/test?sslmode=disable"
		else
			url=$(pg_password_role) ||
				die "cannot connect as postgres to 127.0.0.1:$pg_port without a password; set IMGMGR_TEST_POSTGRES_URL"
		fi
	fi
	[ "$(psql_q "$url" -c 'select 41 + 1')" = 42 ] || die "PostgreSQL at $url does not answer queries"
	note "ok: $url ($(psql_q "$url" -c 'show server_version'))"
	echo "export IMGMGR_TEST_POSTGRES_URL='$url'" >>"$env_tmp"
}

# --------------------------------------------------------------------- Redis

# redis_cmd PORT COMMAND prints the first reply line of an inline command.
redis_cmd() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\r\n" "$2" >&3 && IFS= read -r l <&3 && printf "%s\n" "$l"' \
		_ "$1" "$2" 2>/dev/null | tr -d '\r'
}

redis_ping() { [ "$(redis_cmd "$redis_port" PING)" = +PONG ]; }

redis_up() {
	section "Redis"
	local url=${IMGMGR_TEST_REDIS_URL:-redis://127.0.0.1:$redis_port/0}
	if [ -n "${IMGMGR_TEST_REDIS_URL:-}" ]; then
		note "using IMGMGR_TEST_REDIS_URL as given"
		echo "export IMGMGR_TEST_REDIS_URL='$url'" >>"$env_tmp"
		return
	fi
	if redis_ping; then
		note "already answering on 127.0.0.1:$redis_port; using it"
	elif listening 127.0.0.1 "$redis_port"; then
		die "something on 127.0.0.1:$redis_port is not an open Redis; set IMGMGR_TEST_REDIS_URL"
	else
		note "starting redis-server on 127.0.0.1:$redis_port"
		mkdir -p "$state/redis"
		redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
			--dir "$state/redis" --pidfile "$state/redis.pid" --logfile "$state/redis.log" >/dev/null 9>&-
		wait_for 15 Redis redis_ping
	fi
	[ "$(redis_cmd "$redis_port" 'SET imgmgr:services-check ok EX 10')" = +OK ] ||
		die "Redis on 127.0.0.1:$redis_port does not accept writes"
	note "ok: $url (PING, SET)"
	echo "export IMGMGR_TEST_REDIS_URL='$url'" >>"$env_tmp"
}

# --------------------------------------------------------------------- clamd

# hex_bytes HEX writes the bytes that HEX spells.
hex_bytes() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }

# u32be N writes N as four big-endian bytes (INSTREAM chunk length).
u32be() { hex_bytes "$(printf '%08x' "$1")"; }

# clamd_cmd PORT COMMAND sends a z-command and prints the NUL-ended reply.
clamd_cmd() {
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "z%s\0" "$2" >&3 && IFS= read -r -d "" l <&3; printf "%s\n" "$l"' _ "$1" "$2" 2>/dev/null
}

clamd_ping() { [ "$(clamd_cmd "$clamd_port" PING)" = PONG ]; }

# clamd_scan PORT HEX streams the bytes HEX spells through INSTREAM and prints
# clamd's verdict, e.g. "stream: OK".
clamd_scan() {
	local port=$1 hex=$2 reply
	exec 3<>"/dev/tcp/127.0.0.1/$port"
	{
		printf 'zINSTREAM\0'
		u32be $((${#hex} / 2))
		hex_bytes "$hex"
		u32be 0
	} >&3
	IFS= read -r -d '' -t 10 reply <&3 || true
	exec 3>&-
	printf '%s\n' "$reply"
}

clamd_verify() {
	local text_hex clean infected
	# "imgmgr services check: " + EICAR + " (embedded)\n": the signature must
	# match anywhere in a file, not only at its start.
	text_hex=$(printf 'imgmgr services check: ' | od -An -tx1 -v | tr -d ' \n')
	infected=$(clamd_scan "$clamd_port" "$text_hex$eicar_hex$(printf ' (embedded)\n' | od -An -tx1 -v | tr -d ' \n')")
	clean=$(clamd_scan "$clamd_port" "$text_hex")
	[[ $infected == *FOUND ]] || die "clamd on :$clamd_port did not find EICAR (reply: '$infected')"
	[ "$clean" = "stream: OK" ] || die "clamd on :$clamd_port did not pass a clean stream (reply: '$clean')"
	note "ok: EICAR -> '$infected'; clean -> '$clean'"
}

clamd_write_config() {
	local dir=$1 sig
	mkdir -p "$dir/db"
	# Body-based (.ndb) signature: target type 0 (any file), offset * (anywhere).
	sig="Imgmgr.Test.EICAR:0:*:$eicar_hex"
	[ "$(cat "$dir/db/imgmgr-test.ndb" 2>/dev/null)" = "$sig" ] || echo "$sig" >"$dir/db/imgmgr-test.ndb"
	cat >"$dir/clamd.conf" <<EOF
# Written by scripts/services.sh: a clamd for tests only.
Foreground yes
TCPSocket $clamd_port
TCPAddr 127.0.0.1
DatabaseDirectory $dir/db
LogFile $dir/clamd.log
LogTime yes
TemporaryDirectory $dir
StreamMaxLength 256M
MaxThreads 4
SelfCheck 0
ConcurrentDatabaseReload no
EOF
}

clamd_up() {
	section "clamd"
	local addr=${IMGMGR_TEST_CLAMD_ADDRESS:-}
	local dir=$state/clamd
	if [ -n "$addr" ]; then
		note "using IMGMGR_TEST_CLAMD_ADDRESS as given ($addr)"
		echo "export IMGMGR_TEST_CLAMD_ADDRESS='$addr'" >>"$env_tmp"
		return
	fi
	if clamd_ping; then
		note "already answering on 127.0.0.1:$clamd_port; using it"
	elif listening 127.0.0.1 "$clamd_port"; then
		die "something on 127.0.0.1:$clamd_port is not clamd; set IMGMGR_TEST_CLAMD_ADDRESS"
	else
		local clamd
		clamd=$(command -v clamd) || die "clamd not installed (run scripts/deps.sh test)"
		clamd_write_config "$dir"
		note "starting clamd on 127.0.0.1:$clamd_port (db: $dir/db)"
		# Foreground clamd in its own session, detached from our output so
		# that CI's log pipe closes when make ends.
		setsid "$clamd" --config-file="$dir/clamd.conf" </dev/null >"$dir/clamd.out" 2>&1 9>&- &
		echo $! >"$dir/clamd.pid"
		local tries=150
		until clamd_ping; do
			if ! pid_alive "$dir/clamd.pid" clamd; then
				tail -n 20 "$dir/clamd.out" "$dir/clamd.log" >&2 2>/dev/null || true
				die "clamd exited during start-up"
			fi
			tries=$((tries - 1))
			[ "$tries" -gt 0 ] || die "clamd did not answer PING within 30s"
			sleep 0.2
		done
	fi
	clamd_verify
	echo "export IMGMGR_TEST_CLAMD_ADDRESS='tcp://127.0.0.1:$clamd_port'" >>"$env_tmp"
}

# --------------------------------------------------------------------- MinIO

s3_wanted() {
	[ "${IMGMGR_WITH_S3:-}" = 1 ] && return 0
	grep -rqs --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git \
		-e 'testenv.S3Server(' "$root"
}

# minio_binary prints the path of the cached MinIO binary, building it once.
minio_binary() { go_binary minio github.com/minio/minio "$minio_version"; }

minio_up() {
	section "MinIO (S3)"
	if ! s3_wanted; then
		note "skipped: no test calls testenv.S3Server (set IMGMGR_WITH_S3=1 to start it anyway)"
		return
	fi
	local endpoint=127.0.0.1:$s3_port dir=$state/minio
	if listening 127.0.0.1 "$s3_port"; then
		note "already listening on $endpoint; using it"
	else
		local bin
		bin=$(minio_binary)
		mkdir -p "$dir/data"
		note "starting MinIO on $endpoint"
		MINIO_ROOT_USER=$s3_user MINIO_ROOT_PASSWORD=$s3_secret MINIO_BROWSER=off \
			MINIO_UPDATE=off MINIO_CI_CD=1 \
			setsid "$bin" server "$dir/data" --address "$endpoint" --quiet --anonymous \
			</dev/null >"$dir/minio.log" 2>&1 9>&- &
		echo $! >"$state/minio.pid"
		wait_for 60 MinIO listening 127.0.0.1 "$s3_port"
	fi
	# A signed PUT Bucket + HEAD Bucket proves the server and the credentials.
	(cd "$root" && go run ./scripts/s3bucket -endpoint "$endpoint" -access-key "$s3_user" \
		-secret-key "$s3_secret" -bucket "$s3_bucket") || die "MinIO on $endpoint failed the bucket check"
	{
		echo "export IMGMGR_TEST_S3_ENDPOINT='$endpoint'"
		echo "export IMGMGR_TEST_S3_ACCESS_KEY='$s3_user'"
		echo "export IMGMGR_TEST_S3_SECRET_KEY='$s3_secret'"
		echo "export IMGMGR_TEST_S3_BUCKET='$s3_bucket'"
	} >>"$env_tmp"
}

# ------------------------------------------------------------------ promtool

# promtool_up finds promtool for the rule tests of deploy/prometheus
# (IMGMGR_TEST_PROMTOOL as given, else built once from the module proxy and
# cached like MinIO) and names it in the env file.
promtool_up() {
	section "promtool (Prometheus rule tests)"
	[ -d "$root/deploy/prometheus" ] || {
		note "skipped: no deploy/prometheus"
		return
	}
	local bin=${IMGMGR_TEST_PROMTOOL:-}
	if [ -z "$bin" ]; then
		bin=$(go_binary promtool github.com/prometheus/prometheus/cmd/promtool "$promtool_version")
	fi
	# A go-installed promtool reports no version of its own: the cached
	# file's name carries it.
	"$bin" --version >/dev/null 2>&1 || die "promtool at $bin does not run"
	note "ok: $bin"
	echo "export IMGMGR_TEST_PROMTOOL='$bin'" >>"$env_tmp"
}

# ------------------------------------------------------------------- actions

# lock serialises runs from several checkouts at once (they share the
# ports and $state): the second waits, then finds everything answering.
# Every daemon started under the lock gets 9>&-, or it would hold the lock
# for as long as it runs.
lock() {
	mkdir -p "$state"
	exec 9>"$state/services.lock"
	if ! flock -n 9; then
		note "another services.sh is running; waiting for it"
		# A run takes seconds once packages are in; never hang CI on a
		# stale holder: after two minutes go on without the lock.
		flock -w 120 9 || note "warning: $state/services.lock still held after 120s; going on"
	fi
}

start_all() {
	local start
	start=$(now_ms)
	mkdir -p "$state" "$(dirname "$env_file")"
	chmod 755 "$state"
	lock
	env_tmp=$(mktemp "$env_file.XXXXXX")
	trap 'rm -f "$env_tmp"' EXIT
	echo "# Written by scripts/services.sh; sourced by make test." >"$env_tmp"
	postgres_up
	redis_up
	clamd_up
	minio_up
	promtool_up
	if command -v chromium >/dev/null 2>&1; then
		echo "export IMGMGR_TEST_CHROMIUM='$(command -v chromium)'" >>"$env_tmp"
	fi
	mv "$env_tmp" "$env_file"
	section "services ready in $(since "$start"); env in ${env_file#"$root"/}"
	sed -n 's/^export /    /p' "$env_file"
}

stop_all() {
	section "stopping services started by scripts/services.sh"
	lock
	stop_pid "$state/clamd/clamd.pid" clamd
	stop_pid "$state/redis.pid" redis-server
	stop_pid "$state/minio.pid" minio
	if [ -f "$state/postgres/data/postmaster.pid" ]; then
		pg_run "$(pg_bin)/pg_ctl" -D "$state/postgres/data" -m fast -w stop >/dev/null && note "postgres: stopped private cluster"
	fi
}

status_all() {
	section "services"
	local name port
	while read -r name port; do
		if listening 127.0.0.1 "$port"; then note "$name: listening on 127.0.0.1:$port"; else note "$name: down"; fi
	done <<EOF
PostgreSQL $pg_port
Redis $redis_port
clamd $clamd_port
MinIO $s3_port
EOF
}

case ${1:-start} in
start) start_all ;;
stop) stop_all ;;
status) status_all ;;
*) die "usage: $0 [start|stop|status]" ;;
esac
