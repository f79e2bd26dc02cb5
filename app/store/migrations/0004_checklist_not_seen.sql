-- Device store schema v4: a checklist's "Not seen" is a value ('not_seen'); before, a blank checklist cell meant it.
-- Policy (docs/device-store.md): additive only. The rule is sync.protocol.legacy_checklists, the one the server's
-- migration 0007 applies: every visit with an answered cell gets 'not_seen' for each checklist look-for shown for
-- its subject and grade that has no answered cell, stamped with the time of its latest answered cell.
-- lw_legacy_not_seen (app/store/db.py) gives those look-fors as a JSON list, from the walk's rubric version (built
-- in, or the YAML the server sent); a rubric this device does not know gives none.
CREATE TEMP TABLE lw_not_seen AS
SELECT v.id AS visit_id, v.walk_id AS walk_id, j.value AS lookfor_id,
       (SELECT max(r.updated_at) FROM rating r
        WHERE r.visit_id = v.id AND r.deleted = 0 AND (r.not_observed = 1 OR coalesce(r.value, '') != '')) AS at
FROM visit v
JOIN walk w ON w.id = v.walk_id
JOIN json_each(lw_legacy_not_seen(
         w.rubric_id || '@' || w.rubric_version,
         (SELECT d.yaml_text FROM rubric_doc d WHERE d.key = w.rubric_id || '@' || w.rubric_version),
         v.subject, v.grade,
         (SELECT json_group_array(json_array(r.lookfor_id, r.value, r.not_observed, r.deleted, r.updated_at))
          FROM rating r WHERE r.visit_id = v.id))) j;
INSERT INTO rating (id, visit_id, lookfor_id, value, not_observed, updated_at, deleted)
SELECT lw_rating_id(visit_id, lookfor_id), visit_id, lookfor_id, 'not_seen', 0, at, 0 FROM lw_not_seen WHERE 1
ON CONFLICT (id) DO UPDATE SET value = excluded.value, not_observed = 0, updated_at = excluded.updated_at,
                               deleted = 0;
-- a visit with a change still waiting for sync (itself or one of its cells, pending or refused) may not be on the
-- server as the device holds it, so the server's migration cannot have derived its cells: they are queued as
-- changes. A visit with nothing waiting is on the server as it is here, where migration 0007 wrote the same cells.
INSERT INTO outbox (kind, record_id, walk_id, data, created_at)
SELECT 'rating', lw_rating_id(n.visit_id, n.lookfor_id), n.walk_id,
       json_object('id', lw_rating_id(n.visit_id, n.lookfor_id), 'visit_id', n.visit_id, 'lookfor_id', n.lookfor_id,
                   'value', 'not_seen', 'not_observed', json('false'),
                   'updated_at', replace(n.at, ' ', 'T') || 'Z', 'deleted', json('false')),
       strftime('%Y-%m-%d %H:%M:%f', 'now') || '000'
FROM lw_not_seen n
WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = n.visit_id)
   OR EXISTS (SELECT 1 FROM outbox o JOIN rating r ON o.kind = 'rating' AND o.record_id = r.id
              WHERE r.visit_id = n.visit_id)
ORDER BY n.visit_id, n.lookfor_id;
DROP TABLE lw_not_seen;
