#!/usr/bin/env bash
# Area progress (GET /api/areas/{code}, served from the area's counters)
# against a trivial handler (GET /livez) on the same server, side by side,
# with the same load generator: once with the default one-second progress
# copy in memory, once with it off (--progress-ttl 0), so every request
# reads the counters from the store. Prints all three and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=${PORT:-18181}
go build -o "$work/kommunity" ./cmd/kommunity
go build -o "$work/httpload" ./bench/httpload
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$work/kommunity" serve --demo --db "$work/k.db" --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/livez" >/dev/null && break; sleep 0.2; done
"$work/kommunity" serve --db "$work/k.db" --progress-ttl 0 --addr "127.0.0.1:$((port + 1))" >"$work/serve2.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$((port + 1))/livez" >/dev/null && break; sleep 0.2; done
C=${C:-8}; D=${D:-10s}
"$work/httpload" -url "http://127.0.0.1:$port/livez" -c "$C" -d 2s >/dev/null # warm up
trivial=$("$work/httpload" -url "http://127.0.0.1:$port/livez" -c "$C" -d "$D")
cached=$("$work/httpload" -url "http://127.0.0.1:$port/api/areas/D001" -c "$C" -d "$D")
trivial2=$("$work/httpload" -url "http://127.0.0.1:$((port + 1))/livez" -c "$C" -d "$D")
store=$("$work/httpload" -url "http://127.0.0.1:$((port + 1))/api/areas/D001" -c "$C" -d "$D")
echo "trivial          $trivial"
echo "area (1 s copy)  $cached"
echo "trivial          $trivial2"
echo "area (store)     $store"
python3 - "$trivial" "$cached" "$trivial2" "$store" <<'PY'
import json, sys
t, c, t2, s = (json.loads(x) for x in sys.argv[1:])
print("area/trivial with the 1 s copy = %.2f (p99 %.2f ms); every request from the store = %.2f (p99 %.2f ms)"
      % (c["rps"] / t["rps"], c["p99_ms"], s["rps"] / t2["rps"], s["p99_ms"]))
PY
