-- The W3C trace context of a job's enqueue (`traceparent`), so that a
-- tracing backend shows the request that enqueued a job and the job's
-- attempts as one trace: the Rust client and the web node store the
-- enqueuer's context, SQL producers may set the column, and workers make
-- each attempt's span a child of it.

ALTER TABLE weir.jobs ADD COLUMN traceparent text
    CONSTRAINT jobs_traceparent_format
    CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
COMMENT ON COLUMN weir.jobs.traceparent IS 'W3C trace context (traceparent header value, e.g. 00-<32 hex trace id>-<16 hex span id>-01) of the enqueue; each attempt''s span is its child. Optional.';

-- weir.insert_job takes the trace context too (weir.enqueue, the cheap
-- path, is used when there is none).
DROP FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[], text);
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
    traceparent text DEFAULT NULL,
    OUT job_id uuid,
    OUT created boolean
)
LANGUAGE plpgsql AS $$
BEGIN
    created := true;
    IF insert_job.unique_key IS NULL AND insert_job.traceparent IS NULL THEN
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
                                   timeout_seconds, depends_on, concurrency_key, traceparent)
            VALUES (insert_job.kind,
                    coalesce(insert_job.args, '{}'),
                    coalesce(insert_job.queue, 'default'),
                    coalesce(insert_job.priority, 0),
                    coalesce(insert_job.run_at, now()),
                    coalesce(insert_job.max_attempts, weir.default_max_attempts()),
                    insert_job.unique_key,
                    insert_job.timeout_seconds,
                    nullif(insert_job.depends_on, '{}'),
                    insert_job.concurrency_key,
                    insert_job.traceparent)
            RETURNING id INTO job_id;
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            -- A live job with this key committed after our look-up: loop
            -- and return that one.
            NULL;
        END;
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[], text, text) IS 'Enqueues a job and returns its id and whether it was created (false: a live job already held unique_key). The path for jobs with a unique_key or a traceparent (weir.enqueue calls it for those with a unique_key); otherwise it calls weir.enqueue.';

-- External workers get the trace context with each claimed job.
DROP FUNCTION weir.claim(uuid, text, text[], integer);
CREATE FUNCTION weir.claim(node uuid, queue text, kinds text[], max integer DEFAULT 1)
RETURNS TABLE (id uuid, kind text, args jsonb, attempt integer, claim_token uuid,
               deadline timestamptz, parents jsonb,
               traceparent text)
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
           CASE WHEN j.depends_on IS NULL THEN '[]'::jsonb ELSE weir.job_parents(j.depends_on) END,
           j.traceparent::text
    FROM weir.claim(claim.node, claim.queue, claim.kinds,
                         array_fill(1800, ARRAY[cardinality(claim.kinds)]), claim.max) c
    LEFT JOIN weir.jobs_live j ON j.id = c.id;
END $$;
COMMENT ON FUNCTION weir.claim(uuid, text, text[], integer) IS 'Claims up to max (1 to 1000) available jobs of queue whose kind is in kinds for the node, within the queue''s limits (weir.set_queue_limits), unless the queue is paused. Each becomes running with attempt + 1, a fresh claim_token (pass it to every report about the job) and a deadline. parents: the jobs it depends on, [{ref, id, kind, result}] (empty when none). Raises P0002 for an unknown node. traceparent: the W3C trace context of the enqueue (make the attempt''s span its child), or null.';

-- The roles' grants for this migration and the two features before it
-- (weir migrate runs weir.grant_roles() after every migration, so roles
-- created later get them too), beyond those of the roles migration:
-- - a producer may name depends_on and submit workflows
--   (weir.create_workflow runs as its owner: it writes the columns and
--   side tables a producer holds no right to; weir.job_waits and
--   weir.job_dependents are written only by functions that run as their
--   owner); readers read weir.workflow_stats;
-- - the scheduler, run by weir_app, advances next_run_at itself;
-- - producers may set traceparent.
CREATE OR REPLACE FUNCTION weir.grant_roles() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    -- Run as their owner, EXECUTE for the roles below only. Names that do
    -- not exist (yet) are skipped.
    definer_functions constant text[] := ARRAY[
        'cancel_job', 'retry_job', 'pause_queue', 'resume_queue',
        'set_queue_limits', 'set_schedule', 'delete_schedule', 'cancel_workflow',
        'create_workflow', 'notify_queues', 'ensure_finished_partitions'];
    operator_functions constant text[] := ARRAY[
        'cancel_job', 'retry_job', 'pause_queue', 'resume_queue',
        'set_queue_limits', 'set_schedule', 'delete_schedule', 'cancel_workflow'];
    producer_functions constant text[] := ARRAY[
        'enqueue', 'insert_job', 'uuid_v7', 'uuid_v7s', 'default_max_attempts', 'notify_queues',
        'create_workflow'];
    worker_functions constant text[] := ARRAY[
        'notify_queues', 'ensure_finished_partitions',
        'register_worker', 'heartbeat', 'claim', 'complete_job', 'fail_job',
        'complete_jobs', 'snooze_job', 'report_progress', 'unregister_worker'];
    reader_functions constant text[] := ARRAY['explain_job'];
    -- The columns an enqueue sets; every other column takes its default.
    producer_columns constant text[] := ARRAY[
        'id', 'kind', 'queue', 'args', 'priority', 'run_at', 'max_attempts',
        'timeout_seconds', 'unique_key', 'concurrency_key', 'depends_on', 'traceparent'];
    -- The columns a worker writes about the attempts it runs (and the
    -- maintenance services about attempts they stage or rescue); never
    -- what the job is (kind, args, queue, priority, ...).
    worker_columns constant text[] := ARRAY[
        'state', 'attempt', 'max_attempts', 'run_at', 'started_at', 'finished_at',
        'claim_token', 'node_id', 'deadline', 'progress', 'result', 'errors'];
    reader_tables constant text[] := ARRAY[
        'weir.jobs', 'weir.queue_stats', 'weir.queues', 'weir.nodes',
        'weir.schedules', 'weir.workflows', 'weir.workflow_stats'];
    roles constant text[] := ARRAY['weir_producer', 'weir_reader', 'weir_operator', 'weir_worker', 'weir_app'];
    present text[];
    f regprocedure;
    t text;
    cols text;
    migrations regclass := to_regclass('_sqlx_migrations');
BEGIN
    -- Concurrent GRANTs on one object fail ("tuple concurrently
    -- updated"): one migrator at a time (key: 'weir' in ASCII, a name).
    PERFORM pg_advisory_xact_lock(2003134834, hashtext('weir.grant_roles'));

    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'weir'::regnamespace AND p.proname = ANY (definer_functions) LOOP
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp', f);
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;

    SELECT coalesce(array_agg(rolname::text ORDER BY rolname), '{}') INTO present
    FROM pg_roles WHERE rolname = ANY (roles);

    -- Role memberships: an operator is a reader; weir_app is every role
    -- but the reader's on its own.
    PERFORM weir.grant_role_membership(g.role, g.member)
    FROM (VALUES ('weir_reader', 'weir_operator'), ('weir_producer', 'weir_app'),
                 ('weir_operator', 'weir_app'), ('weir_worker', 'weir_app')) AS g(role, member)
    WHERE g.role = ANY (present) AND g.member = ANY (present);

    IF 'weir_producer' = ANY (present) THEN
        EXECUTE 'GRANT USAGE ON SCHEMA weir TO weir_producer';
        EXECUTE 'GRANT SELECT ON weir.jobs, weir.jobs_live, weir.wakeups TO weir_producer';
        SELECT string_agg(quote_ident(a.attname), ', ') INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = 'weir.jobs'::regclass AND a.attname = ANY (producer_columns)
          AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('GRANT INSERT (%s) ON weir.jobs, weir.jobs_live TO weir_producer', cols);
        PERFORM weir.grant_execute(producer_functions, 'weir_producer');
    END IF;

    IF 'weir_reader' = ANY (present) THEN
        EXECUTE 'GRANT USAGE ON SCHEMA weir TO weir_reader';
        FOREACH t IN ARRAY reader_tables LOOP
            CONTINUE WHEN to_regclass(t) IS NULL;
            EXECUTE format('GRANT SELECT ON %s TO weir_reader', t);
        END LOOP;
        PERFORM weir.grant_execute(reader_functions, 'weir_reader');
    END IF;

    IF 'weir_operator' = ANY (present) THEN
        EXECUTE 'GRANT USAGE ON SCHEMA weir TO weir_operator';
        PERFORM weir.grant_execute(operator_functions, 'weir_operator');
    END IF;

    IF 'weir_worker' = ANY (present) THEN
        EXECUTE 'GRANT USAGE ON SCHEMA weir TO weir_worker';
        EXECUTE 'GRANT SELECT ON weir.jobs, weir.jobs_live, weir.queues, weir.followed_jobs TO weir_worker';
        SELECT string_agg(quote_ident(a.attname), ', ') INTO cols
        FROM pg_attribute a
        WHERE a.attrelid = 'weir.jobs'::regclass AND a.attname = ANY (worker_columns)
          AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('GRANT UPDATE (%s) ON weir.jobs, weir.jobs_live TO weir_worker', cols);
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON weir.nodes, weir.wakeups TO weir_worker';
        PERFORM weir.grant_execute(worker_functions, 'weir_worker');
        -- A node checks that every migration is applied before it starts.
        IF migrations IS NOT NULL THEN
            EXECUTE format('GRANT SELECT ON %s TO weir_worker', migrations);
        END IF;
    END IF;

    IF 'weir_app' = ANY (present) THEN
        EXECUTE 'GRANT USAGE ON SCHEMA weir TO weir_app';
        EXECUTE 'GRANT SELECT, INSERT, UPDATE, DELETE ON weir.leaders, weir.followed_jobs, weir.idempotency_keys TO weir_app';
        -- The scheduler advances next_run_at and records errors itself.
        IF to_regclass('weir.schedules') IS NOT NULL THEN
            EXECUTE 'GRANT SELECT, UPDATE ON weir.schedules TO weir_app';
        END IF;
        IF migrations IS NOT NULL THEN
            EXECUTE format('GRANT SELECT ON %s TO weir_app', migrations);
        END IF;
        EXECUTE 'ALTER TABLE weir.jobs_finished OWNER TO weir_app';
        FOR t IN SELECT i.inhrelid::regclass::text FROM pg_inherits i
                 JOIN pg_class c ON c.oid = i.inhrelid
                 WHERE i.inhparent = 'weir.jobs_finished'::regclass
                   AND c.relowner <> 'weir_app'::regrole LOOP
            EXECUTE format('ALTER TABLE %s OWNER TO weir_app', t);
        END LOOP;
    END IF;

    RETURN present;
END $$;
COMMENT ON FUNCTION weir.grant_roles() IS 'Grants to the roles of weir.create_roles() that exist what each may do, makes the guarded transitions run as their owner, and hands the finished-jobs partitions to weir_app. Idempotent; run by weir migrate. Returns the roles it granted to.';

SELECT weir.grant_roles();
