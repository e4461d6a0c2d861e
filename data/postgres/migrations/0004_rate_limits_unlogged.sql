-- Rate-limit hits are written on every pledge attempt and are worth nothing
-- after a crash (a lost hit only lets a client try once more), so they skip
-- the WAL: an unlogged table's writes cost no log record and no flush at
-- commit. The table is emptied by crash recovery and is not copied to
-- standbys; a promoted standby starts counting afresh.
ALTER TABLE rate_limits SET UNLOGGED;
