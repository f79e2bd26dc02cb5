-- Device store schema v2: cycles and their priorities as records; old free-text cycle labels become cycles.
-- Policy (docs/device-store.md): additive only. A walk keeps its cycle_label (the cycle's name); cycle_id is new.
CREATE TABLE cycle (
	id VARCHAR(36) NOT NULL, 
	school_id VARCHAR(64) NOT NULL, 
	name VARCHAR(120) NOT NULL, 
	start_date DATE NOT NULL, 
	rubric_id VARCHAR(64) NOT NULL, 
	rubric_version INTEGER NOT NULL, 
	priorities JSON NOT NULL, 
	created_by VARCHAR(64) NOT NULL, 
	migrated BOOLEAN NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_cycle_school_id ON cycle (school_id);
ALTER TABLE walk ADD COLUMN cycle_id VARCHAR(36);
-- every walk with a label names the cycle of (its school, its label with spaces collapsed and case folded): the id
-- is lw_legacy_cycle_id (sync.protocol.legacy_cycle_id), the same one the server's migration 0005 derives
UPDATE walk SET cycle_id = lw_legacy_cycle_id(school_id, cycle_label) WHERE trim(cycle_label) != '';
-- one cycle per id, from its first walk (live before deleted; baseline, six-week, end of cycle, other; then date):
-- its label as the name, the earliest walk date as the start, its rubric, one priority per focus look-for and no
-- target (a lead sets targets on the cycle later)
INSERT INTO cycle (id, school_id, name, start_date, rubric_id, rubric_version, priorities, created_by, migrated,
                   updated_at, deleted)
SELECT w.cycle_id, w.school_id, trim(w.cycle_label),
       (SELECT min(x.walk_date) FROM walk x WHERE x.cycle_id = w.cycle_id),
       w.rubric_id, w.rubric_version,
       (SELECT json_group_array(json_object('lookfors', json_array(f.value), 'target', NULL))
        FROM json_each(w.focus) f),
       w.created_by, 1, strftime('%Y-%m-%d %H:%M:%f', 'now') || '000', 0
FROM walk w
WHERE w.id = (SELECT y.id FROM walk y WHERE y.cycle_id = w.cycle_id
              ORDER BY y.deleted, CASE y.phase WHEN 'baseline' THEN 0 WHEN 'six-week' THEN 1
                                               WHEN 'end-of-cycle' THEN 2 ELSE 3 END, y.walk_date, y.id
              LIMIT 1);
-- a walk change still waiting for sync carries its cycle
UPDATE outbox SET data = json_set(data, '$.cycle_id', (SELECT w.cycle_id FROM walk w WHERE w.id = outbox.record_id))
WHERE kind = 'walk';
-- each migrated cycle queued for sync like any new record (the server answers "duplicate" for one it migrated too)
INSERT INTO outbox (kind, record_id, walk_id, data, created_at)
SELECT 'cycle', c.id, c.id,
       json_object('id', c.id, 'school_id', c.school_id, 'name', c.name, 'start_date', c.start_date,
                   'rubric_id', c.rubric_id, 'rubric_version', c.rubric_version, 'priorities', json(c.priorities),
                   'created_by', c.created_by, 'migrated', json('true'),
                   'updated_at', strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z', 'deleted', json('false')),
       strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
FROM cycle c ORDER BY c.id;
