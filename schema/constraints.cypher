// neotrack graph schema: applied by the toolkit on every connect (idempotent).
// Generated from toolkit/neotrack/store/_schema.py; tests/test_schema.py checks they agree.
CREATE CONSTRAINT dataset_name IF NOT EXISTS FOR (d:Dataset) REQUIRE d.name IS UNIQUE;
CREATE CONSTRAINT segment_key IF NOT EXISTS FOR (s:Segment) REQUIRE (s.dataset, s.id) IS UNIQUE;
CREATE INDEX segment_time IF NOT EXISTS FOR (s:Segment) ON (s.dataset, s.t);
CREATE CONSTRAINT store_key IF NOT EXISTS FOR (m:NeotrackStore) REQUIRE m.key IS UNIQUE;
CREATE INDEX segment_track IF NOT EXISTS FOR (s:Segment) ON (s.dataset, s.track_id);
