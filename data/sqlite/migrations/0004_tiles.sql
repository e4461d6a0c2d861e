-- Bounding boxes of the addresses (rowid = addresses.seq), for the map's
-- vector tiles: a tile reads its few hundred points through the R-tree
-- instead of a scan. New rows are added by the address import at commit,
-- in one pass (a trigger per inserted row would slow a first import of
-- millions); moved ones follow by trigger. Addresses are never deleted.
CREATE VIRTUAL TABLE addresses_rtree USING rtree(seq, min_lon, max_lon, min_lat, max_lat);
INSERT INTO addresses_rtree (seq, min_lon, max_lon, min_lat, max_lat) SELECT seq, lon, lon, lat, lat FROM addresses;
CREATE TRIGGER addresses_rtree_move AFTER UPDATE OF lon, lat ON addresses BEGIN
	UPDATE addresses_rtree SET min_lon = new.lon, max_lon = new.lon, min_lat = new.lat, max_lat = new.lat WHERE seq = new.seq;
END;
