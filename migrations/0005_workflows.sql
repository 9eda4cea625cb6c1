-- Workflows (docs/workflows.md): jobs that wait on other jobs.
--
-- A job may name the jobs it depends on (depends_on, ids). While any of
-- them is unfinished it waits in pending; when the last one succeeds it
-- becomes available (or scheduled, if its run_at is still ahead); when
-- one ends failed or cancelled it becomes cancelled, and so do the
-- pending jobs that wait on it, transitively, each with an error naming
-- the dependency that ended it. A workflow is a set of jobs submitted
-- together (weir.create_workflow) under one id, each with a local ref,
-- wired by refs.
--
-- Cost when nobody uses it: nothing on the claim, nothing on an outcome.
-- Release is event-driven by one row trigger on weir.jobs_finished whose
-- WHEN clause reads two columns of the finished row (has_dependents,
-- depends_on): a job with no dependents and no dependencies never calls
-- a function. Waiting jobs are counted, not re-scanned: weir.job_waits
-- holds for each pending job the number of its unfinished dependencies,
-- weir.job_dependents the edges from unfinished jobs to the pending jobs
-- waiting on them; a finished dependency deletes its edges and
-- decrements its dependents' counters, so releasing a job after the
-- last of N dependencies costs the same for any N.
--
-- The counters are small side rows, locked in id order, so that many
-- dependencies finishing in one batch and several batches finishing at
-- once queue briefly on a counter instead of on the jobs' own rows, and
-- never deadlock on each other.

------------------------------------------------------------------------
-- Columns
------------------------------------------------------------------------

CREATE DOMAIN weir.job_ref AS text
    CONSTRAINT jobs_ref_valid CHECK (length(btrim(VALUE)) > 0 AND length(VALUE) <= 255);
COMMENT ON DOMAIN weir.job_ref IS 'weir.jobs.ref: not blank, at most 255 characters (jobs_ref_valid).';

CREATE DOMAIN weir.job_depends_on AS uuid[]
    CONSTRAINT jobs_depends_on_valid CHECK (cardinality(VALUE) BETWEEN 1 AND 10000
                                            AND array_position(VALUE, NULL) IS NULL);
COMMENT ON DOMAIN weir.job_depends_on IS 'weir.jobs.depends_on: 1 to 10000 job ids, none NULL (jobs_depends_on_valid); the column is NULL for a job without dependencies.';

ALTER TABLE weir.jobs
    ADD COLUMN workflow_id uuid,
    ADD COLUMN ref weir.job_ref,
    ADD COLUMN depends_on weir.job_depends_on,
    ADD COLUMN has_dependents boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN weir.jobs.workflow_id IS 'The workflow (weir.workflows) the job was submitted in; NULL for a job enqueued on its own.';
COMMENT ON COLUMN weir.jobs.ref IS 'The job''s name within its workflow (what depends_on refs name at submission).';
COMMENT ON COLUMN weir.jobs.depends_on IS 'Ids of the jobs this job waits on: it stays pending until all succeeded, and is cancelled when one fails or is cancelled. NULL when none.';
COMMENT ON COLUMN weir.jobs.has_dependents IS 'True once some job waited on this one: only such jobs release or cancel others when they finish (set by the database).';

CREATE INDEX jobs_workflow_id_idx ON weir.jobs (workflow_id) WHERE workflow_id IS NOT NULL;
COMMENT ON INDEX weir.jobs_workflow_id_idx IS 'The jobs of one workflow (reads, counts, weir.cancel_workflow).';

------------------------------------------------------------------------
-- Tables
------------------------------------------------------------------------

CREATE TABLE weir.workflows (
    id          uuid        PRIMARY KEY DEFAULT weir.uuid_v7(),
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    job_count   integer     NOT NULL,
    CONSTRAINT workflows_name_valid CHECK (name IS NULL OR length(name) BETWEEN 1 AND 255)
);
COMMENT ON TABLE weir.workflows IS 'Workflows: jobs submitted together by weir.create_workflow; the jobs carry its id in weir.jobs.workflow_id. Its state is derived from them (weir.workflow_stats).';
COMMENT ON COLUMN weir.workflows.id IS 'UUIDv7 (time-ordered).';
COMMENT ON COLUMN weir.workflows.name IS 'Optional label given at submission.';
COMMENT ON COLUMN weir.workflows.created_at IS 'When it was submitted.';
COMMENT ON COLUMN weir.workflows.job_count IS 'How many jobs it was submitted with.';

CREATE TABLE weir.job_waits (
    job_id     uuid    PRIMARY KEY,
    remaining  integer NOT NULL CHECK (remaining > 0)
);
COMMENT ON TABLE weir.job_waits IS 'One row per pending job: how many of its dependencies are unfinished. Written by the database only.';
COMMENT ON COLUMN weir.job_waits.job_id IS 'The pending job.';
COMMENT ON COLUMN weir.job_waits.remaining IS 'Dependencies not finished yet; the job is released when the last one succeeds.';

CREATE TABLE weir.job_dependents (
    parent_id  uuid NOT NULL,
    job_id     uuid NOT NULL,
    PRIMARY KEY (parent_id, job_id)
);
COMMENT ON TABLE weir.job_dependents IS 'Edges from an unfinished job (parent_id) to a pending job waiting on it (job_id); deleted when the parent finishes. Written by the database only.';
COMMENT ON COLUMN weir.job_dependents.parent_id IS 'The unfinished dependency.';
COMMENT ON COLUMN weir.job_dependents.job_id IS 'The pending job waiting on it.';

------------------------------------------------------------------------
-- Waiting, releasing, cancelling
------------------------------------------------------------------------

-- The dependencies of a job as the worker sees them: ref, id, kind and
-- result of each, in depends_on order.
CREATE FUNCTION weir.job_parents(ids uuid[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', p.id, 'kind', p.kind, 'result', p.result)
                              || CASE WHEN p.ref IS NULL THEN '{}'::jsonb
                                      ELSE jsonb_build_object('ref', p.ref) END
                              ORDER BY array_position(ids, p.id)), '[]'::jsonb)
    FROM weir.jobs p WHERE p.id = ANY (ids)
$$;
COMMENT ON FUNCTION weir.job_parents(uuid[]) IS 'The jobs of ids as a JSON array of {ref, id, kind, result}, in the order of ids: what a job''s handler reads of its dependencies.';

-- Makes pending jobs available (scheduled when their run_at is ahead) and
-- wakes the workers of their queues. A pending job that a concurrent
-- cancel moved away raises a serialization failure: then look again,
-- without it.
CREATE FUNCTION weir.release_jobs(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    woken text[];
BEGIN
    LOOP
        BEGIN
            WITH released AS (
                UPDATE weir.jobs_live j
                SET state = CASE WHEN j.run_at > now() THEN 'scheduled'::weir.job_state
                                 ELSE 'available'::weir.job_state END
                WHERE j.id = ANY (ids) AND j.state = 'pending'
                RETURNING CASE WHEN j.state = 'available' THEN j.queue ELSE '$stager' END AS q
            )
            SELECT array_agg(DISTINCT q) INTO woken FROM released;
            EXIT;
        EXCEPTION WHEN serialization_failure THEN
            NULL;
        END;
    END LOOP;
    IF woken IS NOT NULL THEN
        PERFORM weir.notify_queues(woken);
    END IF;
END $$;
COMMENT ON FUNCTION weir.release_jobs(uuid[]) IS 'Makes the given pending jobs available (scheduled if their run_at is ahead) and wakes their queues. Called when their last dependency succeeded.';

-- Cancels the pending jobs that wait, directly or through other pending
-- jobs, on `parent`, which ended failed or cancelled. Each gets an error
-- naming the dependency that ended it. Their counters and edges go first
-- (counters locked in id order, as releases lock them), so the cancels
-- below, which fire weir.jobs_settle_dependents again, find nothing more
-- to do.
CREATE FUNCTION weir.cancel_dependents(parent uuid, parent_ref text, parent_state weir.job_state)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    doomed uuid[];
    via uuid[];
    origin text := parent::text || coalesce(' (' || parent_ref || ')', '');
BEGIN
    WITH RECURSIVE down(job_id, via) AS (
        SELECT d.job_id, d.parent_id FROM weir.job_dependents d WHERE d.parent_id = parent
        UNION
        SELECT d.job_id, d.parent_id FROM down x JOIN weir.job_dependents d ON d.parent_id = x.job_id
    ), one AS (
        SELECT DISTINCT ON (down.job_id) down.job_id, down.via FROM down
        ORDER BY down.job_id, (down.via = parent) DESC
    )
    SELECT array_agg(one.job_id ORDER BY one.job_id), array_agg(one.via ORDER BY one.job_id)
    INTO doomed, via FROM one;
    DELETE FROM weir.job_dependents d WHERE d.parent_id = parent;
    IF doomed IS NULL THEN
        RETURN;
    END IF;
    PERFORM 1 FROM weir.job_waits w WHERE w.job_id = ANY (doomed) ORDER BY w.job_id FOR UPDATE;
    DELETE FROM weir.job_waits w WHERE w.job_id = ANY (doomed);
    DELETE FROM weir.job_dependents d WHERE d.parent_id = ANY (doomed);
    LOOP
        BEGIN
            UPDATE weir.jobs j
            SET state = 'cancelled', finished_at = now(),
                errors = j.errors || jsonb_build_array(jsonb_build_object(
                    'attempt', j.attempt, 'at', now(),
                    'message', CASE WHEN x.via = parent
                                    THEN format('dependency %s ended %s', origin, parent_state)
                                    ELSE format('dependency %s was cancelled: dependency %s ended %s',
                                                x.via, origin, parent_state) END))
            FROM unnest(doomed, via) AS x(id, via)
            WHERE j.id = x.id AND j.state = 'pending';
            EXIT;
        EXCEPTION WHEN serialization_failure THEN
            -- One of them was cancelled by hand meanwhile: again, without it.
            NULL;
        END;
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.cancel_dependents(uuid, text, weir.job_state) IS 'Cancels the pending jobs waiting (transitively) on a job that ended failed or cancelled, each with an error naming the dependency. Called by weir.jobs_settle_dependents.';

-- The jobs with dependents that the current statement finished, staged
-- by a BEFORE trigger as each row arrives in a finished partition, and
-- taken all at once by the first AFTER trigger of the statement (AFTER
-- row triggers fire once the whole statement is done): a batch that
-- finishes many members of one workflow then decrements each waiting
-- job's counter once, by the number of its dependencies in the batch,
-- instead of once per member. Rows live only inside the transaction that
-- stages them (its AFTER triggers delete them), so no one else ever sees
-- one; UNLOGGED, since they never need to survive a crash.
CREATE UNLOGGED TABLE weir.settling_jobs (
    job_id  uuid           NOT NULL,
    ref     text,
    state   weir.job_state NOT NULL
);
COMMENT ON TABLE weir.settling_jobs IS 'Jobs with dependents finished by the current statement, until its AFTER trigger releases or cancels their dependents (transient; written by the database only).';
COMMENT ON COLUMN weir.settling_jobs.job_id IS 'The finished job.';
COMMENT ON COLUMN weir.settling_jobs.ref IS 'Its ref, named in its dependents'' errors if it did not succeed.';
COMMENT ON COLUMN weir.settling_jobs.state IS 'How it ended.';

CREATE FUNCTION weir.jobs_stage_settle() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
BEGIN
    INSERT INTO weir.settling_jobs (job_id, ref, state) VALUES (NEW.id, NEW.ref, NEW.state);
    RETURN NEW;
END $$;
COMMENT ON FUNCTION weir.jobs_stage_settle() IS 'Trigger: stages a finishing job with dependents in weir.settling_jobs for the statement''s AFTER trigger.';

CREATE TRIGGER jobs_stage_settle BEFORE INSERT ON weir.jobs_finished
    FOR EACH ROW WHEN (NEW.has_dependents)
    EXECUTE FUNCTION weir.jobs_stage_settle();
COMMENT ON TRIGGER jobs_stage_settle ON weir.jobs_finished IS 'Per finishing row, only for jobs with dependents: stages it for jobs_settle_dependents.';

-- AFTER INSERT on the finished partitions, per row, only for jobs that
-- have dependents or dependencies (the trigger's WHEN clause). A job
-- reaches a finished partition by the UPDATE that ends it, whatever path
-- ends it (a worker's outcome, weir.complete_job and the other worker
-- functions, a cancel, a rescue), and a row moved by an UPDATE fires
-- the destination's INSERT triggers, not UPDATE ones. The first such
-- trigger of a statement settles every job the statement staged; the
-- others find nothing staged.
CREATE FUNCTION weir.jobs_settle_dependents() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
DECLARE
    succeeded uuid[];
    failed uuid[];
    failed_refs text[];
    failed_states weir.job_state[];
    ready uuid[];
BEGIN
    IF NEW.depends_on IS NOT NULL THEN
        -- It no longer waits (it was cancelled while pending, or ran).
        DELETE FROM weir.job_waits w WHERE w.job_id = NEW.id;
    END IF;
    IF NOT NEW.has_dependents THEN
        RETURN NULL;
    END IF;
    WITH taken AS (DELETE FROM weir.settling_jobs RETURNING job_id, ref, state)
    SELECT array_agg(t.job_id) FILTER (WHERE t.state = 'succeeded'),
           array_agg(t.job_id) FILTER (WHERE t.state <> 'succeeded'),
           array_agg(t.ref) FILTER (WHERE t.state <> 'succeeded'),
           array_agg(t.state) FILTER (WHERE t.state <> 'succeeded')
    INTO succeeded, failed, failed_refs, failed_states FROM taken t;
    IF succeeded IS NOT NULL THEN
        -- Counters locked in id order; each decremented once, by the
        -- number of its dependencies that just succeeded. Those that
        -- reach zero are ready (the final SELECT reads the counters as
        -- they were before the UPDATE).
        PERFORM 1 FROM weir.job_waits w
        WHERE w.job_id IN (SELECT d.job_id FROM weir.job_dependents d WHERE d.parent_id = ANY (succeeded))
        ORDER BY w.job_id FOR UPDATE;
        WITH edges AS (
            DELETE FROM weir.job_dependents d WHERE d.parent_id = ANY (succeeded) RETURNING d.job_id
        ), per AS (
            SELECT edges.job_id, count(*)::integer AS n FROM edges GROUP BY edges.job_id
        ), counted AS (
            UPDATE weir.job_waits w SET remaining = w.remaining - per.n
            FROM per WHERE w.job_id = per.job_id AND w.remaining > per.n
            RETURNING w.job_id
        )
        SELECT array_agg(w.job_id) INTO ready
        FROM weir.job_waits w JOIN per ON per.job_id = w.job_id
        WHERE w.remaining <= per.n;
        IF ready IS NOT NULL THEN
            -- The last dependencies of these: their counters go, they run.
            DELETE FROM weir.job_waits w WHERE w.job_id = ANY (ready);
            PERFORM weir.release_jobs(ready);
        END IF;
    END IF;
    FOR i IN 1 .. coalesce(cardinality(failed), 0) LOOP
        PERFORM weir.cancel_dependents(failed[i], failed_refs[i], failed_states[i]);
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.jobs_settle_dependents() IS 'Trigger: when jobs with dependents finish, releases those whose last dependencies they were (succeeded) or cancels them transitively (failed, cancelled), once per statement.';

CREATE TRIGGER jobs_settle_dependents AFTER INSERT ON weir.jobs_finished
    FOR EACH ROW WHEN (NEW.has_dependents OR NEW.depends_on IS NOT NULL)
    EXECUTE FUNCTION weir.jobs_settle_dependents();
COMMENT ON TRIGGER jobs_settle_dependents ON weir.jobs_finished IS 'Per finished row, only for jobs with dependents or dependencies: releases or cancels the jobs waiting on the jobs the statement finished.';

-- BEFORE INSERT, per row, only for a queued job that names dependencies
-- (a new job, or one sent back by weir.retry_job: it waits again on its
-- dependencies). Each unfinished dependency is marked has_dependents by
-- an UPDATE that also locks it, so that it cannot finish unseen between
-- this look and the commit: its own finishing UPDATE waits for this
-- transaction, and its trigger then sees the edges. A dependency that
-- finished while we waited for its lock raises a serialization failure
-- (the row moved): look again, it is finished now.
--
-- Succeeded dependencies count as met. One that ended failed or cancelled
-- dooms the job: it is inserted pending with cancel_requested_at set and
-- an error naming the dependency, and jobs_cancel_doomed cancels it right
-- after (a BEFORE trigger cannot send a row to another partition).
CREATE FUNCTION weir.jobs_wait_on_dependencies() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
DECLARE
    deps uuid[] := ARRAY(SELECT DISTINCT u.id FROM unnest(NEW.depends_on) AS u(id));
    unfinished uuid[];
    missing uuid;
    bad record;
BEGIN
    IF NEW.id = ANY (deps) THEN
        RAISE EXCEPTION 'invalid depends_on: job % cannot depend on itself', NEW.id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOOP
        BEGIN
            WITH marked AS (
                UPDATE weir.jobs p SET has_dependents = true
                WHERE p.id = ANY (deps) AND p.state NOT IN ('succeeded', 'failed', 'cancelled')
                RETURNING p.id
            )
            SELECT array_agg(marked.id ORDER BY marked.id) INTO unfinished FROM marked;
            EXIT;
        EXCEPTION WHEN serialization_failure THEN
            NULL;
        END;
    END LOOP;
    SELECT u.id INTO missing FROM unnest(deps) AS u(id)
    WHERE NOT EXISTS (SELECT 1 FROM weir.jobs p WHERE p.id = u.id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'invalid depends_on: job % does not exist', missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT p.id, p.ref, p.state INTO bad FROM weir.jobs p
    WHERE p.id = ANY (deps) AND p.state IN ('failed', 'cancelled')
    ORDER BY p.id LIMIT 1;
    IF FOUND THEN
        NEW.state := 'pending';
        NEW.cancel_requested_at := now();
        NEW.errors := NEW.errors || jsonb_build_array(jsonb_build_object(
            'attempt', NEW.attempt, 'at', now(),
            'message', format('dependency %s%s ended %s', bad.id,
                              coalesce(' (' || bad.ref || ')', ''), bad.state)));
        RETURN NEW;
    END IF;
    IF unfinished IS NOT NULL THEN
        NEW.state := 'pending';
        INSERT INTO weir.job_waits (job_id, remaining) VALUES (NEW.id, cardinality(unfinished))
        ON CONFLICT (job_id) DO UPDATE SET remaining = EXCLUDED.remaining;
        INSERT INTO weir.job_dependents (parent_id, job_id)
        SELECT u.id, NEW.id FROM unnest(unfinished) AS u(id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION weir.jobs_wait_on_dependencies() IS 'Trigger: a new (or retried) job with depends_on waits in pending while a dependency is unfinished, runs at once when all succeeded, and is cancelled when one ended failed or cancelled. Raises 23503 for an unknown dependency.';

CREATE TRIGGER jobs_wait_on_dependencies BEFORE INSERT ON weir.jobs
    FOR EACH ROW WHEN (NEW.depends_on IS NOT NULL AND NEW.state IN ('available', 'scheduled'))
    EXECUTE FUNCTION weir.jobs_wait_on_dependencies();
COMMENT ON TRIGGER jobs_wait_on_dependencies ON weir.jobs IS 'Per row, only for a queued job with depends_on: pending while a dependency is unfinished.';

CREATE FUNCTION weir.jobs_cancel_doomed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, weir, pg_temp AS $$
BEGIN
    UPDATE weir.jobs SET state = 'cancelled', finished_at = now()
    WHERE id = NEW.id AND state = 'pending';
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.jobs_cancel_doomed() IS 'Trigger: cancels a job inserted pending with a cancel already requested (a dependency of it had failed or been cancelled).';

CREATE TRIGGER jobs_cancel_doomed AFTER INSERT ON weir.jobs_live
    FOR EACH ROW WHEN (NEW.state = 'pending' AND NEW.cancel_requested_at IS NOT NULL)
    EXECUTE FUNCTION weir.jobs_cancel_doomed();
COMMENT ON TRIGGER jobs_cancel_doomed ON weir.jobs_live IS 'Per row, only for a pending job whose dependency had already failed: cancels it.';

------------------------------------------------------------------------
-- Enqueue with dependencies
------------------------------------------------------------------------

-- weir.enqueue and weir.insert_job as in the first migration, with
-- depends_on: an empty array means none. The dependencies are handled by
-- the trigger jobs_wait_on_dependencies, so a plain INSERT naming
-- depends_on behaves the same.
DROP FUNCTION weir.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, integer);
DROP FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer);

CREATE FUNCTION weir.enqueue(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    unique_key text DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL,
    depends_on uuid[] DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    waited text;
BEGIN
    IF enqueue.unique_key IS NOT NULL THEN
        RETURN (weir.insert_job(kind, args, queue, priority, run_at, max_attempts,
                                unique_key, timeout_seconds, depends_on)).job_id;
    END IF;
    INSERT INTO weir.jobs_live AS j (kind, args, queue, priority, run_at, max_attempts,
                                     timeout_seconds, depends_on)
    VALUES (enqueue.kind,
            coalesce(enqueue.args, '{}'),
            coalesce(enqueue.queue, 'default'),
            coalesce(enqueue.priority, 0),
            coalesce(enqueue.run_at, now()),
            coalesce(enqueue.max_attempts, weir.default_max_attempts()),
            enqueue.timeout_seconds,
            nullif(enqueue.depends_on, '{}'))
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
COMMENT ON FUNCTION weir.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[]) IS 'Enqueues a job and returns its id; with a unique_key held by a live job, returns that job''s id. depends_on: ids of jobs it waits on (pending until all succeeded; cancelled when one failed or was cancelled). Named arguments work: weir.enqueue(''email.send'', ''{"to":"a@b.c"}'', queue => ''mail'', priority => 5::smallint).';

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
    OUT job_id uuid,
    OUT created boolean
)
LANGUAGE plpgsql AS $$
BEGIN
    created := true;
    IF insert_job.unique_key IS NULL THEN
        job_id := weir.enqueue(kind, args, queue, priority, run_at, max_attempts,
                               NULL, timeout_seconds, depends_on);
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
                                   timeout_seconds, depends_on)
            VALUES (insert_job.kind,
                    coalesce(insert_job.args, '{}'),
                    coalesce(insert_job.queue, 'default'),
                    coalesce(insert_job.priority, 0),
                    coalesce(insert_job.run_at, now()),
                    coalesce(insert_job.max_attempts, weir.default_max_attempts()),
                    insert_job.unique_key,
                    insert_job.timeout_seconds,
                    nullif(insert_job.depends_on, '{}'))
            RETURNING id INTO job_id;
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            -- A live job with this key committed after our look-up: loop
            -- and return that one.
            NULL;
        END;
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer, uuid[]) IS 'Enqueues a job and returns its id and whether it was created (false: a live job already held unique_key). The path for jobs with a unique_key (weir.enqueue calls it for those); without one it calls weir.enqueue.';

------------------------------------------------------------------------
-- Workflows
------------------------------------------------------------------------

-- One message for every way a workflow's job list can be wrong.
CREATE FUNCTION weir.invalid_workflow(message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invalid workflow: %', message USING ERRCODE = 'invalid_parameter_value';
END $$;
COMMENT ON FUNCTION weir.invalid_workflow(text) IS 'Raises 22023 with the message ''invalid workflow: ...''.';

-- Submits a workflow: all of its jobs or none. jobs is a JSON array of 1
-- to 1000 objects {"ref", "kind", "args", "queue", "priority", "run_at",
-- "max_attempts", "timeout_seconds", "depends_on": [refs]} (ref and kind
-- required). Refs are unique within the workflow, and depends_on names
-- refs of the same workflow: an unknown ref, a duplicate ref or a cycle
-- is refused (22023) before anything is written.
--
-- Cycles are found by Kahn's algorithm over the refs' positions: the
-- edges sorted by dependency with an offset array, so the loop is linear
-- in jobs plus edges. Every job of a workflow is new, so none of its
-- dependencies can be finished: jobs with dependencies are inserted
-- pending with their counters and edges, the others as queued jobs.
CREATE FUNCTION weir.create_workflow(name text, jobs jsonb) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    wf uuid := weir.uuid_v7();
    bad text;
    e_child integer[];
    first_edge integer[];
    indeg integer[];
    ready integer[];
    head integer := 1;
    tail integer := 0;
    v integer;
    c integer;
BEGIN
    IF jobs IS NULL OR jsonb_typeof(jobs) <> 'array' THEN
        PERFORM weir.invalid_workflow('jobs must be a JSON array');
    END IF;
    n := jsonb_array_length(jobs);
    IF n < 1 OR n > 1000 THEN
        PERFORM weir.invalid_workflow(format('a workflow holds 1 to 1000 jobs, not %s', n));
    END IF;
    IF name IS NOT NULL AND (length(name) < 1 OR length(name) > 255) THEN
        PERFORM weir.invalid_workflow('name must be 1 to 255 characters');
    END IF;

    CREATE TEMP TABLE IF NOT EXISTS pg_temp.weir_workflow_jobs (
        pos integer PRIMARY KEY, ref text NOT NULL, job jsonb NOT NULL, id uuid NOT NULL
    ) ON COMMIT DROP;
    TRUNCATE pg_temp.weir_workflow_jobs;

    SELECT format('job %s is not an object with a "ref" and a "kind"', t.pos) INTO bad
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(job, pos)
    WHERE jsonb_typeof(t.job) <> 'object'
       OR jsonb_typeof(t.job -> 'ref') IS DISTINCT FROM 'string'
       OR jsonb_typeof(t.job -> 'kind') IS DISTINCT FROM 'string'
    LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;
    SELECT format('job %s (%s) has an unknown field "%s"', t.pos, t.job ->> 'ref', k.key) INTO bad
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(job, pos), jsonb_object_keys(t.job) AS k(key)
    WHERE k.key NOT IN ('ref', 'kind', 'args', 'queue', 'priority', 'run_at', 'max_attempts',
                        'timeout_seconds', 'depends_on')
    LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;
    SELECT format('ref "%s" is used by more than one job', t.job ->> 'ref') INTO bad
    FROM jsonb_array_elements(jobs) AS t(job)
    GROUP BY t.job ->> 'ref' HAVING count(*) > 1 LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;
    SELECT format('job "%s": depends_on must be an array of refs', t.job ->> 'ref') INTO bad
    FROM jsonb_array_elements(jobs) AS t(job)
    WHERE t.job ? 'depends_on' AND jsonb_typeof(t.job -> 'depends_on') <> 'null'
      AND (jsonb_typeof(t.job -> 'depends_on') <> 'array'
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(t.job -> 'depends_on') d(r)
                      WHERE jsonb_typeof(d.r) <> 'string'))
    LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;

    -- Ids ascending in submission order, so that reading a workflow's
    -- jobs by id lists them as submitted.
    INSERT INTO pg_temp.weir_workflow_jobs (pos, ref, job, id)
    SELECT t.pos, t.job ->> 'ref', t.job, ids.id
    FROM jsonb_array_elements(jobs) WITH ORDINALITY AS t(job, pos)
    JOIN (SELECT u.id, row_number() OVER (ORDER BY u.id) AS pos
          FROM unnest(weir.uuid_v7s(n)) AS u(id)) ids ON ids.pos = t.pos;

    -- Edges by position: (dependency, dependent), distinct.
    SELECT format('job "%s" depends on "%s", which is not a ref of this workflow', j.ref, d.r) INTO bad
    FROM pg_temp.weir_workflow_jobs j,
         jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.job -> 'depends_on') = 'array'
                                        THEN j.job -> 'depends_on' ELSE '[]' END) AS d(r)
    WHERE NOT EXISTS (SELECT 1 FROM pg_temp.weir_workflow_jobs p WHERE p.ref = d.r)
    LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.weir_workflow_edges (
        parent integer NOT NULL, child integer NOT NULL, PRIMARY KEY (child, parent)
    ) ON COMMIT DROP;
    CREATE INDEX IF NOT EXISTS weir_workflow_edges_parent ON pg_temp.weir_workflow_edges (parent);
    TRUNCATE pg_temp.weir_workflow_edges;
    INSERT INTO pg_temp.weir_workflow_edges (parent, child)
    SELECT DISTINCT p.pos, j.pos
    FROM pg_temp.weir_workflow_jobs j,
         jsonb_array_elements_text(CASE WHEN jsonb_typeof(j.job -> 'depends_on') = 'array'
                                        THEN j.job -> 'depends_on' ELSE '[]' END) AS d(r)
    JOIN pg_temp.weir_workflow_jobs p ON p.ref = d.r;
    SELECT format('job "%s" depends on itself', j.ref) INTO bad
    FROM pg_temp.weir_workflow_edges e JOIN pg_temp.weir_workflow_jobs j ON j.pos = e.child
    WHERE e.parent = e.child LIMIT 1;
    IF FOUND THEN
        PERFORM weir.invalid_workflow(bad);
    END IF;

    -- Kahn's algorithm: e_child holds the dependents of position p at
    -- first_edge[p] .. first_edge[p + 1] - 1; indeg counts dependencies.
    e_child := ARRAY(SELECT e.child FROM pg_temp.weir_workflow_edges e ORDER BY e.parent, e.child);
    first_edge := ARRAY(
        SELECT 1 + coalesce(sum(coalesce(c.cnt, 0)) OVER (ORDER BY g.i ROWS BETWEEN UNBOUNDED PRECEDING
                                                                           AND 1 PRECEDING), 0)::integer
        FROM generate_series(1, n + 1) AS g(i)
        LEFT JOIN (SELECT e.parent, count(*) AS cnt FROM pg_temp.weir_workflow_edges e GROUP BY e.parent) c
               ON c.parent = g.i
        ORDER BY g.i);
    indeg := ARRAY(
        SELECT coalesce(c.cnt, 0)::integer
        FROM generate_series(1, n) AS g(i)
        LEFT JOIN (SELECT e.child, count(*) AS cnt FROM pg_temp.weir_workflow_edges e GROUP BY e.child) c
               ON c.child = g.i
        ORDER BY g.i);
    ready := array_fill(0, ARRAY[n]);
    FOR i IN 1 .. n LOOP
        IF indeg[i] = 0 THEN
            tail := tail + 1;
            ready[tail] := i;
        END IF;
    END LOOP;
    WHILE head <= tail LOOP
        v := ready[head];
        head := head + 1;
        FOR k IN first_edge[v] .. first_edge[v + 1] - 1 LOOP
            c := e_child[k];
            indeg[c] := indeg[c] - 1;
            IF indeg[c] = 0 THEN
                tail := tail + 1;
                ready[tail] := c;
            END IF;
        END LOOP;
    END LOOP;
    IF tail < n THEN
        SELECT string_agg(format('"%s"', j.ref), ', ' ORDER BY j.pos) INTO bad
        FROM pg_temp.weir_workflow_jobs j WHERE indeg[j.pos] > 0;
        PERFORM weir.invalid_workflow(format('depends_on has a cycle (through %s)', bad));
    END IF;

    INSERT INTO weir.workflows (id, name, job_count) VALUES (wf, create_workflow.name, n);
    INSERT INTO weir.jobs (id, kind, args, queue, priority, run_at, max_attempts, timeout_seconds,
                           workflow_id, ref, depends_on, state, has_dependents)
    SELECT j.id,
           j.job ->> 'kind',
           coalesce(j.job -> 'args', '{}'),
           coalesce(j.job ->> 'queue', 'default'),
           coalesce((j.job ->> 'priority')::smallint, 0),
           coalesce((j.job ->> 'run_at')::timestamptz, now()),
           coalesce((j.job ->> 'max_attempts')::integer, weir.default_max_attempts()),
           (j.job ->> 'timeout_seconds')::integer,
           wf, j.ref,
           (SELECT array_agg(p.id ORDER BY p.pos) FROM pg_temp.weir_workflow_edges e
            JOIN pg_temp.weir_workflow_jobs p ON p.pos = e.parent WHERE e.child = j.pos),
           CASE WHEN EXISTS (SELECT 1 FROM pg_temp.weir_workflow_edges e WHERE e.child = j.pos)
                THEN 'pending'::weir.job_state ELSE 'available'::weir.job_state END,
           EXISTS (SELECT 1 FROM pg_temp.weir_workflow_edges e WHERE e.parent = j.pos)
    FROM pg_temp.weir_workflow_jobs j
    ORDER BY j.pos;
    INSERT INTO weir.job_waits (job_id, remaining)
    SELECT j.id, count(*) FROM pg_temp.weir_workflow_edges e
    JOIN pg_temp.weir_workflow_jobs j ON j.pos = e.child GROUP BY j.id;
    INSERT INTO weir.job_dependents (parent_id, job_id)
    SELECT p.id, j.id FROM pg_temp.weir_workflow_edges e
    JOIN pg_temp.weir_workflow_jobs p ON p.pos = e.parent
    JOIN pg_temp.weir_workflow_jobs j ON j.pos = e.child;
    RETURN wf;
END $$;
COMMENT ON FUNCTION weir.create_workflow(text, jsonb) IS 'Submits a workflow, all or none, and returns its id. jobs: a JSON array of 1 to 1000 {"ref", "kind", "args", "queue", "priority", "run_at", "max_attempts", "timeout_seconds", "depends_on": [refs]}. Raises 22023 for a duplicate ref, an unknown ref, a cycle or a malformed job.';

-- Cancels every job of the workflow that is not finished: queued and
-- pending ones at once, running ones by a cancel request (their workers
-- stop them). Pending jobs are cancelled with the others, so the
-- settle trigger of a cancelled member finds them already finished.
CREATE FUNCTION weir.cancel_workflow(workflow uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    queued integer;
    running integer;
BEGIN
    PERFORM 1 FROM weir.workflows w WHERE w.id = workflow;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'workflow % not found', workflow USING ERRCODE = 'no_data_found';
    END IF;
    LOOP
        BEGIN
            UPDATE weir.jobs j SET state = 'cancelled', finished_at = now()
            WHERE j.workflow_id = workflow
              AND j.state IN ('pending', 'scheduled', 'available', 'retryable');
            GET DIAGNOSTICS queued = ROW_COUNT;
            UPDATE weir.jobs_live j SET cancel_requested_at = coalesce(j.cancel_requested_at, now())
            WHERE j.workflow_id = workflow AND j.state = 'running';
            GET DIAGNOSTICS running = ROW_COUNT;
            EXIT;
        EXCEPTION WHEN serialization_failure THEN
            -- A member finished while we waited for its row: again.
            NULL;
        END;
    END LOOP;
    RETURN queued + running;
END $$;
COMMENT ON FUNCTION weir.cancel_workflow(uuid) IS 'Cancels every unfinished job of a workflow (running ones by a cancel request, as weir.cancel_job does) and returns how many. Raises P0002 for an unknown workflow.';

-- A workflow's jobs counted per state, their progress summed, and its
-- state: running while any job is unfinished, else succeeded when all
-- succeeded, else failed.
CREATE VIEW weir.workflow_stats AS
SELECT w.id, w.name, w.created_at, w.job_count,
       CASE WHEN count(j.id) FILTER (WHERE j.state NOT IN ('succeeded', 'failed', 'cancelled')) > 0
            THEN 'running'
            WHEN count(j.id) FILTER (WHERE j.state = 'succeeded') = count(j.id) THEN 'succeeded'
            ELSE 'failed' END AS state,
       count(j.id) FILTER (WHERE j.state = 'pending') AS pending,
       count(j.id) FILTER (WHERE j.state = 'scheduled') AS scheduled,
       count(j.id) FILTER (WHERE j.state = 'available') AS available,
       count(j.id) FILTER (WHERE j.state = 'running') AS running,
       count(j.id) FILTER (WHERE j.state = 'retryable') AS retryable,
       count(j.id) FILTER (WHERE j.state = 'succeeded') AS succeeded,
       count(j.id) FILTER (WHERE j.state = 'failed') AS failed,
       count(j.id) FILTER (WHERE j.state = 'cancelled') AS cancelled,
       coalesce(sum((j.progress ->> 'done')::float8), 0) AS progress_done,
       coalesce(sum((j.progress ->> 'total')::float8), 0) AS progress_total,
       max(j.finished_at) FILTER (WHERE j.state IN ('succeeded', 'failed', 'cancelled')) AS last_finished_at
FROM weir.workflows w
LEFT JOIN weir.jobs j ON j.workflow_id = w.id
GROUP BY w.id;
COMMENT ON VIEW weir.workflow_stats IS 'One row per workflow: its derived state (running, succeeded, failed), jobs per state, summed progress (done, total) and when its last job finished.';
COMMENT ON COLUMN weir.workflow_stats.id IS 'Workflow id.';
COMMENT ON COLUMN weir.workflow_stats.name IS 'Its label, if given.';
COMMENT ON COLUMN weir.workflow_stats.created_at IS 'When it was submitted.';
COMMENT ON COLUMN weir.workflow_stats.job_count IS 'How many jobs it was submitted with.';
COMMENT ON COLUMN weir.workflow_stats.state IS 'running while any job is unfinished, else succeeded when all succeeded, else failed.';
COMMENT ON COLUMN weir.workflow_stats.pending IS 'Jobs waiting on dependencies.';
COMMENT ON COLUMN weir.workflow_stats.scheduled IS 'Jobs waiting for their run_at.';
COMMENT ON COLUMN weir.workflow_stats.available IS 'Jobs ready to be claimed.';
COMMENT ON COLUMN weir.workflow_stats.running IS 'Jobs being run.';
COMMENT ON COLUMN weir.workflow_stats.retryable IS 'Jobs waiting for their retry backoff.';
COMMENT ON COLUMN weir.workflow_stats.succeeded IS 'Jobs that succeeded.';
COMMENT ON COLUMN weir.workflow_stats.failed IS 'Jobs that failed.';
COMMENT ON COLUMN weir.workflow_stats.cancelled IS 'Jobs cancelled (by hand, or because a dependency failed).';
COMMENT ON COLUMN weir.workflow_stats.progress_done IS 'Sum of the jobs'' progress done.';
COMMENT ON COLUMN weir.workflow_stats.progress_total IS 'Sum of the jobs'' progress total.';
COMMENT ON COLUMN weir.workflow_stats.last_finished_at IS 'When its last finished job finished.';

------------------------------------------------------------------------
-- The external worker's claim, with parents
------------------------------------------------------------------------

-- As in the worker API's migration, with parents filled for jobs that
-- have dependencies (read only for those: the others pay a NULL test).
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
    RETURNING j.id, j.kind::text, j.args::jsonb, j.attempt, j.claim_token, j.deadline,
              CASE WHEN j.depends_on IS NULL THEN '[]'::jsonb ELSE weir.job_parents(j.depends_on) END;
END $$;
COMMENT ON FUNCTION weir.claim(uuid, text, text[], integer) IS 'Claims up to max (1 to 1000) available jobs of queue whose kind is in kinds for the node, unless the queue is paused. Each becomes running with attempt + 1, a fresh claim_token (pass it to every report about the job) and a deadline. parents: the jobs it depends on, [{ref, id, kind, result}] (empty when none). Raises P0002 for an unknown node.';
