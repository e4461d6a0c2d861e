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

-- Bounding boxes of the areas (same id), for the same reason: the bounds
-- columns of areas lie after the geometry in each row, so a filter on
-- them reads every polygon's overflow pages. Areas change rarely, so
-- triggers keep it.
CREATE VIRTUAL TABLE areas_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat);
INSERT INTO areas_rtree (id, min_lon, max_lon, min_lat, max_lat) SELECT id, min_lon, max_lon, min_lat, max_lat FROM areas;
CREATE TRIGGER areas_rtree_insert AFTER INSERT ON areas BEGIN
	INSERT INTO areas_rtree (id, min_lon, max_lon, min_lat, max_lat) VALUES (new.id, new.min_lon, new.max_lon, new.min_lat, new.max_lat);
END;
CREATE TRIGGER areas_rtree_update AFTER UPDATE OF min_lon, max_lon, min_lat, max_lat ON areas BEGIN
	UPDATE areas_rtree SET min_lon = new.min_lon, max_lon = new.max_lon, min_lat = new.min_lat, max_lat = new.max_lat WHERE id = new.id;
END;
CREATE TRIGGER areas_rtree_delete AFTER DELETE ON areas BEGIN
	DELETE FROM areas_rtree WHERE id = old.id;
END;
