-- Least-privilege roles (docs/deployment.md, "Roles"). Five NOLOGIN roles,
-- granted to login roles by whoever deploys weir:
--
--   weir_producer  enqueue (weir.enqueue, or INSERT of the producer
--                  columns) and read jobs
--   weir_reader    read jobs, queue stats, queues, worker nodes
--   weir_operator  weir_reader + cancel, retry, pause, resume
--   weir_worker    what a worker node needs, maintenance excepted
--   weir_app       what weir serve, weir worker and the maintenance
--                  services need: all of the above, the web node's
--                  tables, and ownership of the finished-jobs partitions
--
-- weir.create_roles() creates them (weir migrate --create-roles);
-- weir.grant_roles() grants to those that exist. weir migrate calls
-- grant_roles after migrating, and so does this migration, so it can run
-- again at any time: after the roles are created, or after a later
-- migration added objects.
--
-- A producer holds no column that says how a job ended: its INSERT may
-- set only the producer columns, so state, attempt, result and the rest
-- come from their defaults and a new job is available (or scheduled).
-- Column privileges are checked on the table named in the statement, and
-- weir.enqueue inserts into weir.jobs_live itself (running as its caller,
-- so that the hot path pays no change of user): the producer holds the
-- same column privileges there.
--
-- Transitions that a role may make but must not be able to make by hand
-- (an operator may cancel, not UPDATE weir.jobs) are functions that run
-- as their owner (SECURITY DEFINER), with a fixed search_path and EXECUTE
-- revoked from PUBLIC. grant_roles sets that on every function of those
-- names, so a later CREATE OR REPLACE, which resets it, is covered by the
-- next weir migrate.
--
-- The pruner detaches day partitions with DETACH PARTITION ...
-- CONCURRENTLY, which cannot run inside a function (it is several
-- transactions), and PostgreSQL lets only a table's owner detach or drop
-- a partition: weir_app owns weir.jobs_finished and its day partitions.
-- weir.ensure_finished_partitions runs as its owner and hands each new
-- day to the owner of weir.jobs_finished, so that the pruner can drop it.
-- The role that migrates must therefore be a superuser or a member of
-- weir_app once weir_app exists.

CREATE FUNCTION weir.create_roles() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    r text;
    created text[] := '{}';
BEGIN
    FOREACH r IN ARRAY ARRAY['weir_producer', 'weir_reader', 'weir_operator', 'weir_worker', 'weir_app'] LOOP
        CONTINUE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r);
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            created := created || r;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- Another session created it at the same moment (roles are
            -- shared by every database of the cluster).
            NULL;
        END;
    END LOOP;
    RETURN created;
END $$;
COMMENT ON FUNCTION weir.create_roles() IS 'Creates the NOLOGIN roles weir_producer, weir_reader, weir_operator, weir_worker and weir_app when missing (needs CREATEROLE); returns those it created. Run weir.grant_roles() after it.';

-- The day partitions of finished jobs, as in the first migration, but run
-- as the function's owner (a worker whose completion found no partition
-- may call it without any right to DDL) and handing every new partition
-- to the owner of weir.jobs_finished.
CREATE OR REPLACE FUNCTION weir.ensure_finished_partitions(from_day date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    d date;
    part text;
    created integer := 0;
    parent_owner regrole := (SELECT c.relowner::regrole FROM pg_class c
                             WHERE c.oid = 'weir.jobs_finished'::regclass);
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := from_day + i;
        part := 'jobs_finished_' || to_char(d, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('weir.' || part) IS NOT NULL;
        EXECUTE format('CREATE TABLE weir.%I (LIKE weir.jobs_finished INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
        IF parent_owner <> current_user::regrole THEN
            EXECUTE format('ALTER TABLE weir.%I OWNER TO %s', part, parent_owner);
        END IF;
        EXECUTE format('ALTER TABLE weir.jobs_finished ATTACH PARTITION weir.%I FOR VALUES FROM (%L) TO (%L)',
                       part,
                       (d::timestamp AT TIME ZONE 'UTC'),
                       ((d + 1)::timestamp AT TIME ZONE 'UTC'));
        EXECUTE format('COMMENT ON TABLE weir.%I IS %L', part,
                       'Finished jobs of one UTC day (a partition of weir.jobs_finished); dropped whole by retention.');
        created := created + 1;
    END LOOP;
    RETURN created;
END $$;
COMMENT ON FUNCTION weir.ensure_finished_partitions(date, integer) IS 'Creates missing day partitions of weir.jobs_finished for [from_day, from_day + days), owned like weir.jobs_finished. Runs as its owner. Run by migrate, by the maintenance leader, and by a worker whose completion found no partition.';

-- GRANT EXECUTE on every function of schema weir with one of `names`.
CREATE FUNCTION weir.grant_execute(names text[], grantee text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.pronamespace = 'weir'::regnamespace AND p.proname = ANY (names) LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, grantee);
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.grant_execute(text[], text) IS 'Helper of weir.grant_roles(): GRANT EXECUTE on every function of schema weir with one of the names.';

-- Role membership is shared by every database of the cluster: another
-- database's migrator may grant the same one at the same moment.
CREATE FUNCTION weir.grant_role_membership(role text, member text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_has_role(member, role, 'MEMBER') THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT %I TO %I', role, member);
EXCEPTION WHEN unique_violation THEN
    NULL;
END $$;
COMMENT ON FUNCTION weir.grant_role_membership(text, text) IS 'Helper of weir.grant_roles(): makes member a member of role unless it already is.';

CREATE FUNCTION weir.grant_roles() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    -- Run as their owner, EXECUTE for the roles below only. Names that do
    -- not exist (yet) are skipped.
    definer_functions constant text[] := ARRAY[
        'cancel_job', 'retry_job', 'pause_queue', 'resume_queue',
        'set_queue_limits', 'set_schedule', 'delete_schedule', 'cancel_workflow',
        'notify_queues', 'ensure_finished_partitions'];
    operator_functions constant text[] := ARRAY[
        'cancel_job', 'retry_job', 'pause_queue', 'resume_queue',
        'set_queue_limits', 'set_schedule', 'delete_schedule', 'cancel_workflow'];
    producer_functions constant text[] := ARRAY[
        'enqueue', 'insert_job', 'uuid_v7', 'uuid_v7s', 'default_max_attempts', 'notify_queues'];
    worker_functions constant text[] := ARRAY[
        'notify_queues', 'ensure_finished_partitions',
        'register_worker', 'heartbeat', 'claim', 'complete_job', 'fail_job',
        'complete_jobs', 'snooze_job', 'report_progress', 'unregister_worker'];
    reader_functions constant text[] := ARRAY['explain_job'];
    -- The columns an enqueue sets; every other column takes its default.
    producer_columns constant text[] := ARRAY[
        'id', 'kind', 'queue', 'args', 'priority', 'run_at', 'max_attempts',
        'timeout_seconds', 'unique_key', 'concurrency_key'];
    -- The columns a worker writes about the attempts it runs (and the
    -- maintenance services about attempts they stage or rescue); never
    -- what the job is (kind, args, queue, priority, ...).
    worker_columns constant text[] := ARRAY[
        'state', 'attempt', 'max_attempts', 'run_at', 'started_at', 'finished_at',
        'claim_token', 'node_id', 'deadline', 'progress', 'result', 'errors'];
    reader_tables constant text[] := ARRAY[
        'weir.jobs', 'weir.queue_stats', 'weir.queues', 'weir.nodes',
        'weir.schedules', 'weir.workflows'];
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
