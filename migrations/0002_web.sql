-- The web node's objects: the operations every interface shares (cancel,
-- retry, pause, resume), queue statistics, job-change notifications for
-- watchers, and idempotency keys.

-- Web nodes register interest in single jobs here (a request waiting with
-- ?wait, or an event stream); a change to a watched job sends
-- NOTIFY weir_job_events with the job id. UNLOGGED: watches are
-- re-created by clients after a crash.
CREATE UNLOGGED TABLE weir.watches (
    job_id     uuid        NOT NULL,
    node_id    uuid        NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, node_id)
);
COMMENT ON TABLE weir.watches IS 'Jobs somebody is watching (a web node''s waiting requests and event streams). Every change of a watched job sends NOTIFY weir_job_events with the job id as payload.';

-- Sends NOTIFY weir_job_events (payload: job id) for the watched jobs among
-- the changed rows. The EXISTS check keeps the common case (nobody
-- watches) to one read of a tiny table, and notifications off the hot path.
CREATE FUNCTION weir.jobs_notify_watchers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM weir.watches) THEN
        PERFORM pg_notify('weir_job_events', c.id::text)
        FROM (SELECT DISTINCT n.id FROM changed n JOIN weir.watches w ON w.job_id = n.id) c;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.jobs_notify_watchers() IS 'Statement trigger: NOTIFY weir_job_events (payload: job id) for each changed job present in weir.watches.';

-- Updates through the parent (completions, cancels, retries) fire the
-- parent's statement triggers; updates aimed at the live partition
-- (claims, progress, staging, hand-backs) fire the partition's.
CREATE TRIGGER jobs_notify_watchers AFTER UPDATE ON weir.jobs
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION weir.jobs_notify_watchers();
CREATE TRIGGER jobs_live_notify_watchers AFTER UPDATE ON weir.jobs_live
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION weir.jobs_notify_watchers();

-- Cancels a job: queued (pending, scheduled, available, retryable) jobs
-- become cancelled at once; a running job gets cancel_requested_at and its
-- worker stops the handler. Raises no_data_found (P0002) for an unknown id
-- and object_not_in_prerequisite_state (55000) for a finished job.
CREATE FUNCTION weir.cancel_job(job_id uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    current weir.job_state;
BEGIN
    UPDATE weir.jobs SET state = 'cancelled', finished_at = now()
    WHERE id = job_id AND state IN ('pending', 'scheduled', 'available', 'retryable');
    IF FOUND THEN
        RETURN 'cancelled';
    END IF;
    BEGIN
        UPDATE weir.jobs_live SET cancel_requested_at = coalesce(cancel_requested_at, now())
        WHERE id = job_id AND state = 'running';
        IF FOUND THEN
            RETURN 'cancel_requested';
        END IF;
    EXCEPTION WHEN serialization_failure THEN
        -- The job finished while we waited for its row (the row moved to
        -- a finished partition): report it below as finished.
        NULL;
    END;
    SELECT state INTO current FROM weir.jobs WHERE id = job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % not found', job_id USING ERRCODE = 'no_data_found';
    END IF;
    RAISE EXCEPTION 'job % is % and cannot be cancelled', job_id, current
        USING ERRCODE = 'object_not_in_prerequisite_state';
END $$;
COMMENT ON FUNCTION weir.cancel_job(uuid) IS 'Cancels a job. Returns cancelled (it was queued) or cancel_requested (it is running: its worker stops the handler and records cancelled). Raises P0002 for an unknown id, 55000 for a finished job.';

-- Sends a failed or cancelled job back to available: errors are kept,
-- result and progress cleared, and one more attempt allowed if it had used
-- them all. Raises P0002 for an unknown id, 55000 for any other state, and
-- a unique violation if a live job took its unique_key meanwhile.
CREATE FUNCTION weir.retry_job(job_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    current weir.job_state;
    q text;
BEGIN
    UPDATE weir.jobs
    SET state = 'available', finished_at = NULL, result = NULL, progress = NULL,
        run_at = now(), cancel_requested_at = NULL,
        max_attempts = greatest(max_attempts, attempt + 1)
    WHERE id = job_id AND state IN ('failed', 'cancelled')
    RETURNING queue INTO q;
    IF FOUND THEN
        PERFORM weir.notify_queues(ARRAY[q]);
        RETURN;
    END IF;
    SELECT state INTO current FROM weir.jobs WHERE id = job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % not found', job_id USING ERRCODE = 'no_data_found';
    END IF;
    RAISE EXCEPTION 'job % is % and cannot be retried (only failed or cancelled jobs can)', job_id, current
        USING ERRCODE = 'object_not_in_prerequisite_state';
END $$;
COMMENT ON FUNCTION weir.retry_job(uuid) IS 'Sends a failed or cancelled job back to available (errors kept, result cleared). Raises P0002 for an unknown id, 55000 for other states.';

CREATE FUNCTION weir.pause_queue(queue text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO weir.queues (name, paused) VALUES (queue, true)
    ON CONFLICT (name) DO UPDATE SET paused = true, updated_at = now()
$$;
COMMENT ON FUNCTION weir.pause_queue(text) IS 'Stops claiming from a queue on every node (running jobs go on). Idempotent.';

CREATE FUNCTION weir.resume_queue(queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO weir.queues (name, paused) VALUES (queue, false)
    ON CONFLICT (name) DO UPDATE SET paused = false, updated_at = now();
    PERFORM weir.notify_queues(ARRAY[queue]);
END $$;
COMMENT ON FUNCTION weir.resume_queue(text) IS 'Restarts claiming from a paused queue and wakes its idle workers. Idempotent.';

-- Serves the per-queue, per-state counts of finished jobs (index-only).
CREATE INDEX jobs_finished_queue_state_idx ON weir.jobs_finished (queue, state, finished_at);

CREATE VIEW weir.queue_stats AS
WITH live_nodes AS (
    SELECT queues, kinds FROM weir.nodes
    WHERE heartbeat_at > now() - interval '30 seconds'
), names AS (
    SELECT DISTINCT queue AS name FROM weir.jobs_live
    UNION SELECT name FROM weir.queues
    UNION SELECT jsonb_object_keys(queues) FROM live_nodes
    UNION SELECT DISTINCT queue FROM weir.jobs_finished
), live AS (
    SELECT queue, state, count(*) AS n FROM weir.jobs_live GROUP BY queue, state
), finished AS (
    SELECT queue, state, count(*) AS n FROM weir.jobs_finished GROUP BY queue, state
)
SELECT
    names.name AS queue,
    coalesce(q.paused, false) AS paused,
    coalesce((SELECT n FROM live WHERE live.queue = names.name AND state = 'pending'), 0) AS pending,
    coalesce((SELECT n FROM live WHERE live.queue = names.name AND state = 'scheduled'), 0) AS scheduled,
    coalesce((SELECT n FROM live WHERE live.queue = names.name AND state = 'available'), 0) AS available,
    coalesce((SELECT n FROM live WHERE live.queue = names.name AND state = 'running'), 0) AS running,
    coalesce((SELECT n FROM live WHERE live.queue = names.name AND state = 'retryable'), 0) AS retryable,
    coalesce((SELECT n FROM finished f WHERE f.queue = names.name AND state = 'succeeded'), 0) AS succeeded,
    coalesce((SELECT n FROM finished f WHERE f.queue = names.name AND state = 'failed'), 0) AS failed,
    coalesce((SELECT n FROM finished f WHERE f.queue = names.name AND state = 'cancelled'), 0) AS cancelled,
    (SELECT min(run_at) FROM weir.jobs_live j WHERE j.queue = names.name AND j.state = 'available') AS oldest_available_at,
    (SELECT extract(epoch FROM now() - min(run_at))::float8 FROM weir.jobs_live j
      WHERE j.queue = names.name AND j.state = 'available') AS oldest_available_age_seconds,
    ARRAY(
        SELECT DISTINCT j.kind FROM weir.jobs_live j
        WHERE j.queue = names.name AND j.state IN ('available', 'scheduled', 'retryable')
          AND NOT EXISTS (SELECT 1 FROM live_nodes n WHERE n.queues ? names.name AND j.kind = ANY(n.kinds))
        ORDER BY j.kind
    ) AS unserved_kinds
FROM names
LEFT JOIN weir.queues q ON q.name = names.name;
COMMENT ON VIEW weir.queue_stats IS 'One row per known queue: paused, jobs per state, oldest available job, and kinds waiting with no live worker (heartbeat within 30 s) serving them on that queue.';

-- Idempotency-Key header of POST /v1/jobs: a repeated key within 24 hours
-- returns the first request's job.
CREATE TABLE weir.idempotency_keys (
    key         text        PRIMARY KEY,
    job_id      uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_key_valid CHECK (length(key) BETWEEN 1 AND 255)
);
COMMENT ON TABLE weir.idempotency_keys IS 'Idempotency-Key header values of POST /v1/jobs and the job each created; honoured for 24 hours.';
