-- Workers in any language: the worker protocol as SQL functions, so that a
-- handler in Python, Go or psql registers, claims, heartbeats and reports
-- with the same rules as the built-in worker: every write about a running
-- job is fenced by its claim token (a stale one changes nothing and
-- answers false), a node that stops heartbeating is rescued like any
-- other, pauses and cancel requests hold. The REST worker API
-- (/v1/workers, /v1/jobs/{id}/complete, ...) calls these functions.

-- The delay before the next attempt after `attempt` failed: exponential
-- from 1 s, doubling, capped at 1 h, scaled by a jitter factor in
-- [0.8, 1.2) so that jobs failing together do not retry together (the
-- built-in worker's default policy, src/backoff.rs).
CREATE FUNCTION weir.retry_delay(attempt integer) RETURNS interval
LANGUAGE sql VOLATILE AS $$
    SELECT make_interval(secs => least(3600, power(2, least(greatest(attempt, 1) - 1, 12)))
                                 * (0.8 + 0.4 * random()))
$$;
COMMENT ON FUNCTION weir.retry_delay(integer) IS 'Backoff after a failed attempt: 1 s doubling per attempt, capped at 1 h, with jitter in [0.8, 1.2).';

-- One message for a node the database does not know (never registered,
-- unregistered, or declared dead by the rescuer and removed).
CREATE FUNCTION weir.unknown_node(node uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'worker node % is not registered (it unregistered, or stopped heartbeating and was declared dead): register again', node
        USING ERRCODE = 'no_data_found';
END $$;
COMMENT ON FUNCTION weir.unknown_node(uuid) IS 'Raises P0002 for a worker node id the database does not know.';

CREATE FUNCTION weir.register_worker(name text, queues text[], kinds text[]) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    node uuid := gen_random_uuid();
BEGIN
    IF name IS NULL OR length(btrim(name)) = 0 OR length(name) > 255 THEN
        RAISE EXCEPTION 'name must be 1 to 255 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF queues IS NULL OR cardinality(queues) = 0 THEN
        RAISE EXCEPTION 'queues must name at least one queue' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(queues) q WHERE q IS NULL OR q !~ '^[A-Za-z0-9_.:-]{1,128}$') THEN
        RAISE EXCEPTION 'queues must be 1 to 128 characters of letters, digits, ''_'', ''.'', '':'' or ''-'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF kinds IS NULL OR cardinality(kinds) = 0
       OR EXISTS (SELECT 1 FROM unnest(kinds) k WHERE k IS NULL OR length(btrim(k)) = 0 OR length(k) > 255) THEN
        RAISE EXCEPTION 'kinds must name at least one kind, each 1 to 255 characters'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO weir.nodes (id, host, pid, queues, kinds)
    VALUES (node, name, 0,
            (SELECT jsonb_object_agg(q, NULL) FROM unnest(queues) q),
            (SELECT array_agg(DISTINCT k ORDER BY k) FROM unnest(kinds) k));
    RETURN node;
END $$;
COMMENT ON FUNCTION weir.register_worker(text, text[], text[]) IS 'Registers a worker node (name: host or process label; the queues and kinds it serves) and returns its id. The node must heartbeat (weir.heartbeat) more often than the dead-after interval (30 s by default) or its jobs are rescued.';

CREATE FUNCTION weir.heartbeat(node uuid) RETURNS uuid[]
LANGUAGE plpgsql AS $$
DECLARE
    cancels uuid[];
BEGIN
    UPDATE weir.nodes n
    SET heartbeat_at = now(),
        running = (SELECT count(*) FROM weir.jobs_live j WHERE j.state = 'running' AND j.node_id = node)
    WHERE n.id = node;
    IF NOT FOUND THEN
        PERFORM weir.unknown_node(node);
    END IF;
    SELECT coalesce(array_agg(j.id ORDER BY j.id), '{}') INTO cancels
    FROM weir.jobs_live j
    WHERE j.state = 'running' AND j.node_id = node AND j.cancel_requested_at IS NOT NULL;
    RETURN cancels;
END $$;
COMMENT ON FUNCTION weir.heartbeat(uuid) IS 'Stamps the node''s heartbeat (database clock) and returns the ids of its running jobs whose cancel was requested: stop those handlers and report them with weir.fail_job (they end cancelled). Raises P0002 for an unknown node: register again.';

-- The claim of the worker protocol: the same statement shape as the
-- built-in worker's claim (one queue per call, a MATERIALIZED pick with
-- SKIP LOCKED in claim-index order, the pause checked in the statement).
-- A job made available by hand after it used every attempt gets one more,
-- instead of breaking the claim. The deadline is the job's timeout, else
-- 30 min; the rescuer takes the job back past it.
CREATE FUNCTION weir.claim(node uuid, queue text, kinds text[], max integer DEFAULT 1)
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
    WITH picked AS MATERIALIZED (
        SELECT j.id
        FROM weir.jobs_live j
        WHERE j.state = 'available'
          AND j.queue = claim.queue
          AND j.kind = ANY(claim.kinds)
          AND NOT EXISTS (SELECT 1 FROM weir.queues q WHERE q.name = claim.queue AND q.paused)
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
        deadline = now() + make_interval(secs => coalesce(j.timeout_seconds, 1800)),
        progress = NULL
    FROM picked
    WHERE j.id = picked.id
    RETURNING j.id, j.kind::text, j.args::jsonb, j.attempt, j.claim_token, j.deadline, '[]'::jsonb;
END $$;
COMMENT ON FUNCTION weir.claim(uuid, text, text[], integer) IS 'Claims up to max (1 to 1000) available jobs of queue whose kind is in kinds for the node, unless the queue is paused. Each becomes running with attempt + 1, a fresh claim_token (pass it to every report about the job) and a deadline. parents: the results of the jobs it depends on (empty until it has some). Raises P0002 for an unknown node.';

-- Writes about a running job match its id, state and claim token. A row a
-- concurrent rescue or cancel moved to another partition first raises a
-- serialization failure: the token is stale then, so the answer is false.
CREATE FUNCTION weir.complete_job(job_id uuid, claim_token uuid, result jsonb DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE weir.jobs j
    SET state = 'succeeded', finished_at = now(), result = complete_job.result,
        node_id = NULL, deadline = NULL
    WHERE j.id = job_id AND j.state = 'running' AND j.claim_token = complete_job.claim_token;
    RETURN FOUND;
EXCEPTION WHEN serialization_failure THEN
    RETURN false;
END $$;
COMMENT ON FUNCTION weir.complete_job(uuid, uuid, jsonb) IS 'Records a successful attempt with its result. Returns false (and changes nothing) when the claim token is stale: the job was rescued, re-claimed or finished meanwhile.';

-- Many successes in one statement (one commit), for workers that run
-- jobs in batches. A job whose row a concurrent rescue or cancel moved
-- first makes the statement fail with a serialization failure: then each
-- is recorded on its own, so the others still are.
CREATE FUNCTION weir.complete_jobs(reports jsonb) RETURNS uuid[]
LANGUAGE plpgsql AS $$
DECLARE
    done uuid[];
BEGIN
    IF reports IS NULL OR jsonb_typeof(reports) <> 'array' THEN
        RAISE EXCEPTION 'reports must be a JSON array of {"id", "claim_token", "result"}'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        WITH r AS (
            SELECT (e ->> 'id')::uuid AS id, (e ->> 'claim_token')::uuid AS token,
                   e -> 'result' AS result
            FROM jsonb_array_elements(reports) e
        ), recorded AS (
            UPDATE weir.jobs j
            SET state = 'succeeded', finished_at = now(), result = r.result,
                node_id = NULL, deadline = NULL
            FROM r
            WHERE j.id = r.id AND j.state = 'running' AND j.claim_token = r.token
            RETURNING j.id
        )
        SELECT coalesce(array_agg(recorded.id), '{}') INTO done FROM recorded;
    EXCEPTION WHEN serialization_failure THEN
        SELECT coalesce(array_agg(r.id), '{}') INTO done
        FROM (SELECT (e ->> 'id')::uuid AS id, (e ->> 'claim_token')::uuid AS token,
                     e -> 'result' AS result
              FROM jsonb_array_elements(reports) e) r
        WHERE weir.complete_job(r.id, r.token, r.result);
    END;
    RETURN done;
END $$;
COMMENT ON FUNCTION weir.complete_jobs(jsonb) IS 'Records many successful attempts in one statement: reports is a JSON array of {"id", "claim_token", "result"}. Returns the ids recorded; the others had a stale claim token and did not change.';

CREATE FUNCTION weir.fail_job(job_id uuid, claim_token uuid, message text, retryable boolean DEFAULT true)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE weir.jobs j
    SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::weir.job_state
                     WHEN NOT coalesce(fail_job.retryable, true) OR j.attempt >= j.max_attempts
                     THEN 'failed'::weir.job_state
                     ELSE 'retryable'::weir.job_state END,
        finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                             OR NOT coalesce(fail_job.retryable, true)
                             OR j.attempt >= j.max_attempts THEN now() END,
        run_at = CASE WHEN j.cancel_requested_at IS NOT NULL
                        OR NOT coalesce(fail_job.retryable, true)
                        OR j.attempt >= j.max_attempts
                      THEN j.run_at ELSE now() + weir.retry_delay(j.attempt) END,
        progress = CASE WHEN j.cancel_requested_at IS NOT NULL
                          OR NOT coalesce(fail_job.retryable, true)
                          OR j.attempt >= j.max_attempts THEN j.progress END,
        errors = j.errors || jsonb_build_array(jsonb_build_object(
                     'attempt', j.attempt, 'at', now(),
                     'message', coalesce(left(fail_job.message, 10000), 'failed'))),
        node_id = NULL, deadline = NULL
    WHERE j.id = job_id AND j.state = 'running' AND j.claim_token = fail_job.claim_token;
    RETURN FOUND;
EXCEPTION WHEN serialization_failure THEN
    RETURN false;
END $$;
COMMENT ON FUNCTION weir.fail_job(uuid, uuid, text, boolean) IS 'Records a failed attempt with its message: retryable after a backoff while attempts are left (unless retryable is false), else failed; cancelled when a cancel was requested. Returns false when the claim token is stale.';

CREATE FUNCTION weir.snooze_job(job_id uuid, claim_token uuid, delay interval) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF delay IS NULL OR delay < interval '0' OR delay > interval '365 days' THEN
        RAISE EXCEPTION 'delay must be between 0 and 365 days' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE weir.jobs j
    SET state = CASE WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'::weir.job_state
                     ELSE 'scheduled'::weir.job_state END,
        finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL THEN now() END,
        run_at = CASE WHEN j.cancel_requested_at IS NOT NULL THEN j.run_at ELSE now() + delay END,
        attempt = CASE WHEN j.cancel_requested_at IS NOT NULL THEN j.attempt ELSE j.attempt - 1 END,
        started_at = CASE WHEN j.cancel_requested_at IS NULL AND j.attempt = 1 THEN NULL
                          ELSE j.started_at END,
        progress = CASE WHEN j.cancel_requested_at IS NOT NULL THEN j.progress END,
        node_id = NULL, deadline = NULL
    WHERE j.id = job_id AND j.state = 'running' AND j.claim_token = snooze_job.claim_token;
    RETURN FOUND;
EXCEPTION WHEN serialization_failure THEN
    RETURN false;
END $$;
COMMENT ON FUNCTION weir.snooze_job(uuid, uuid, interval) IS 'Answers "not now": the job goes to scheduled at now + delay and the attempt is not spent (cancelled instead when a cancel was requested). Returns false when the claim token is stale.';

CREATE FUNCTION weir.report_progress(job_id uuid, claim_token uuid, done bigint DEFAULT NULL,
                                     total bigint DEFAULT NULL, message text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE weir.jobs_live j
    SET progress = jsonb_strip_nulls(jsonb_build_object(
            'done', report_progress.done, 'total', report_progress.total,
            'message', left(report_progress.message, 10000)))
        || jsonb_build_object('updated_at', now())
    WHERE j.id = job_id AND j.state = 'running' AND j.claim_token = report_progress.claim_token;
    RETURN FOUND;
END $$;
COMMENT ON FUNCTION weir.report_progress(uuid, uuid, bigint, bigint, text) IS 'Stores a running job''s progress (done, total, message; each optional). Returns false when the claim token is stale.';

CREATE FUNCTION weir.unregister_worker(node uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    handed_back integer;
    woken text[];
BEGIN
    WITH back AS (
        UPDATE weir.jobs j
        SET state = CASE WHEN j.cancel_requested_at IS NULL
                         THEN 'available'::weir.job_state ELSE 'cancelled'::weir.job_state END,
            finished_at = CASE WHEN j.cancel_requested_at IS NULL THEN NULL ELSE now() END,
            attempt = CASE WHEN j.cancel_requested_at IS NULL THEN j.attempt - 1 ELSE j.attempt END,
            started_at = CASE WHEN j.cancel_requested_at IS NULL AND j.attempt = 1 THEN NULL
                              ELSE j.started_at END,
            progress = CASE WHEN j.cancel_requested_at IS NULL THEN NULL ELSE j.progress END,
            node_id = NULL, deadline = NULL
        WHERE j.state = 'running' AND j.node_id = unregister_worker.node
        RETURNING j.queue, j.state
    )
    SELECT count(*), array_agg(DISTINCT queue) FILTER (WHERE state = 'available')
    INTO handed_back, woken FROM back;
    DELETE FROM weir.wakeups w WHERE w.node_id = unregister_worker.node;
    DELETE FROM weir.nodes n WHERE n.id = unregister_worker.node;
    IF woken IS NOT NULL THEN
        PERFORM weir.notify_queues(woken);
    END IF;
    RETURN handed_back;
END $$;
COMMENT ON FUNCTION weir.unregister_worker(uuid) IS 'Removes a worker node: its running jobs go back to available without spending their attempt (cancelled when a cancel was requested), and idle workers of their queues are woken. Returns how many jobs it held. Unknown nodes are not an error.';
