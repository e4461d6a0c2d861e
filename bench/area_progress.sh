#!/usr/bin/env bash
# Area progress (GET /api/areas/{code}, served from the area's counters)
# against a trivial handler (GET /livez) on the same server, side by side,
# with the same load generator. Prints both and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=${PORT:-18181}
go build -o "$work/kommunity" ./cmd/kommunity
go build -o "$work/httpload" ./bench/httpload
"$work/kommunity" serve --demo --db "$work/k.db" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.2; done
C=${C:-8}; D=${D:-10s}
"$work/httpload" -url "http://127.0.0.1:$port/livez" -c "$C" -d 2s >/dev/null # warm up
trivial=$("$work/httpload" -url "http://127.0.0.1:$port/livez" -c "$C" -d "$D")
area=$("$work/httpload" -url "http://127.0.0.1:$port/api/areas/D001" -c "$C" -d "$D")
echo "trivial $trivial"
echo "area    $area"
python3 -c "import json,sys; t=json.loads(sys.argv[1]); a=json.loads(sys.argv[2]); print('area/trivial throughput ratio = %.2f; area p99 = %.2f ms' % (a['rps']/t['rps'], a['p99_ms']))" "$trivial" "$area"
