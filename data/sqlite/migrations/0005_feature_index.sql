-- Bounding-box queries of the OGC API – Features layer. Addresses: a range
-- on lon, lat checked in the index without reading the row (the schema has
-- no R-tree for addresses; a B-tree on the columns costs imports less).
-- Areas: their bounds in one covering index, so a box query does not read
-- the geometry blobs that the rows carry.
CREATE INDEX addresses_lon_lat ON addresses(lon, lat);
CREATE INDEX areas_bounds ON areas(code, min_lon, max_lon, min_lat, max_lat);
