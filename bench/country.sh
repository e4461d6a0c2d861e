#!/usr/bin/env bash
# A country on one laptop (issue 15): `kommunity demo --addresses N --areas
# A` (4,000,000 in 2,200 areas, the size of Denmark) measured end to end.
#
#   bash bench/country.sh [sqlite|reassign|postgres|tiles|all]   (default all)
#
# sqlite:   kommunity import areas, then import addresses, into the
#           embedded store: seconds and peak RSS (GNU time); then the
#           store's lookups on it (go test -bench Lookups ./data/sqlite:
#           nearest address and address search, p50/p99 per query).
# reassign: R (1,000,000) addresses imported before their RA areas, then
#           the area import that assigns them all, on both stores.
# postgres: the same import into PostgreSQL/PostGIS (a durable cluster of
#           its own on 127.0.0.1:PORT), then the lookups on it.
# tiles:    bench/tiles.sh (32 clients, every zoom) on the sqlite database.
#
# Results go to stdout and are appended to $OUT (bench/out/country.txt,
# ignored by git). Needs GNU time; postgres needs PostgreSQL 15 + PostGIS 3
# (scripts/postgres.sh install). On 2 cores a full run takes 10-20 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
N=${N:-4000000}
A=${A:-2200}
R=${R:-1000000}
RA=${RA:-2000}
PORT=${PORT:-55441}
BENCHTIME=${BENCHTIME:-3000x}
OUT=${OUT:-bench/out/country.txt}
KEEP=${KEEP:-} # a directory to keep the generated data and databases in
mkdir -p "$(dirname "$OUT")"
tmp=$(mktemp -d /tmp/kommunity-country.XXXXXX)
work=${KEEP:-$tmp}
mkdir -p "$work"
pg_started=
cleanup() {
	[[ -n $pg_started ]] && bash scripts/postgres.sh stop "$tmp/pg" "$PORT" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
[[ -x /usr/bin/time ]] || { echo "country: /usr/bin/time (Debian package time) is missing" >&2; exit 1; }

log() { echo "$*" | tee -a "$OUT"; }
# measure LABEL COMMAND...: runs it under GNU time, logs seconds and peak RSS.
# It starts with no dirty pages of an earlier step left to write back (sync),
# so one step's writes are not counted in the next.
measure() {
	local label=$1
	shift
	sync
	/usr/bin/time -f "%e %M %U %S" -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
	read -r secs kb user sys <"$tmp/time"
	log "$label: ${secs} s, peak RSS $((kb / 1024)) MB (CPU ${user} s user + ${sys} s sys) — $(tail -1 "$tmp/out")"
}

go build -o "$tmp/kommunity" ./cmd/kommunity
K=$tmp/kommunity
log "# $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

country() {
	if [[ ! -f $work/country/addresses.csv ]]; then
		"$K" demo --seed 1 --addresses "$N" --areas "$A" --out "$work/country" >/dev/null
	fi
}

bench_sqlite() {
	country
	log "## embedded store: $N addresses in $A areas"
	rm -f "$work/country.db"*
	measure "kommunity import areas" "$K" import areas --db "$work/country.db" "$work/country/areas.geojson"
	measure "kommunity import addresses" "$K" import addresses --db "$work/country.db" "$work/country/addresses.csv"
	# Baseline in the same run: GDAL's own load of the same CSV into a
	# GeoPackage (one table, its R-tree; no areas, no other index).
	if command -v ogr2ogr >/dev/null; then
		rm -f "$tmp/baseline.gpkg"
		measure "baseline: ogr2ogr -f GPKG (points and their R-tree only)" ogr2ogr -f GPKG "$tmp/baseline.gpkg" "$work/country/addresses.csv" \
			-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -oo KEEP_GEOM_COLUMNS=NO -a_srs EPSG:4326 -nln addresses -gt unlimited
		rm -f "$tmp/baseline.gpkg"
	fi
	KOMMUNITY_BENCH_DB=$work/country.db KOMMUNITY_BENCH_ADDRESSES=$N KOMMUNITY_BENCH_AREAS=$A \
		go test ./data/sqlite -run '^$' -bench Lookups -benchtime "$BENCHTIME" | grep '^Benchmark' | tee -a "$OUT"
}

start_pg() {
	if [[ -z $pg_started ]]; then
		bash scripts/postgres.sh install
		bash scripts/postgres.sh start "$tmp/pg" "$PORT" --durable >/dev/null
		pg_started=1
	fi
}
pg_db() { # NAME: a new database, its URL on stdout
	psql -X -q "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >&2
	echo "postgres://postgres@127.0.0.1:$PORT/$1?sslmode=disable"
}

bench_reassign() {
	"$K" demo --seed 2 --addresses "$R" --areas "$RA" --out "$tmp/re" >/dev/null
	log "## re-assignment: $R addresses imported before their $RA areas"
	rm -f "$tmp/re.db"*
	"$K" import addresses --db "$tmp/re.db" "$tmp/re/addresses.csv" >/dev/null
	measure "sqlite: kommunity import areas (assigns every address)" "$K" import areas --db "$tmp/re.db" "$tmp/re/areas.geojson"
	start_pg
	local url
	url=$(pg_db re)
	"$K" import addresses --database-url "$url" "$tmp/re/addresses.csv" >/dev/null
	# The baseline starts from the same database: a copy made now.
	local gis="postgres://postgres@127.0.0.1:$PORT/re_gis?sslmode=disable"
	psql -X -q "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" -c "DROP DATABASE IF EXISTS re_gis" -c "CREATE DATABASE re_gis TEMPLATE re"
	# As sync for the file system: the address import's dirty buffers are
	# written now, not evicted during the measured step.
	psql -X -q "$url" -c CHECKPOINT
	measure "postgres: kommunity import areas (assigns every address)" "$K" import areas --database-url "$url" "$tmp/re/areas.geojson"
	local ours=$secs
	# Baseline in the same run: the GIS-native way on the copy, the areas
	# loaded with ogr2ogr and every address given its area by one UPDATE
	# ... ST_Contains into a column of its own (areas has no rows in the copy
	# for area_id to refer to); the UPDATE rewrites each row in every index.
	if command -v ogr2ogr >/dev/null; then
		psql -X -q "$gis" -c CHECKPOINT
		measure "baseline: ogr2ogr areas + UPDATE ... ST_Contains" bash -c '
			ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port='"$PORT"' user=postgres dbname=re_gis" "$1" -nln gis_areas -nlt PROMOTE_TO_MULTI -lco GEOMETRY_NAME=geom &&
			psql -X -q -v ON_ERROR_STOP=1 "$2" -c "ALTER TABLE addresses ADD COLUMN area_code text" \
				-c "UPDATE addresses a SET area_code = g.code FROM gis_areas g WHERE ST_Contains(g.geom, a.geom)" &&
			echo done' _ "$tmp/re/areas.geojson" "$gis"
		log "postgres re-assignment speed-up: $(echo "$secs / $ours" | bc -l | xargs printf '%.1f')x"
	fi
}

bench_postgres() {
	country
	start_pg
	log "## PostgreSQL/PostGIS: $N addresses in $A areas"
	local url
	url=$(pg_db country)
	measure "kommunity import areas" "$K" import areas --database-url "$url" "$work/country/areas.geojson"
	measure "kommunity import addresses" "$K" import addresses --database-url "$url" "$work/country/addresses.csv"
	KOMMUNITY_BENCH_DATABASE_URL=$url KOMMUNITY_BENCH_ADDRESSES=$N KOMMUNITY_BENCH_AREAS=$A \
		go test ./data/postgres -run '^$' -bench Lookups -benchtime "$BENCHTIME" | grep '^Benchmark' | tee -a "$OUT"
}

bench_tiles() {
	country
	[[ -f $work/country.db ]] || bench_sqlite
	log "## tiles: bench/tiles.sh on the embedded store of $N addresses"
	DB=$work/country.db DATA=$work/country N=$N bash bench/tiles.sh 2>/dev/null | tee -a "$OUT"
}

case $what in
sqlite) bench_sqlite ;;
reassign) bench_reassign ;;
postgres) bench_postgres ;;
tiles) bench_tiles ;;
all)
	bench_sqlite
	bench_reassign
	bench_postgres
	bench_tiles
	;;
*)
	echo "usage: bench/country.sh [sqlite|reassign|postgres|tiles|all]" >&2
	exit 2
	;;
esac
