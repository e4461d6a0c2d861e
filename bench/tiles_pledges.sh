#!/usr/bin/env bash
# Vector tiles while residents pledge: 32 clients sweep the tiles of one
# zoom (areas at 5, 7 and 10, addresses at 13; at most 256 tiles each, as
# bench/tiles.sh) against one `kommunity serve --progress-ttl 1s`, first at
# rest (the baseline, same run) and then while POST /api/pledges arrives
# RATE times a second (default 2) at addresses spread over the country.
# Prints p50/p99 per sweep and the ratio of the p99s.
#
#   DB=country.db DATA=country bash bench/tiles_pledges.sh
#
# DB: an embedded store holding `kommunity demo --out DATA`'s country
# (bench/country.sh with KEEP=dir leaves both). It is copied first, so the
# pledges do not stay in it. D: seconds per sweep (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DB:?DB=path of a store with the demo country}" "${DATA:?DATA=its demo directory}"
RATE=${RATE:-2}
D=${D:-8}
C=${C:-32}
work=$(mktemp -d /tmp/kommunity-tiles-pledges.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/kommunity" ./cmd/kommunity
go build -o "$work/httpload" ./bench/httpload
cp "$DB" "$work/k.db"
port=${PORT:-18180}
"$work/kommunity" serve --db "$work/k.db" --addr "127.0.0.1:$port" --progress-ttl 1s --tile-url "" --lapse-interval 0 \
	--pledge-rate-limit 1000000 >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.2; done

for s in areas-5 areas-7 areas-10 addresses-13; do
	python3 bench/tile_list.py "$DATA/areas.geojson" "${s#*-}" |
		sed "s|^|http://127.0.0.1:$port/tiles/${s%-*}/|; s|\$|.mvt|" >"$work/urls-$s"
done
# Every 997th address: a pledge each, none twice.
awk -F, 'NR > 1 && NR % 997 == 0 {print $1}' "$DATA/addresses.csv" >"$work/ids"

sweeps=(areas-5 areas-7 areas-10 addresses-13)
sweep() { "$work/httpload" -c "$C" -d "${D}s" -urls "$work/urls-$1"; }
for s in "${sweeps[@]}"; do "$work/httpload" -c "$C" -d 3s -urls "$work/urls-$s" >/dev/null; done # warm
for s in "${sweeps[@]}"; do echo "rest $s $(sweep "$s")"; done >"$work/results"
(
	i=0
	while read -r id; do
		i=$((i + 1))
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
			-d "{\"address_id\":\"$id\",\"unit\":1,\"name\":\"Bench\",\"email\":\"bench$i@example.dk\",\"consent\":true}" \
			"http://127.0.0.1:$port/api/pledges"
		sleep "$(echo "1 / $RATE" | bc -l)"
	done <"$work/ids" >"$work/pledges"
) &
pids+=($!)
for s in "${sweeps[@]}"; do echo "pledges $s $(sweep "$s")"; done >>"$work/results"
kill "${pids[-1]}" 2>/dev/null || true
python3 - "$work/results" "$work/pledges" "$RATE" "$C" <<'PY'
import collections, json, sys
rows = {}
for line in open(sys.argv[1]):
    mode, sweep, v = line.split(" ", 2); rows[mode, sweep] = json.loads(v)
codes = collections.Counter(l.strip() for l in open(sys.argv[2]) if l.strip())
print("%s clients; pledges about %s/s, answered %s" % (sys.argv[4], sys.argv[3], dict(codes)))
print("| tiles | at rest p50 / p99 ms | while pledging p50 / p99 ms | p99 ratio |")
print("|---|---|---|---|")
for (mode, sweep), r in rows.items():
    if mode != "rest": continue
    p = rows["pledges", sweep]
    print("| %s | %.2f / %.2f | %.2f / %.2f | %.2f |" % (sweep, r["p50_ms"], r["p99_ms"], p["p50_ms"], p["p99_ms"], p["p99_ms"] / r["p99_ms"]))
PY
