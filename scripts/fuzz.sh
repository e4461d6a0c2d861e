#!/usr/bin/env bash
# Fuzzes every Fuzz* target in the module, one after another, for SECONDS
# each (default 60), with -parallel 1: the machine is shared. Targets are
# found with `go test -list` per package, so a new one is picked up without
# editing this file. A failing input is written by go test to the
# package's testdata/fuzz/TARGET/ and the script exits non-zero at the end.
#
#   bash scripts/fuzz.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

failed=()
ran=0
for pkg in $(go list ./...); do
	targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for target in $targets; do
		ran=$((ran + 1))
		printf '== %s %s (%ss)\n' "$pkg" "$target" "$seconds" >&2
		# Minimising each new input may take 60 s by default, during which
		# nothing is fuzzed: in a one-minute run that was most of the minute.
		if ! go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${seconds}s" -fuzzminimizetime 5s -parallel 1; then
			failed+=("$pkg $target")
		fi
	done
done

if [ "$ran" -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
printf '== %d fuzz targets, %ss each: no failures\n' "$ran" "$seconds" >&2
