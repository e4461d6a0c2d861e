-- A revision per area geometry, moved by every change of it: the store
-- keeps each public area's polygon simplified per zoom in memory for the
-- map's tiles, and a tile's query reads the revision (not the polygon) to
-- know that its copy is current, even after another process re-imported.
ALTER TABLE areas ADD COLUMN geometry_rev INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER areas_geometry_rev AFTER UPDATE OF geometry ON areas BEGIN
	UPDATE areas SET geometry_rev = old.geometry_rev + 1 WHERE id = new.id;
END;
