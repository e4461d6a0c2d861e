#!/usr/bin/env bash
# Runs every test against real components: go vet, then go test -race over
# all packages. What the tests need (PostgreSQL 15 + PostGIS 3, chromium,
# poppler-utils, gdal-bin) is installed with apt-get when we are root, and a
# throw-away PostgreSQL cluster is started on 127.0.0.1 and stopped at exit.
#
# Without root or apt the tests that need those components skip with a
# message; with CI=true they must run, so a failed install fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '== %s\n' "$*" >&2; }
ci() { [ "${CI:-}" = "true" ]; }

PACKAGES=(postgresql-15 postgresql-15-postgis-3 chromium fonts-liberation poppler-utils gdal-bin)

install_packages() {
	local missing=()
	for p in "${PACKAGES[@]}"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		log "not root or no apt-get: cannot install ${missing[*]}; tests that need them will skip"
		return 1
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

if ! install_packages; then
	ci && { log "CI=true: the test dependencies must be installable"; exit 1; }
fi

tmp=$(mktemp -d)
# The first free port from 55432, so a cluster already running there (a
# developer's, another checkout's) does not stop the tests.
free_port() {
	local p
	for p in $(seq 55432 55531); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo 55432
}
pg_port=${KOMMUNITY_TEST_PG_PORT:-$(free_port)}
cleanup() {
	if [ -n "${TEST_DATABASE_URL:-}" ] && [ -f scripts/postgres.sh ]; then
		bash scripts/postgres.sh stop "$tmp/pg" "$pg_port" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -z "${TEST_DATABASE_URL:-}" ] && [ -f scripts/postgres.sh ]; then
	if url=$(bash scripts/postgres.sh start "$tmp/pg" "$pg_port"); then
		export TEST_DATABASE_URL="$url"
		log "PostgreSQL test cluster at 127.0.0.1:$pg_port"
	elif ci; then
		log "CI=true: could not start PostgreSQL"
		exit 1
	else
		log "could not start PostgreSQL; its tests will skip"
	fi
fi

log "go vet"
go vet ./...
log "go test -race"
go test -race -count=1 -timeout 20m ./...
