#!/usr/bin/env bash
# PostgreSQL 15 + PostGIS 3 for tests and benchmarks: install from Debian,
# and run a private cluster on 127.0.0.1 whose files all live under DIR.
#
#   bash scripts/postgres.sh install
#       apt-get installs postgresql-15 and postgresql-15-postgis-3 (quick
#       when already installed). Exits 1 with a message without root/apt.
#   bash scripts/postgres.sh start DIR PORT [--durable]
#       creates the cluster in DIR/data on first use (initdb, trust auth,
#       listening on 127.0.0.1:PORT only, socket in DIR), starts it, waits
#       until it accepts connections and prints the admin URL on stdout:
#       postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#       Tests run with fsync off; --durable keeps fsync and synchronous
#       commit on (benchmarks). Starting a running cluster just prints the URL.
#   bash scripts/postgres.sh stop DIR PORT
#       stops the cluster (fast shutdown); a no-op when it is not running.
#
# The default Debian cluster is never touched: its service does not start on
# these machines, and tests must not depend on machine state.
set -euo pipefail

PGVER=15
PGBIN=/usr/lib/postgresql/$PGVER/bin

die() {
	echo "postgres.sh: $*" >&2
	exit 1
}

installed() {
	[[ -x $PGBIN/postgres && -x $PGBIN/initdb && -f /usr/share/postgresql/$PGVER/extension/postgis.control ]]
}

cmd_install() {
	if installed; then
		return 0
	fi
	[[ $(id -u) -eq 0 ]] || die "PostgreSQL $PGVER with PostGIS 3 is not installed and installing needs root (apt-get install postgresql-$PGVER postgresql-$PGVER-postgis-3)"
	command -v apt-get >/dev/null || die "PostgreSQL $PGVER with PostGIS 3 is not installed and apt-get is not available"
	echo "postgres.sh: installing postgresql-$PGVER postgresql-$PGVER-postgis-3" >&2
	# Quiet on stdout: callers capture it.
	{
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				postgresql-$PGVER postgresql-$PGVER-postgis-3
	} >&2 || die "apt-get install failed"
	installed || die "installed, but $PGBIN/postgres or the postgis extension is missing"
}

# as_owner runs a command as the cluster's owner: postgres when we are root
# (the server refuses to run as root), else ourselves.
as_owner() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# make_traversable lets the postgres user reach DIR: temporary directories
# (mktemp -d, t.TempDir) are 0700 root. Only the search (x) bit is added.
make_traversable() {
	local d
	d=$(dirname "$1")
	while [[ $d != / ]]; do
		if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
			chmod a+x "$d"
		fi
		d=$(dirname "$d")
	done
}

url() {
	echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"
}

cmd_start() {
	local dir=$1 port=$2 durable=${3:-}
	installed || die "PostgreSQL $PGVER with PostGIS 3 is not installed: run 'bash scripts/postgres.sh install' (as root)"
	[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$port'"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "user postgres does not exist"
		chown postgres: "$dir"
		make_traversable "$dir"
	fi
	local data=$dir/data
	if [[ ! -f $data/PG_VERSION ]]; then
		as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			die "initdb failed; see $dir/initdb.log"
		# Loopback only; sockets in DIR so clusters never collide. Room
		# for bench/pg_bench.sh's pgbench with 256 clients.
		cat >>"$data/postgresql.conf" <<-EOF
			# scripts/postgres.sh
			listen_addresses = '127.0.0.1'
			port = $port
			unix_socket_directories = '$dir'
			max_connections = 300
			shared_buffers = 256MB
			maintenance_work_mem = 256MB
			work_mem = 16MB
			max_wal_size = 4GB
			checkpoint_timeout = 15min
			log_min_messages = warning
		EOF
		if [[ $durable == --durable ]]; then
			echo "# durable: fsync and synchronous commit stay on" >>"$data/postgresql.conf"
		else
			# Tests need no crash safety, and fsync dominates their run time.
			printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" >>"$data/postgresql.conf"
		fi
	fi
	if ! as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null ||
			die "the server did not start; see $dir/server.log"
	fi
	# pg_ctl -w waits for the socket; wait for TCP too, bounded.
	local i
	for i in $(seq 1 100); do
		if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
			url "$port"
			return 0
		fi
		sleep 0.1
	done
	die "the server in $dir does not answer on 127.0.0.1:$port; see $dir/server.log"
}

cmd_stop() {
	local dir=$1
	local data=$dir/data
	[[ -f $data/PG_VERSION ]] || return 0
	if as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	fi
}

case ${1:-} in
install)
	cmd_install
	;;
start)
	[[ $# -ge 3 ]] || die "usage: postgres.sh start DIR PORT [--durable]"
	cmd_start "$2" "$3" "${4:-}"
	;;
stop)
	[[ $# -ge 2 ]] || die "usage: postgres.sh stop DIR [PORT]"
	cmd_stop "$2"
	;;
*)
	die "usage: postgres.sh install | start DIR PORT [--durable] | stop DIR PORT"
	;;
esac
