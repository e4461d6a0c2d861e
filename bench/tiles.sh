#!/usr/bin/env bash
# Vector tiles (GET /tiles/{layer}/{z}/{x}/{y}.mvt) at every zoom, 32
# concurrent clients on loopback, against a generated municipality of N
# addresses (default 1M) in the embedded store. Each zoom's run sweeps the
# tiles that cover the areas (at most 256 of them, spread evenly) with
# bench/httpload. Two servers over one database: the default one-second
# copy of tiles in memory (--progress-ttl 1s), and no copy (--progress-ttl
# 0), where every request renders from the store. Baselines in the same
# run: GET /healthz (a store ping) and the old layer, GET
# /api/areas.geojson. Prints p50/p99 and ratios. Bounded: D per run
# (default 2s), about 3 minutes in all plus the import.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
AREAS=${AREAS:-2000}
C=${C:-32}
D=${D:-2s}
port=${PORT:-18281}
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
go build -o "$work/kommunity" ./cmd/kommunity
go build -o "$work/httpload" ./bench/httpload
# DB and DATA: a database already holding `kommunity demo --out DATA`'s
# country (bench/country.sh passes its own), instead of a new import.
if [[ -n ${DB:-} ]]; then
	ln -s "$(realpath "$DB")" "$work/k.db"
	ln -s "$(realpath "$DATA")" "$work/data"
else
	"$work/kommunity" demo --addresses "$N" --areas "$AREAS" --out "$work/data" >&2
	"$work/kommunity" import areas --db "$work/k.db" "$work/data/areas.geojson" >&2
	"$work/kommunity" import addresses --db "$work/k.db" "$work/data/addresses.csv" >&2
fi

start() { # port ttl
	"$work/kommunity" serve --db "$work/k.db" --addr "127.0.0.1:$1" --progress-ttl "$2" --tile-url "" --lapse-interval 0 >"$work/serve-$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/livez" >/dev/null && break; sleep 0.2; done
}
start "$port" 1s
start "$((port + 1))" 0

# Tile lists per zoom, from the areas' bound.
for z in $(seq 0 16); do
	python3 bench/tile_list.py "$work/data/areas.geojson" "$z" >"$work/tiles-$z"
	for layer in areas addresses; do
		[ "$layer" = addresses ] && [ "$z" -lt 13 ] && continue
		sed "s|^|http://127.0.0.1:$port/tiles/$layer/|; s|\$|.mvt|" "$work/tiles-$z" >"$work/urls-$layer-cached-$z"
		sed "s|^|http://127.0.0.1:$((port + 1))/tiles/$layer/|; s|\$|.mvt|" "$work/tiles-$z" >"$work/urls-$layer-store-$z"
	done
	echo "$z $(wc -l <"$work/tiles-$z")" >&2
done

run() { "$work/httpload" -c "$C" -d "$D" "$@"; }
run -url "http://127.0.0.1:$port/healthz" -d 1s >/dev/null # warm up
{
	echo "healthz $(run -url "http://127.0.0.1:$port/healthz")"
	for z in $(seq 0 16); do
		for name in cached store; do
			echo "areas-$name-$z $(run -urls "$work/urls-areas-$name-$z")"
			[ -f "$work/urls-addresses-$name-$z" ] && echo "addresses-$name-$z $(run -urls "$work/urls-addresses-$name-$z")"
		done
	done
	# Last: at millions of addresses a GeoJSON layer outlasts the load
	# tool's 10 s timeout, and the server goes on rendering the abandoned
	# requests, which would slow whatever ran next.
	echo "geojson $(run -url "http://127.0.0.1:$port/api/areas.geojson" -n 200)"
} | tee "$work/results" >&2
python3 - "$work/results" "$N" "$C" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    k, v = line.split(" ", 1); rows[k] = json.loads(v)
h, g = rows["healthz"], rows["geojson"]
print("N=%s, %s clients. /healthz: %.0f req/s, p99 %.2f ms. /api/areas.geojson: %.1f req/s, p50 %.0f ms, p99 %.0f ms"
      % (sys.argv[2], sys.argv[3], h["rps"], h["p99_ms"], g["rps"], g["p50_ms"], g["p99_ms"]))
print("| tiles | zoom | cached req/s | p50 ms | p99 ms | /healthz ratio | store req/s | p50 ms | p99 ms | /healthz ratio | store / geojson p99 |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for layer in ("areas", "addresses"):
    for z in range(17):
        c, s = rows.get("%s-cached-%d" % (layer, z)), rows.get("%s-store-%d" % (layer, z))
        if not c: continue
        bad = lambda r: "" if not r["errors"] and all(int(k) < 400 for k in r["Status"]) else " (errors %s %s)" % (r["errors"], r["Status"])
        print("| %s | %d | %.0f | %.2f | %.2f | %.2f | %.0f | %.2f | %.2f | %.2f | %.3f |%s%s" % (layer, z,
              c["rps"], c["p50_ms"], c["p99_ms"], c["rps"] / h["rps"], s["rps"], s["p50_ms"], s["p99_ms"], s["rps"] / h["rps"],
              s["p99_ms"] / g["p99_ms"], bad(c), bad(s)))
PY
