-- The 5-minute series on PostgreSQL (hub/store/pg/pg-series-store.ts), laid out for the two reads
-- that matter: one subject's month (a bill, a graph) and top subjects over a window.
--
-- Tables are prefixed series_ (beside kv and the other ports' tables to come): the brief's
-- "subjects", "coverage" and "applied" are too generic for a database several ports share.
--
--   series                    one row per (operator, subject, 5-minute bucket): the summed counters.
--                             RANGE partitions by calendar month (UTC) of bucket_start, so a subject's
--                             month is one partition's primary-key range, and a window's top subjects
--                             scan only the months it touches (BRIN on bucket_start inside them).
--   series_subjects           one row per (operator, subject): kind, label, first and last bucket seen.
--   series_coverage           one row per (operator, bucket) any edge of the operator reported
--                             (reportedBucketCount).
--   series_applied            the dedup: one row per applied summary identity (edge, bucket,
--                             revision, subject). Its PRIMARY KEY decides exactly-once across hubs:
--                             a batch inserts its identities ON CONFLICT DO NOTHING RETURNING, and only
--                             the returned ones are added to series, in the same transaction. A second
--                             hub inserting the same identity waits for the first's transaction and
--                             then finds the row (or inserts it if the first rolled back).
--   series_applied_revisions  distinct subjects applied per (edge, bucket, revision): the
--                             maxRevisionSubjects limit without counting series_applied rows.
--   series_applied_horizon    one row: every applied identity of a bucket below pruned_below was
--                             dropped, so such buckets are refused (they can no longer be deduplicated)
--                             whatever a hub's clock says.
--
-- Counters are bigint: a summary's count is at most 2^50 (proto/summary-limits.ts), sums of revisions
-- stay far below 2^63. Times are Unix seconds (bigint), as everywhere in the hub.
--
-- Partitions are created on demand by series_ensure_month(), which the store calls (in its own short
-- transaction, before the batch's) the first time it meets a month; months are never created inside
-- the ingest transaction, so two hubs meeting a new month never hold ingest locks while one of them
-- changes the catalog. Pruning drops whole months of series_applied (series_prune_applied()).

CREATE TABLE series (
  operator_id  text   NOT NULL,
  subject_id   text   NOT NULL,
  bucket_start bigint NOT NULL,
  bytes_in     bigint NOT NULL,
  bytes_out    bigint NOT NULL,
  packets_in   bigint NOT NULL,
  packets_out  bigint NOT NULL,
  flows_in     bigint NOT NULL,
  flows_out    bigint NOT NULL,
  -- INCLUDE the bytes: the bill run's read (readSlotColumns: bytes of one subject's month) is then an
  -- index-only scan of consecutive leaf pages. Ingest appends in time order, so a subject's month is
  -- otherwise one heap page per bucket: measured on 1.7M rows, 8,640 points in 3 ms (75 pages) against
  -- 340 ms (8,736 pages) cold. The cost: an update of the bytes (a revision, a second edge reporting the
  -- subject) is not HOT; first reports, the bulk of ingest, are inserts either way.
  PRIMARY KEY (operator_id, subject_id, bucket_start) INCLUDE (bytes_in, bytes_out)
) PARTITION BY RANGE (bucket_start);

-- Ingest appends in time order, so block ranges follow time: a window's rows of every subject are a
-- few block ranges of each month it touches (top subjects), at almost no cost to ingest. Measured on
-- 1.7M rows (200 subjects, a month): a day's top subjects 33 ms through it, 0.4-1.5 s by a scan.
-- autosummarize: autovacuum summarizes each block range as it fills (unsummarized ranges are always read).
CREATE INDEX series_bucket_brin ON series USING brin (bucket_start) WITH (autosummarize = on);

CREATE TABLE series_subjects (
  operator_id  text   NOT NULL,
  subject_id   text   NOT NULL,
  kind         text   NOT NULL CHECK (kind IN ('interface', 'ip_group')),
  label        text   NOT NULL,
  first_seen   bigint NOT NULL,
  last_seen    bigint NOT NULL,
  PRIMARY KEY (operator_id, subject_id)
) WITH (fillfactor = 50); -- every batch moves last_seen: room on the page keeps those updates HOT

CREATE TABLE series_coverage (
  operator_id  text   NOT NULL,
  bucket_start bigint NOT NULL,
  PRIMARY KEY (operator_id, bucket_start)
);

CREATE TABLE series_applied (
  edge_id      text   NOT NULL,
  bucket_start bigint NOT NULL,
  revision     bigint NOT NULL,
  subject_id   text   NOT NULL,
  PRIMARY KEY (edge_id, bucket_start, revision, subject_id)
) PARTITION BY RANGE (bucket_start);

CREATE TABLE series_applied_revisions (
  edge_id      text    NOT NULL,
  bucket_start bigint  NOT NULL,
  revision     bigint  NOT NULL,
  subjects     integer NOT NULL,
  PRIMARY KEY (edge_id, bucket_start, revision)
) PARTITION BY RANGE (bucket_start);

CREATE TABLE series_applied_horizon (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_below bigint  NOT NULL
);
INSERT INTO series_applied_horizon (singleton, pruned_below) VALUES (true, 0);

-- "YYYYMM" of the UTC month holding a Unix second, and that month's bounds.
CREATE FUNCTION series_month_bounds(at_sec bigint, OUT month_start bigint, OUT month_end bigint, OUT suffix text)
LANGUAGE sql STABLE AS $$
  SELECT extract(epoch FROM m)::bigint, extract(epoch FROM m + interval '1 month')::bigint, to_char(m, 'YYYYMM')
  FROM (SELECT date_trunc('month', to_timestamp(at_sec) AT TIME ZONE 'UTC') AS m) AS t
$$;

-- Creates the partitions of the month holding at_sec, if missing: series always; series_applied and
-- series_applied_revisions only above the pruned horizon (a dropped month of identities must never
-- come back empty: its buckets would be counted twice). Serialized by a transaction advisory lock, so
-- hubs meeting a new month at once create it once. CREATE TABLE + ATTACH PARTITION rather than
-- CREATE TABLE ... PARTITION OF: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, which does not
-- wait for (or block) other hubs' running ingest transactions; PARTITION OF takes ACCESS EXCLUSIVE.
CREATE FUNCTION series_ensure_month(at_sec bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  b record;
  parent text;
  part text;
BEGIN
  SELECT * INTO b FROM series_month_bounds(at_sec);
  PERFORM pg_advisory_xact_lock(hashtext('flowbill:series-partitions'));
  FOREACH parent IN ARRAY ARRAY['series', 'series_applied', 'series_applied_revisions'] LOOP
    part := parent || '_p' || b.suffix;
    CONTINUE WHEN to_regclass(part) IS NOT NULL;
    CONTINUE WHEN parent <> 'series' AND b.month_end <= (SELECT pruned_below FROM series_applied_horizon);
    -- series rows are updated by revisions and other edges' reports of the subject: leave room on the page
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = %s)',
      part, parent, CASE parent WHEN 'series' THEN 90 ELSE 100 END);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)', parent, part, b.month_start, b.month_end);
  END LOOP;
END
$$;

-- Drops the months of applied identities that end at or before cutoff_sec (the dedup horizon) and
-- raises pruned_below to the start of cutoff_sec's month: every identity below it is gone (dropped, or
-- never stored), so no hub may apply such a bucket again, whatever its clock says; returns pruned_below. Whole months: no
-- row-by-row DELETE, no vacuum debt. DROP takes ACCESS EXCLUSIVE on series_applied for a moment, so
-- it waits at most lock_timeout for running ingest transactions and then gives up (the next prune
-- retries). An ingest transaction that read the old pruned_below and then meets a dropped month fails
-- (no partition for its row) and is redelivered, never half applied; the redelivery is refused as too old.
CREATE FUNCTION series_prune_applied(cutoff_sec bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  below bigint;
BEGIN
  SET LOCAL lock_timeout = '5s';
  PERFORM pg_advisory_xact_lock(hashtext('flowbill:series-partitions'));
  SELECT pruned_below INTO below FROM series_applied_horizon FOR UPDATE;
  FOR r IN
    SELECT c.relname, extract(epoch FROM make_timestamp(substring(c.relname FROM '_p([0-9]{4})[0-9]{2}$')::int,
      substring(c.relname FROM '_p[0-9]{4}([0-9]{2})$')::int, 1, 0, 0, 0) + interval '1 month')::bigint AS month_end
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent IN ('series_applied'::regclass, 'series_applied_revisions'::regclass)
  LOOP
    CONTINUE WHEN r.month_end > cutoff_sec;
    EXECUTE format('DROP TABLE %I', r.relname);
  END LOOP;
  below := greatest(below, (SELECT month_start FROM series_month_bounds(cutoff_sec)));
  UPDATE series_applied_horizon SET pruned_below = below;
  RETURN below;
END
$$;

-- The republication outbox (series-store.ts: listWaitingStored, deleteWaitingStored): one row per
-- applied call, committed in that call's transaction, deleted once the broker accepted it. stored_seq
-- comes from one sequence shared by every hub: unique and increasing in allocation order (with gaps,
-- which no reader relies on).
CREATE SEQUENCE series_stored_seq;
CREATE TABLE series_stored_outbox (
  edge_id    text   NOT NULL,
  stored_seq bigint NOT NULL,
  tenant_id  text   NOT NULL,
  payload    bytea  NOT NULL,
  PRIMARY KEY (edge_id, stored_seq)
);
