#!/usr/bin/env bash
# with-services.sh CMD [ARGS...]
#
# Starts a private PostgreSQL and a private Redis on free loopback ports, with
# their data in SERVICES_DIR (default: a new temporary folder, removed at the
# end), exports DATABASE_URL and REDIS_URL, runs CMD, and stops both servers
# whatever CMD does. Installs the Debian packages postgresql and redis-server
# with apt-get when they are missing and we are root; otherwise it fails loudly.
set -euo pipefail

log() { printf 'services: %s\n' "$*" >&2; }

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

missing=()
[ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		log "installing ${missing[*]} with apt-get"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq "${missing[@]}" >&2
	else
		log "missing ${missing[*]}: install them (sudo apt-get install ${missing[*]}) and retry"
		exit 1
	fi
fi
PGBIN=$(pg_bin)

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

keep=1
if [ -z "${SERVICES_DIR:-}" ]; then
	SERVICES_DIR=$(mktemp -d /tmp/renewbot-services.XXXXXX)
	keep=0
fi
mkdir -p "$SERVICES_DIR"
SERVICES_DIR=$(cd "$SERVICES_DIR" && pwd)

as_pg=()
if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: use the postgres account the package made.
	id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
	chmod 755 "$SERVICES_DIR"
	as_pg=(runuser -u postgres --)
fi

PGDATA="$SERVICES_DIR/pg"
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
while [ "$REDIS_PORT" = "$PG_PORT" ]; do REDIS_PORT=$(free_port); done

stop_all() {
	local rc=$?
	"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
	if [ -f "$SERVICES_DIR/redis.pid" ]; then
		kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null || true
	fi
	if [ "$keep" = 0 ]; then rm -rf "$SERVICES_DIR"; fi
	exit $rc
}
trap stop_all EXIT INT TERM

if [ ! -f "$PGDATA/PG_VERSION" ]; then
	mkdir -p "$PGDATA"
	[ ${#as_pg[@]} -eq 0 ] || chown postgres "$PGDATA"
	"${as_pg[@]}" "$PGBIN/initdb" -D "$PGDATA" -U renewbot --auth=trust -E UTF8 --locale=C.UTF-8 >"$SERVICES_DIR/initdb.log" 2>&1 ||
		{ cat "$SERVICES_DIR/initdb.log" >&2; exit 1; }
fi
[ ${#as_pg[@]} -eq 0 ] || chown postgres "$SERVICES_DIR"
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -w -t 60 -l "$PGDATA/server.log" \
	-o "-p $PG_PORT -k $SERVICES_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
	start >/dev/null || { cat "$PGDATA/server.log" >&2; exit 1; }
"$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U renewbot -d postgres -Atqc \
	"SELECT 1 FROM pg_database WHERE datname='renewbot'" | grep -q 1 ||
	"$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U renewbot renewbot

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$SERVICES_DIR" --save "" \
	--appendonly no --daemonize yes --pidfile "$SERVICES_DIR/redis.pid" \
	--logfile "$SERVICES_DIR/redis.log"
for _ in $(seq 1 100); do
	(exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null && break
	sleep 0.1
done

export DATABASE_URL="postgres://renewbot@127.0.0.1:$PG_PORT/renewbot?sslmode=disable"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
log "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT, data in $SERVICES_DIR"
"$@"
