#!/usr/bin/env bash
# Import of N generated addresses (default 1M) into the embedded store, end
# to end (areas, then addresses with assignment), against ogr2ogr loading the
# same CSV into a GeoPackage (no assignment). Prints seconds, peak RSS and the
# ratio. Needs gdal-bin (ogr2ogr) and GNU time; installs them as root.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
AREAS=${AREAS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v ogr2ogr >/dev/null || [ ! -x /usr/bin/time ]; then
	apt-get update -q >/dev/null && apt-get install -y -q gdal-bin time >/dev/null
fi
go build -o "$work/kommunity" ./cmd/kommunity
"$work/kommunity" demo --addresses "$N" --areas "$AREAS" --out "$work/data" >&2

measure() { # label command... ; prints "label seconds rss_mb"
	local label=$1; shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; exit 1; }
	read -r secs kb <"$work/time"
	printf '%s %s %d\n' "$label" "$secs" $((kb / 1024))
}

{
	measure kommunity-areas "$work/kommunity" import areas --db "$work/k.db" "$work/data/areas.geojson"
	measure kommunity-addresses "$work/kommunity" import addresses --db "$work/k.db" "$work/data/addresses.csv"
	measure kommunity-reimport "$work/kommunity" import addresses --db "$work/k.db" "$work/data/addresses.csv"
	measure ogr2ogr-gpkg ogr2ogr -f GPKG "$work/o.gpkg" "$work/data/addresses.csv" \
		-oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -nln addresses
} | tee "$work/results"
awk '
	$1 == "kommunity-areas" { a = $2 }
	$1 == "kommunity-addresses" { k = $2; rss = $3 }
	$1 == "ogr2ogr-gpkg" { o = $2 }
	END { printf "N='"$N"': kommunity areas+addresses %.1f s (addresses alone %.1f s, peak %d MB); ogr2ogr %.1f s; ogr2ogr / kommunity = %.2f\n", a + k, k, rss, o, o / (a + k) }
' "$work/results"
