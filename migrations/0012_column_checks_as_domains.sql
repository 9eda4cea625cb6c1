-- Five single-column checks of weir.jobs become domain constraints: same
-- names, same rules, a fraction of the cost per statement.
--
-- PostgreSQL 15 keeps a table's CHECK constraints as stored expression
-- text (pg_constraint.conbin) and, on every INSERT or UPDATE statement,
-- parses each one again (stringToNode) and plans it (expression_planner)
-- before checking the first row: the cache lives in the statement's
-- executor state. A domain's constraints are parsed and planned once per
-- connection (the type cache). For a one-row statement the table's 11
-- checks were the largest single cost. Counted with callgrind (a
-- single-user backend, 1,000 calls, fsync off), a one-row `INSERT INTO
-- weir.jobs (kind, queue) VALUES (...)` took ~584k instructions, ~340k of
-- them in ExecConstraints (~260k in stringToNode alone), and `SELECT
-- weir.enqueue(...)` ~640k. With these five checks as domain constraints:
-- ~471k and ~530k.
--
-- Which checks: those on kind, args, errors, progress and timeout_seconds.
-- The queue and unique_key checks stay on the table: both columns are
-- indexed, and changing an indexed column's type rebuilds its indexes
-- (every finished job's queue index) under an exclusive lock. So does
-- jobs_max_attempts_positive: max_attempts also appears in
-- jobs_attempt_within_max, and changing the type of a column a table check
-- reads re-adds that check, which scans every stored job under the
-- exclusive lock. The three checks that tie several columns together
-- (jobs_attempt_within_max, jobs_finished_at_iff_terminal,
-- jobs_running_has_claim) cannot be domains.
--
-- What users see: the same constraint names with the same SQLSTATE
-- (23514, check_violation), so the REST API's and the client's
-- translations of them are unchanged; the message now names the domain
-- ("value for domain weir.job_kind violates check constraint
-- "jobs_kind_not_empty"") instead of the partition. A NULL passes a domain
-- check as it passed the table check, so the `x IS NULL OR` parts are
-- gone from the rules without changing them. Result columns of a domain
-- type reach clients as the base type (the wire protocol reports the
-- base type), so drivers read text, jsonb and integer as before.
--
-- How it stays cheap on a large weir.jobs: the domains are created
-- without constraints, so changing the columns' types to them is a
-- catalog change only (a domain over the column's own type needs no
-- rewrite, and no index or remaining table check reads these columns);
-- the constraints are then
-- added to the domains NOT VALID, which checks every new value but does
-- not scan the stored rows. Those rows were held to the same rules by the
-- table checks dropped here (validated constraints), so there is nothing
-- to find; validating would hold a SHARE lock on weir.jobs (blocking
-- enqueues) for a full scan. The exclusive lock on weir.jobs is held for
-- the catalog changes only (tests/migrations.rs checks that no table or
-- index gets new storage and that no stored job is read). weir.queue_stats reads kind, so it is pointed
-- away from the columns while their types change and then redefined as in
-- 0006 (its own columns stay text), keeping its comments.

-- 1. The view no longer reads the columns (same columns, same types).
CREATE OR REPLACE VIEW weir.queue_stats AS
SELECT NULL::text AS queue, NULL::boolean AS paused, NULL::bigint AS pending,
       NULL::bigint AS scheduled, NULL::bigint AS available, NULL::bigint AS running,
       NULL::bigint AS retryable, NULL::bigint AS succeeded, NULL::bigint AS failed,
       NULL::bigint AS cancelled, NULL::timestamptz AS oldest_available_at,
       NULL::float8 AS oldest_available_age_seconds, NULL::text[] AS unserved_kinds
WHERE false;

-- 2. The table checks go (a type change would re-check them on every row).
ALTER TABLE weir.jobs
    DROP CONSTRAINT jobs_kind_not_empty,
    DROP CONSTRAINT jobs_args_is_object,
    DROP CONSTRAINT jobs_errors_is_array,
    DROP CONSTRAINT jobs_progress_is_object,
    DROP CONSTRAINT jobs_timeout_positive;

-- 3. The domains, empty for now, and the columns' new types.
CREATE DOMAIN weir.job_kind AS text;
CREATE DOMAIN weir.job_args AS jsonb;
CREATE DOMAIN weir.job_errors AS jsonb;
CREATE DOMAIN weir.job_progress AS jsonb;
CREATE DOMAIN weir.job_timeout_seconds AS integer;

ALTER TABLE weir.jobs
    ALTER COLUMN kind TYPE weir.job_kind,
    ALTER COLUMN args TYPE weir.job_args,
    ALTER COLUMN errors TYPE weir.job_errors,
    ALTER COLUMN progress TYPE weir.job_progress,
    ALTER COLUMN timeout_seconds TYPE weir.job_timeout_seconds;

-- 4. The rules, under their old names.
ALTER DOMAIN weir.job_kind ADD CONSTRAINT jobs_kind_not_empty
    CHECK (length(btrim(VALUE)) > 0 AND length(VALUE) <= 255) NOT VALID;
ALTER DOMAIN weir.job_args ADD CONSTRAINT jobs_args_is_object
    CHECK (jsonb_typeof(VALUE) = 'object') NOT VALID;
ALTER DOMAIN weir.job_errors ADD CONSTRAINT jobs_errors_is_array
    CHECK (jsonb_typeof(VALUE) = 'array') NOT VALID;
ALTER DOMAIN weir.job_progress ADD CONSTRAINT jobs_progress_is_object
    CHECK (jsonb_typeof(VALUE) = 'object') NOT VALID;
ALTER DOMAIN weir.job_timeout_seconds ADD CONSTRAINT jobs_timeout_positive
    CHECK (VALUE > 0) NOT VALID;

COMMENT ON DOMAIN weir.job_kind IS 'weir.jobs.kind: not blank, at most 255 characters (jobs_kind_not_empty).';
COMMENT ON DOMAIN weir.job_args IS 'weir.jobs.args: a JSON object (jobs_args_is_object).';
COMMENT ON DOMAIN weir.job_errors IS 'weir.jobs.errors: a JSON array (jobs_errors_is_array).';
COMMENT ON DOMAIN weir.job_progress IS 'weir.jobs.progress: a JSON object (jobs_progress_is_object).';
COMMENT ON DOMAIN weir.job_timeout_seconds IS 'weir.jobs.timeout_seconds: positive (jobs_timeout_positive).';

-- 5. The view as in 0006, its own columns still text.
CREATE OR REPLACE VIEW weir.queue_stats AS
WITH live_nodes AS (
    SELECT queues, kinds FROM weir.nodes
    WHERE heartbeat_at > now() - interval '30 seconds'
), live AS (
    SELECT queue,
           count(*) FILTER (WHERE state = 'pending') AS pending,
           count(*) FILTER (WHERE state = 'scheduled') AS scheduled,
           count(*) FILTER (WHERE state = 'available') AS available,
           count(*) FILTER (WHERE state = 'running') AS running,
           count(*) FILTER (WHERE state = 'retryable') AS retryable,
           min(run_at) FILTER (WHERE state = 'available') AS oldest_available_at
    FROM weir.jobs_live GROUP BY queue
), finished AS (
    SELECT queue,
           count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
           count(*) FILTER (WHERE state = 'failed') AS failed,
           count(*) FILTER (WHERE state = 'cancelled') AS cancelled
    FROM weir.jobs_finished GROUP BY queue
), waiting_kinds AS (
    SELECT DISTINCT queue, kind::text AS kind FROM weir.jobs_live
    WHERE state IN ('available', 'scheduled', 'retryable')
), unserved AS (
    SELECT w.queue, array_agg(w.kind ORDER BY w.kind) AS kinds
    FROM waiting_kinds w
    WHERE NOT EXISTS (SELECT 1 FROM live_nodes n WHERE n.queues ? w.queue AND w.kind = ANY(n.kinds))
    GROUP BY w.queue
), names AS (
    SELECT queue AS name FROM live
    UNION SELECT name FROM weir.queues
    UNION SELECT jsonb_object_keys(queues) FROM live_nodes
    UNION SELECT queue FROM finished
)
SELECT
    names.name AS queue,
    coalesce(q.paused, false) AS paused,
    coalesce(l.pending, 0) AS pending,
    coalesce(l.scheduled, 0) AS scheduled,
    coalesce(l.available, 0) AS available,
    coalesce(l.running, 0) AS running,
    coalesce(l.retryable, 0) AS retryable,
    coalesce(f.succeeded, 0) AS succeeded,
    coalesce(f.failed, 0) AS failed,
    coalesce(f.cancelled, 0) AS cancelled,
    l.oldest_available_at,
    extract(epoch FROM now() - l.oldest_available_at)::float8 AS oldest_available_age_seconds,
    coalesce(u.kinds, ARRAY[]::text[]) AS unserved_kinds
FROM names
LEFT JOIN weir.queues q ON q.name = names.name
LEFT JOIN live l ON l.queue = names.name
LEFT JOIN finished f ON f.queue = names.name
LEFT JOIN unserved u ON u.queue = names.name;
