-- Flow control (docs/flow-control.md): per-queue limits that every node
-- honours, enforced inside the claim.
--
--   max_running          jobs of the queue running at once, across nodes
--   max_running_per_key  jobs of one concurrency_key running at once
--   rate_limit per rate_period
--                        claims (attempt starts) in any window of
--                        rate_period (a sliding window)
--
-- Every claim (the built-in worker's and weir.claim) goes through
-- weir.claim. A queue without limits takes the statement the claim
-- always had; a queue with limits takes a serialised path: one claim at a
-- time per queue counts what runs and what started, and picks within the
-- budget. Which path is decided inside the function, after a lock that
-- weir.set_queue_limits takes exclusively: a claim that read "no limits"
-- has committed before new limits apply, so its jobs are counted by every
-- claim that follows.

------------------------------------------------------------------------
-- Columns
------------------------------------------------------------------------

CREATE DOMAIN weir.job_concurrency_key AS text
    CONSTRAINT jobs_concurrency_key_valid CHECK (length(VALUE) BETWEEN 1 AND 255);
COMMENT ON DOMAIN weir.job_concurrency_key IS 'weir.jobs.concurrency_key: 1 to 255 characters (jobs_concurrency_key_valid).';

ALTER TABLE weir.jobs ADD COLUMN concurrency_key weir.job_concurrency_key;
COMMENT ON COLUMN weir.jobs.concurrency_key IS 'Groups jobs for the queue''s max_running_per_key (e.g. a customer id); NULL: not limited per key.';

-- The per-key claim walks the distinct keys of a queue's available jobs
-- (a loose index scan), then each key's jobs in claim order. Partial on
-- keyed jobs, so that jobs without a key pay nothing for it.
CREATE INDEX jobs_live_claim_by_key_idx
    ON weir.jobs_live (queue, concurrency_key, priority DESC, run_at, id)
    WHERE state = 'available' AND concurrency_key IS NOT NULL;
COMMENT ON INDEX weir.jobs_live_claim_by_key_idx IS 'Serves the per-key claim (weir.claim): the keys of a queue''s available jobs, and each key''s jobs in claim order.';

ALTER TABLE weir.queues
    ADD COLUMN max_running integer,
    ADD COLUMN max_running_per_key integer,
    ADD COLUMN rate_limit integer,
    ADD COLUMN rate_period interval,
    ADD CONSTRAINT queues_max_running_positive CHECK (max_running > 0),
    ADD CONSTRAINT queues_max_running_per_key_positive CHECK (max_running_per_key > 0),
    ADD CONSTRAINT queues_rate_limit_valid CHECK (
        (rate_limit IS NULL) = (rate_period IS NULL)
        AND rate_limit BETWEEN 1 AND 1000000
        AND rate_period > interval '0' AND rate_period <= interval '31 days');
COMMENT ON COLUMN weir.queues.max_running IS 'At most this many jobs of the queue run at once, across every node; NULL: no limit.';
COMMENT ON COLUMN weir.queues.max_running_per_key IS 'At most this many jobs of one concurrency_key run at once; NULL: no limit.';
COMMENT ON COLUMN weir.queues.rate_limit IS 'At most this many claims (attempt starts) in any window of rate_period; NULL: no limit.';
COMMENT ON COLUMN weir.queues.rate_period IS 'The window of rate_limit.';

-- The claims of rate-limited queues, one row per attempt started, kept
-- for one rate_period (the claim deletes older rows of its queue).
CREATE TABLE weir.queue_starts (
    queue       text        NOT NULL,
    started_at  timestamptz NOT NULL
);
CREATE INDEX queue_starts_queue_started_at_idx ON weir.queue_starts (queue, started_at);
COMMENT ON TABLE weir.queue_starts IS 'Attempt starts of rate-limited queues within their rate_period (the sliding window of weir.queues.rate_limit).';
COMMENT ON COLUMN weir.queue_starts.queue IS 'The queue.';
COMMENT ON COLUMN weir.queue_starts.started_at IS 'When the claim started the attempt (database clock).';
COMMENT ON INDEX weir.queue_starts_queue_started_at_idx IS 'Starts of one queue within its window (weir.claim, weir.explain_job).';

------------------------------------------------------------------------
-- Setting limits
------------------------------------------------------------------------

-- The lock every claim takes shared and set_queue_limits exclusively
-- (key: 'weir' in ASCII, the queue), and the one that serialises the
-- claims of a limited queue. Advisory, so that claiming needs no write
-- privilege on weir.queues.
CREATE FUNCTION weir.queue_lock_key(queue text, purpose text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtext(purpose || ':' || queue)
$$;
COMMENT ON FUNCTION weir.queue_lock_key(text, text) IS 'Advisory lock key (second half; the first is 2003134834) of a queue for a purpose: limits (taken by every claim) or claim (serialises the claims of a limited queue).';

CREATE FUNCTION weir.set_queue_limits(
    queue text,
    max_running integer DEFAULT NULL,
    max_running_per_key integer DEFAULT NULL,
    rate_limit integer DEFAULT NULL,
    rate_period interval DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF queue IS NULL OR queue !~ '^[A-Za-z0-9_.:-]+$' OR length(queue) > 128 THEN
        RAISE EXCEPTION 'queue must be 1 to 128 characters of letters, digits, ''_'', ''.'', '':'' or ''-'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_running < 1 OR max_running > 1000000 THEN
        RAISE EXCEPTION 'max_running must be between 1 and 1000000 (NULL removes the limit)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_running_per_key < 1 OR max_running_per_key > 1000000 THEN
        RAISE EXCEPTION 'max_running_per_key must be between 1 and 1000000 (NULL removes the limit)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (rate_limit IS NULL) <> (rate_period IS NULL) THEN
        RAISE EXCEPTION 'rate_limit and rate_period go together: give both, or neither to remove the limit'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rate_limit < 1 OR rate_limit > 1000000 THEN
        RAISE EXCEPTION 'rate_limit must be between 1 and 1000000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rate_period <= interval '0' OR rate_period > interval '31 days' THEN
        RAISE EXCEPTION 'rate_period must be more than 0 and at most 31 days' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Waits for the claims of the queue in flight (they hold it shared),
    -- and holds back new ones until the new limits are committed.
    PERFORM pg_advisory_xact_lock(2003134834, weir.queue_lock_key(queue, 'limits'));
    INSERT INTO weir.queues AS q (name, max_running, max_running_per_key, rate_limit, rate_period)
    VALUES (queue, max_running, max_running_per_key, rate_limit, rate_period)
    ON CONFLICT (name) DO UPDATE
    SET max_running = EXCLUDED.max_running,
        max_running_per_key = EXCLUDED.max_running_per_key,
        rate_limit = EXCLUDED.rate_limit,
        rate_period = EXCLUDED.rate_period,
        updated_at = now();
    IF rate_limit IS NULL THEN
        DELETE FROM weir.queue_starts s WHERE s.queue = set_queue_limits.queue;
    END IF;
END $$;
COMMENT ON FUNCTION weir.set_queue_limits(text, integer, integer, integer, interval) IS 'Sets the flow-control limits of a queue (every one at once: NULL or an omitted argument removes that limit): max_running, max_running_per_key, rate_limit claims per rate_period. Raises 22023 for bad values. Enforced by every claim committed after it.';

------------------------------------------------------------------------
-- The claim
------------------------------------------------------------------------

-- Claims up to max available jobs of queue whose kind is in kinds for
-- node, within the queue's limits, unless it is paused. timeouts[i] is the
-- default timeout of kinds[i] (the job's own timeout_seconds wins). Each
-- claimed job becomes running with attempt + 1 (one more allowed if it had
-- used them all), a fresh claim token and a deadline.
--
-- Unlimited queue: one statement, as before limits existed (a
-- MATERIALIZED pick, so that the subquery runs once; SKIP LOCKED, so
-- that concurrent claims pass each other; the literal state predicate and
-- one queue per call, so that it walks jobs_live_claim_available_idx in
-- order and stops after max rows).
--
-- Limited queue: claims of the queue run one at a time (an advisory lock
-- held to commit). Each counts the queue's running jobs, per key, and the
-- starts in the rate window, each in a statement of its own that sees
-- every claim committed before the lock was granted; then it picks within
-- the budget. Per key, the keys are visited through
-- jobs_live_claim_by_key_idx, each offering at most its remaining budget,
-- and the picks are ordered by priority, then by rank within their key, so
-- a backlog of one key does not hold the others back.
--
-- Run in READ COMMITTED (the default): the counts rely on each statement
-- seeing what was committed before it started.
CREATE FUNCTION weir.claim(node uuid, queue text, kinds text[], timeouts integer[], max integer)
RETURNS TABLE (id uuid, kind text, args jsonb, attempt integer, max_attempts integer,
               claim_token uuid, timeout_seconds integer, deadline timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
#variable_conflict use_column
DECLARE
    lim record;
    budget integer := claim.max;
    picked uuid[];
    n integer;
    -- The start of the attempts of a limited queue: read after the lock,
    -- so that starts are recorded in the order the claims ran.
    started timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(2003134834, weir.queue_lock_key(claim.queue, 'limits'));
    SELECT q.paused, q.max_running, q.max_running_per_key, q.rate_limit, q.rate_period INTO lim
    FROM weir.queues q WHERE q.name = claim.queue;
    IF lim.paused THEN
        RETURN;
    END IF;

    IF lim.max_running IS NULL AND lim.max_running_per_key IS NULL AND lim.rate_limit IS NULL THEN
        RETURN QUERY
        WITH p AS MATERIALIZED (
            SELECT j.id
            FROM weir.jobs_live j
            WHERE j.state = 'available'
              AND j.queue = claim.queue
              AND j.kind = ANY(claim.kinds)
            ORDER BY j.priority DESC, j.run_at, j.id
            LIMIT claim.max
            FOR UPDATE SKIP LOCKED
        )
        UPDATE weir.jobs_live j
        SET state = 'running',
            attempt = j.attempt + 1,
            max_attempts = greatest(j.max_attempts, j.attempt + 1),
            claim_token = gen_random_uuid(),
            node_id = claim.node,
            started_at = now(),
            deadline = now() + make_interval(secs => coalesce(j.timeout_seconds, t.timeout_s)),
            progress = NULL
        FROM p, unnest(claim.kinds, claim.timeouts) AS t(kind, timeout_s)
        WHERE j.id = p.id AND t.kind = j.kind
        RETURNING j.id, j.kind::text, j.args::jsonb, j.attempt, j.max_attempts,
                  j.claim_token, coalesce(j.timeout_seconds, t.timeout_s), j.deadline;
        RETURN;
    END IF;

    PERFORM pg_advisory_xact_lock(2003134834, weir.queue_lock_key(claim.queue, 'claim'));
    started := clock_timestamp();
    IF lim.max_running IS NOT NULL THEN
        SELECT lim.max_running - count(*) INTO n
        FROM weir.jobs_live j WHERE j.state = 'running' AND j.queue = claim.queue;
        budget := least(budget, n);
    END IF;
    IF lim.rate_limit IS NOT NULL THEN
        DELETE FROM weir.queue_starts s
        WHERE s.queue = claim.queue AND s.started_at <= started - lim.rate_period;
        SELECT lim.rate_limit - count(*) INTO n
        FROM weir.queue_starts s WHERE s.queue = claim.queue;
        budget := least(budget, n);
    END IF;
    IF budget <= 0 THEN
        RETURN;
    END IF;

    IF lim.max_running_per_key IS NULL THEN
        SELECT array_agg(c.id) INTO picked FROM (
            SELECT j.id FROM weir.jobs_live j
            WHERE j.state = 'available' AND j.queue = claim.queue AND j.kind = ANY(claim.kinds)
            ORDER BY j.priority DESC, j.run_at, j.id
            LIMIT budget
            FOR UPDATE SKIP LOCKED) c;
    ELSE
        WITH RECURSIVE keys AS (
            (SELECT j.concurrency_key::text AS k FROM weir.jobs_live j
             WHERE j.state = 'available' AND j.queue = claim.queue AND j.concurrency_key IS NOT NULL
             ORDER BY j.concurrency_key LIMIT 1)
            UNION ALL
            SELECT (SELECT j.concurrency_key::text FROM weir.jobs_live j
                    WHERE j.state = 'available' AND j.queue = claim.queue
                      AND j.concurrency_key IS NOT NULL AND j.concurrency_key > keys.k
                    ORDER BY j.concurrency_key LIMIT 1)
            FROM keys WHERE keys.k IS NOT NULL
        ), running AS (
            SELECT j.concurrency_key::text AS k, count(*) AS n FROM weir.jobs_live j
            WHERE j.state = 'running' AND j.queue = claim.queue AND j.concurrency_key IS NOT NULL
            GROUP BY 1
        ), candidates AS (
            SELECT c.id, c.priority, c.rank, c.run_at
            FROM keys
            LEFT JOIN running r ON r.k = keys.k
            CROSS JOIN LATERAL (
                SELECT j.id, j.priority, j.run_at,
                       row_number() OVER (ORDER BY j.priority DESC, j.run_at, j.id) AS rank
                FROM weir.jobs_live j
                WHERE j.state = 'available' AND j.queue = claim.queue
                  AND j.concurrency_key = keys.k AND j.kind = ANY(claim.kinds)
                ORDER BY j.priority DESC, j.run_at, j.id
                LIMIT greatest(0, least(budget, lim.max_running_per_key - coalesce(r.n, 0)))
            ) c
            WHERE keys.k IS NOT NULL
            UNION ALL
            -- Jobs without a key are not limited per key: each counts as
            -- the first of its own. They are looked for among the first
            -- 1000 available jobs of the queue in line only: no index
            -- holds them apart, and a walk past every keyed job on each
            -- claim would cost as much as the backlog.
            SELECT f.id, f.priority, 1, f.run_at FROM (
                SELECT j.id, j.priority, j.run_at, j.concurrency_key FROM weir.jobs_live j
                WHERE j.state = 'available' AND j.queue = claim.queue AND j.kind = ANY(claim.kinds)
                ORDER BY j.priority DESC, j.run_at, j.id
                LIMIT 1000) f
            WHERE f.concurrency_key IS NULL
        )
        SELECT array_agg(c.id) INTO picked FROM (
            SELECT j.id FROM weir.jobs_live j
            WHERE j.id IN (SELECT c.id FROM candidates c
                           ORDER BY c.priority DESC, c.rank, c.run_at, c.id LIMIT budget)
              AND j.state = 'available'
            FOR UPDATE SKIP LOCKED) c;
    END IF;
    IF picked IS NULL THEN
        RETURN;
    END IF;

    IF lim.rate_limit IS NOT NULL THEN
        INSERT INTO weir.queue_starts (queue, started_at)
        SELECT claim.queue, started FROM unnest(picked);
    END IF;
    RETURN QUERY
    UPDATE weir.jobs_live j
    SET state = 'running',
        attempt = j.attempt + 1,
        max_attempts = greatest(j.max_attempts, j.attempt + 1),
        claim_token = gen_random_uuid(),
        node_id = claim.node,
        started_at = started,
        deadline = started + make_interval(secs => coalesce(j.timeout_seconds, t.timeout_s)),
        progress = NULL
    FROM unnest(claim.kinds, claim.timeouts) AS t(kind, timeout_s)
    WHERE j.id = ANY(picked) AND j.state = 'available' AND t.kind = j.kind
    RETURNING j.id, j.kind::text, j.args::jsonb, j.attempt, j.max_attempts,
              j.claim_token, coalesce(j.timeout_seconds, t.timeout_s), j.deadline;
END $$;
COMMENT ON FUNCTION weir.claim(uuid, text, text[], integer[], integer) IS 'The claim of the built-in worker (and behind weir.claim(node, queue, kinds, max)): no heartbeat, per-kind default timeouts; up to max available jobs of queue whose kind is in kinds (timeouts[i]: default timeout of kinds[i]), within the queue''s limits, unless paused. Each becomes running with attempt + 1, a fresh claim_token and a deadline.';

-- The worker protocol's claim, now through weir.claim (limits
-- included); the rest as before.
CREATE OR REPLACE FUNCTION weir.claim(node uuid, queue text, kinds text[], max integer DEFAULT 1)
RETURNS TABLE (id uuid, kind text, args jsonb, attempt integer, claim_token uuid,
               deadline timestamptz, parents jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    IF claim.max IS NULL OR claim.max < 1 OR claim.max > 1000 THEN
        RAISE EXCEPTION 'max must be between 1 and 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF claim.kinds IS NULL OR cardinality(claim.kinds) = 0 THEN
        RAISE EXCEPTION 'kinds must name at least one kind' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE weir.nodes n SET heartbeat_at = now() WHERE n.id = claim.node;
    IF NOT FOUND THEN
        PERFORM weir.unknown_node(claim.node);
    END IF;
    RETURN QUERY
    SELECT c.id, c.kind, c.args, c.attempt, c.claim_token, c.deadline,
           CASE WHEN j.depends_on IS NULL THEN '[]'::jsonb ELSE weir.job_parents(j.depends_on) END
    FROM weir.claim(claim.node, claim.queue, claim.kinds,
                         array_fill(1800, ARRAY[cardinality(claim.kinds)]), claim.max) c
    LEFT JOIN weir.jobs_live j ON j.id = c.id;
END $$;
COMMENT ON FUNCTION weir.claim(uuid, text, text[], integer) IS 'Claims up to max (1 to 1000) available jobs of queue whose kind is in kinds for the node, within the queue''s limits (weir.set_queue_limits), unless the queue is paused. Each becomes running with attempt + 1, a fresh claim_token (pass it to every report about the job) and a deadline. parents: the jobs it depends on, [{ref, id, kind, result}] (empty when none). Raises P0002 for an unknown node.';
REVOKE EXECUTE ON FUNCTION weir.claim(uuid, text, text[], integer[], integer) FROM PUBLIC;

------------------------------------------------------------------------
-- Enqueue with a concurrency_key
------------------------------------------------------------------------

-- weir.enqueue and weir.insert_job as before (with depends_on, from the
-- workflows migration), with concurrency_key as a new last argument
-- (dropped and created again: a new argument is a new signature, and an
-- overload would make every shorter call ambiguous).
DROP FUNCTION weir.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[]);
DROP FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[]);

CREATE FUNCTION weir.enqueue(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    unique_key text DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL,
    depends_on uuid[] DEFAULT NULL,
    concurrency_key text DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    waited text;
BEGIN
    IF enqueue.unique_key IS NOT NULL THEN
        RETURN (weir.insert_job(kind, args, queue, priority, run_at, max_attempts,
                                unique_key, timeout_seconds, depends_on, concurrency_key)).job_id;
    END IF;
    INSERT INTO weir.jobs_live AS j (kind, args, queue, priority, run_at, max_attempts,
                                     timeout_seconds, depends_on, concurrency_key)
    VALUES (enqueue.kind,
            coalesce(enqueue.args, '{}'),
            coalesce(enqueue.queue, 'default'),
            coalesce(enqueue.priority, 0),
            coalesce(enqueue.run_at, now()),
            coalesce(enqueue.max_attempts, weir.default_max_attempts()),
            enqueue.timeout_seconds,
            nullif(enqueue.depends_on, '{}'),
            enqueue.concurrency_key)
    RETURNING j.id,
              (SELECT w.queue FROM weir.wakeups w
               WHERE w.armed
                 AND w.queue = CASE j.state WHEN 'available' THEN j.queue
                                            WHEN 'scheduled' THEN '$stager' END
               LIMIT 1)
    INTO new_id, waited;
    IF waited IS NOT NULL THEN
        PERFORM weir.notify_queues(ARRAY[waited]);
    END IF;
    RETURN new_id;
END $$;
COMMENT ON FUNCTION weir.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[], text) IS 'Enqueues a job and returns its id; with a unique_key held by a live job, returns that job''s id. depends_on: ids of jobs it waits on (pending until all succeeded; cancelled when one failed or was cancelled). concurrency_key groups jobs for the queue''s max_running_per_key. Named arguments work: weir.enqueue(''email.send'', ''{"to":"a@b.c"}'', queue => ''mail'', priority => 5::smallint, concurrency_key => ''customer:42'').';

CREATE FUNCTION weir.insert_job(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    unique_key text DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL,
    depends_on uuid[] DEFAULT NULL,
    concurrency_key text DEFAULT NULL,
    OUT job_id uuid,
    OUT created boolean
)
LANGUAGE plpgsql AS $$
BEGIN
    created := true;
    IF insert_job.unique_key IS NULL THEN
        job_id := weir.enqueue(kind, args, queue, priority, run_at, max_attempts,
                               NULL, timeout_seconds, depends_on, concurrency_key);
        RETURN;
    END IF;
    LOOP
        SELECT j.id INTO job_id FROM weir.jobs_live j WHERE j.unique_key = insert_job.unique_key;
        IF FOUND THEN
            created := false;
            RETURN;
        END IF;
        BEGIN
            INSERT INTO weir.jobs (kind, args, queue, priority, run_at, max_attempts, unique_key,
                                   timeout_seconds, depends_on, concurrency_key)
            VALUES (insert_job.kind,
                    coalesce(insert_job.args, '{}'),
                    coalesce(insert_job.queue, 'default'),
                    coalesce(insert_job.priority, 0),
                    coalesce(insert_job.run_at, now()),
                    coalesce(insert_job.max_attempts, weir.default_max_attempts()),
                    insert_job.unique_key,
                    insert_job.timeout_seconds,
                    nullif(insert_job.depends_on, '{}'),
                    insert_job.concurrency_key)
            RETURNING id INTO job_id;
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            -- A live job with this key committed after our look-up: loop
            -- and return that one.
            NULL;
        END;
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[], text) IS 'Enqueues a job and returns its id and whether it was created (false: a live job already held unique_key). The path for jobs with a unique_key (weir.enqueue calls it for those); without one it calls weir.enqueue.';

------------------------------------------------------------------------
-- Why isn't this job running?
------------------------------------------------------------------------

-- One reason, checked in the order a job meets them: its state, then for
-- an available job the queue's pause, a live worker for its kind, the
-- queue's limits, and last the jobs ahead of it. Runs as its owner, so
-- that a reader needs no right on weir.queue_starts.
CREATE FUNCTION weir.explain_job(job_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
DECLARE
    j record;
    lim record;
    n bigint;
    oldest timestamptz;
BEGIN
    SELECT x.id, x.state, x.queue, x.kind::text AS kind, x.priority, x.run_at,
           x.concurrency_key::text AS concurrency_key, x.node_id, x.started_at, x.deadline,
           x.finished_at, x.depends_on
    INTO j FROM weir.jobs x WHERE x.id = explain_job.job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % not found', job_id USING ERRCODE = 'no_data_found';
    END IF;
    CASE j.state
    WHEN 'succeeded', 'failed', 'cancelled' THEN
        RETURN jsonb_build_object('reason', j.state, 'state', j.state, 'finished_at', j.finished_at);
    WHEN 'running' THEN
        RETURN jsonb_build_object('reason', 'running', 'state', j.state, 'node_id', j.node_id,
                                  'started_at', j.started_at, 'deadline', j.deadline);
    WHEN 'scheduled' THEN
        RETURN jsonb_build_object('reason', 'scheduled', 'state', j.state, 'until', j.run_at);
    WHEN 'retryable' THEN
        RETURN jsonb_build_object('reason', 'retry_backoff', 'state', j.state, 'until', j.run_at);
    WHEN 'pending' THEN
        -- Jobs enter pending only through dependencies (workflows).
        RETURN jsonb_build_object('reason', 'waiting_on_dependencies', 'state', j.state,
            'waiting_on', (SELECT coalesce(jsonb_agg(d ORDER BY d), '[]') FROM unnest(j.depends_on) d
                           WHERE NOT EXISTS (SELECT 1 FROM weir.jobs p
                                             WHERE p.id = d AND p.state = 'succeeded')));
    ELSE
        NULL;
    END CASE;

    SELECT q.paused, q.max_running, q.max_running_per_key, q.rate_limit, q.rate_period INTO lim
    FROM weir.queues q WHERE q.name = j.queue;
    IF lim.paused THEN
        RETURN jsonb_build_object('reason', 'queue_paused', 'state', j.state, 'queue', j.queue);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM weir.nodes nd
                   WHERE nd.heartbeat_at > now() - interval '30 seconds'
                     AND nd.queues ? j.queue AND j.kind = ANY(nd.kinds)) THEN
        RETURN jsonb_build_object('reason', 'no_worker_for_kind', 'state', j.state,
                                  'queue', j.queue, 'kind', j.kind);
    END IF;
    IF lim.max_running IS NOT NULL THEN
        SELECT count(*) INTO n FROM weir.jobs_live x WHERE x.state = 'running' AND x.queue = j.queue;
        IF n >= lim.max_running THEN
            RETURN jsonb_build_object('reason', 'queue_concurrency_limit', 'state', j.state,
                                      'queue', j.queue, 'running', n, 'max', lim.max_running);
        END IF;
    END IF;
    IF lim.max_running_per_key IS NOT NULL AND j.concurrency_key IS NOT NULL THEN
        SELECT count(*) INTO n FROM weir.jobs_live x
        WHERE x.state = 'running' AND x.queue = j.queue AND x.concurrency_key = j.concurrency_key;
        IF n >= lim.max_running_per_key THEN
            RETURN jsonb_build_object('reason', 'key_concurrency_limit', 'state', j.state,
                                      'queue', j.queue, 'key', j.concurrency_key,
                                      'running', n, 'max', lim.max_running_per_key);
        END IF;
    END IF;
    IF lim.rate_limit IS NOT NULL THEN
        SELECT count(*), min(s.started_at) INTO n, oldest FROM weir.queue_starts s
        WHERE s.queue = j.queue AND s.started_at > clock_timestamp() - lim.rate_period;
        IF n >= lim.rate_limit THEN
            RETURN jsonb_build_object('reason', 'rate_limited', 'state', j.state, 'queue', j.queue,
                                      'until', oldest + lim.rate_period,
                                      'started', n, 'max', lim.rate_limit);
        END IF;
    END IF;
    SELECT count(*) INTO n FROM weir.jobs_live x
    WHERE x.state = 'available' AND x.queue = j.queue
      AND (x.priority > j.priority
           OR (x.priority = j.priority AND (x.run_at, x.id) < (j.run_at, j.id)));
    RETURN jsonb_build_object('reason', 'queued_behind', 'state', j.state, 'queue', j.queue,
                              'ahead', n);
END $$;
COMMENT ON FUNCTION weir.explain_job(uuid) IS 'Why a job is not running (yet): {"reason": ..., "state": ...} and the reason''s details. Reasons: scheduled (until), retry_backoff (until), waiting_on_dependencies (waiting_on: the ids not succeeded yet), queue_paused, no_worker_for_kind (queue, kind), queue_concurrency_limit (running, max), key_concurrency_limit (key, running, max), rate_limited (until, started, max), queued_behind (ahead: available jobs of higher or equal priority before it), running (node_id, started_at, deadline), or the terminal state (finished_at). Raises P0002 for an unknown id.';
REVOKE EXECUTE ON FUNCTION weir.explain_job(uuid) FROM PUBLIC;


------------------------------------------------------------------------
-- Queue stats with the limits
------------------------------------------------------------------------

-- As before, with the queue's limits as four more columns.
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
    coalesce(u.kinds, ARRAY[]::text[]) AS unserved_kinds,
    q.max_running,
    q.max_running_per_key,
    q.rate_limit,
    q.rate_period
FROM names
LEFT JOIN weir.queues q ON q.name = names.name
LEFT JOIN live l ON l.queue = names.name
LEFT JOIN finished f ON f.queue = names.name
LEFT JOIN unserved u ON u.queue = names.name;
COMMENT ON COLUMN weir.queue_stats.max_running IS 'At most this many jobs of the queue run at once; NULL: no limit.';
COMMENT ON COLUMN weir.queue_stats.max_running_per_key IS 'At most this many jobs of one concurrency_key run at once; NULL: no limit.';
COMMENT ON COLUMN weir.queue_stats.rate_limit IS 'At most this many claims in any window of rate_period; NULL: no limit.';
COMMENT ON COLUMN weir.queue_stats.rate_period IS 'The window of rate_limit.';

-- Grants to the roles for the objects above (weir.claim and
-- weir.explain_job carry names the role lists already hold).
SELECT weir.grant_roles();
