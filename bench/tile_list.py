"""Prints the tiles z/x/y that cover the areas of a GeoJSON file at zoom Z,
at most 256, spread evenly: the sweep of one zoom in the tile benchmarks.

    python3 bench/tile_list.py areas.geojson Z
"""
import json
import math
import sys

path, z = sys.argv[1], int(sys.argv[2])
xs, ys = [], []


def walk(c):
    if isinstance(c[0], (int, float)):
        xs.append(c[0])
        ys.append(c[1])
    else:
        for d in c:
            walk(d)


for f in json.load(open(path))["features"]:
    walk(f["geometry"]["coordinates"])


def tile(lon, lat):
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


x0, y0 = tile(min(xs), max(ys))
x1, y1 = tile(max(xs), min(ys))
tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
for x, y in tiles[:: max(1, len(tiles) // 256)][:256]:
    print("%d/%d/%d" % (z, x, y))
