#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints its URL,
# e.g. postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable
#
#   .ci/postgres.sh          start (or reuse) the cluster, print the URL
#   .ci/postgres.sh stop     stop it and delete its directory
#
# Idempotent: a second call while the cluster runs prints the same URL. The
# cluster lives in $GATEHOUSE_PG_DIR (default /tmp/gatehouse-pg-$UID),
# listens on 127.0.0.1 only, on the first free port from 55432, trusts
# local connections and keeps nothing durable (fsync off): it is for tests
# only. PostgreSQL is installed from Debian's packages when missing. The
# server never runs as root: as root it runs as the user "postgres" (which
# the Debian package creates). Only the URL goes to stdout; progress goes to
# stderr.
set -euo pipefail

DIR="${GATEHOUSE_PG_DIR:-/tmp/gatehouse-pg-$(id -u)}"
FIRST_PORT="${GATEHOUSE_PG_PORT:-55432}"

log() { echo "postgres.sh: $*" >&2; }

# The newest installed server's bin directory, or nothing.
pgbin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	fi
}

# as_owner runs a command as the cluster's owner.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() { echo "postgres://postgres@127.0.0.1:$(cat "$DIR/port")/postgres?sslmode=disable"; }

PGBIN=$(pgbin)

if [ "${1:-start}" = stop ]; then
	if [ -n "$PGBIN" ] && [ -f "$DIR/data/postmaster.pid" ]; then
		as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >&2 || true
	fi
	rm -rf "$DIR"
	exit 0
fi

if [ -z "$PGBIN" ]; then
	if [ "$(id -u)" != 0 ]; then
		log "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
		exit 1
	fi
	log "installing PostgreSQL from Debian's packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
	PGBIN=$(pgbin)
	if [ -z "$PGBIN" ]; then
		log "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
		exit 1
	fi
fi

# Already running: print its URL.
if [ -f "$DIR/port" ] && as_owner "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
	url
	exit 0
fi

# A directory left by a cluster that is no longer running (a reboot, a
# killed CI run) is started again as it is; an unusable one is replaced.
if [ ! -f "$DIR/data/PG_VERSION" ]; then
	rm -rf "$DIR"
	mkdir -p "$DIR"
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$DIR"
	fi
	chmod 700 "$DIR"
	log "initdb in $DIR/data"
	as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >"$DIR.initdb.log" 2>&1 ||
		{ cat "$DIR.initdb.log" >&2; exit 1; }
	rm -f "$DIR.initdb.log"
fi

port=$FIRST_PORT
while port_in_use "$port"; do
	port=$((port + 1))
	if [ "$port" -gt $((FIRST_PORT + 100)) ]; then
		log "no free port in $FIRST_PORT..$((FIRST_PORT + 100))"
		exit 1
	fi
done

# max_connections: every test server keeps its own pool; tests run in
# parallel and each holds a few connections.
if ! as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -p $port -k $DIR -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
	start >&2; then
	log "pg_ctl start failed; the server log:"
	cat "$DIR/server.log" >&2 || true
	exit 1
fi
echo "$port" | as_owner tee "$DIR/port" >/dev/null
log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') running in $DIR on 127.0.0.1:$port"
url
