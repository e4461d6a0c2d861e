-- The OGC API's box queries on addresses use the R-tree of 0006_tiles.sql
-- (and the collection's extent its root), so the B-tree on lon, lat only
-- cost imports: building it was 2-3 s of a 4M-address first load.
DROP INDEX IF EXISTS addresses_lon_lat;
