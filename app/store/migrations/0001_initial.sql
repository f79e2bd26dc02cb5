-- Device store schema v1 (generated once from app/store/models.py; later changes get a new numbered file).
CREATE TABLE evidence_note (
	id VARCHAR(36) NOT NULL, 
	visit_id VARCHAR(36) NOT NULL, 
	lookfor_id VARCHAR(80), 
	text VARCHAR NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_evidence_note_visit_id ON evidence_note (visit_id);
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value VARCHAR NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE outbox (
	seq INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	kind VARCHAR(10) NOT NULL, 
	record_id VARCHAR(80) NOT NULL, 
	walk_id VARCHAR(36) NOT NULL, 
	data JSON NOT NULL, 
	created_at DATETIME NOT NULL, 
	rejected_reason VARCHAR, 
	rejected_at DATETIME
);
CREATE INDEX ix_outbox_walk_id ON outbox (walk_id);
CREATE TABLE rating (
	id VARCHAR(36) NOT NULL, 
	visit_id VARCHAR(36) NOT NULL, 
	lookfor_id VARCHAR(80) NOT NULL, 
	value VARCHAR(40), 
	not_observed BOOLEAN NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (visit_id, lookfor_id)
);
CREATE INDEX ix_rating_visit_id ON rating (visit_id);
CREATE TABLE rubric_doc (
	"key" VARCHAR(120) NOT NULL, 
	yaml_text VARCHAR NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE school (
	id VARCHAR(64) NOT NULL, 
	name VARCHAR NOT NULL, 
	district_id VARCHAR NOT NULL, 
	PRIMARY KEY (id)
);
CREATE TABLE visit (
	id VARCHAR(36) NOT NULL, 
	walk_id VARCHAR(36) NOT NULL, 
	visit_no INTEGER NOT NULL, 
	observer_id VARCHAR(64) NOT NULL, 
	grade VARCHAR(4), 
	subject VARCHAR(40), 
	class_type VARCHAR(40), 
	student_count INTEGER, 
	calibration_code VARCHAR(40), 
	note VARCHAR NOT NULL, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (walk_id, visit_no, observer_id)
);
CREATE INDEX ix_visit_walk_id ON visit (walk_id);
CREATE TABLE walk (
	id VARCHAR(36) NOT NULL, 
	school_id VARCHAR(64) NOT NULL, 
	walk_date DATE NOT NULL, 
	rubric_id VARCHAR(64) NOT NULL, 
	rubric_version INTEGER NOT NULL, 
	focus JSON NOT NULL, 
	team JSON NOT NULL, 
	cycle_label VARCHAR(120) NOT NULL, 
	phase VARCHAR(20) NOT NULL, 
	created_by VARCHAR(64) NOT NULL, 
	updated_at DATETIME NOT NULL, 
	deleted BOOLEAN NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_walk_school_id ON walk (school_id);
