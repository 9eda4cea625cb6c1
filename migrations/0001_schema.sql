-- The schema of weir: a background job queue that lives in PostgreSQL.
--
-- Read top to bottom: types and domains (with the two functions the
-- columns' defaults call), tables and their indexes, functions, triggers,
-- views, and last the first day partitions of finished jobs.
--
-- Storage layout (docs/storage.md): weir.jobs is partitioned by state.
-- Non-terminal rows live in weir.jobs_live, a small, hot table that carries
-- the claim index. Terminal rows move (by the completing UPDATE) into
-- weir.jobs_finished, which is range-partitioned by finished_at into one
-- partition per UTC day, so retention drops whole partitions instead of
-- deleting rows.
--
-- NOTIFY channels (docs/sql.md): weir_jobs_available carries a queue name
-- when work arrives where an idle worker waits (weir.wakeups);
-- weir_job_events carries the id of a followed job that changed
-- (weir.followed_jobs).

CREATE SCHEMA IF NOT EXISTS weir;
COMMENT ON SCHEMA weir IS 'weir: a background job queue that lives in PostgreSQL. Insert into weir.jobs or call weir.enqueue(...).';

------------------------------------------------------------------------
-- Types and domains
------------------------------------------------------------------------

CREATE TYPE weir.job_state AS ENUM (
    'pending', 'scheduled', 'available', 'running', 'retryable',
    'succeeded', 'failed', 'cancelled'
);
COMMENT ON TYPE weir.job_state IS 'Lifecycle of a job. Only available jobs are claimed; succeeded, failed and cancelled are terminal. pending is reserved for jobs that wait on other jobs.';

-- The rules on single columns of weir.jobs are domain constraints rather
-- than table checks: PostgreSQL parses and plans a table's CHECK
-- constraints again for every INSERT or UPDATE statement, a domain's once
-- per connection, and every enqueue is such a statement. The constraint
-- names are the ones users see in errors (the REST API and the Rust client
-- translate them). A NULL passes a domain check, so nullable columns need
-- no `IS NULL OR` in their rule.
CREATE DOMAIN weir.job_kind AS text
    CONSTRAINT jobs_kind_not_empty CHECK (length(btrim(VALUE)) > 0 AND length(VALUE) <= 255);
COMMENT ON DOMAIN weir.job_kind IS 'weir.jobs.kind: not blank, at most 255 characters (jobs_kind_not_empty).';

CREATE DOMAIN weir.job_args AS jsonb
    CONSTRAINT jobs_args_is_object CHECK (jsonb_typeof(VALUE) = 'object');
COMMENT ON DOMAIN weir.job_args IS 'weir.jobs.args: a JSON object (jobs_args_is_object).';

CREATE DOMAIN weir.job_errors AS jsonb
    CONSTRAINT jobs_errors_is_array CHECK (jsonb_typeof(VALUE) = 'array');
COMMENT ON DOMAIN weir.job_errors IS 'weir.jobs.errors: a JSON array (jobs_errors_is_array).';

CREATE DOMAIN weir.job_progress AS jsonb
    CONSTRAINT jobs_progress_is_object CHECK (jsonb_typeof(VALUE) = 'object');
COMMENT ON DOMAIN weir.job_progress IS 'weir.jobs.progress: a JSON object (jobs_progress_is_object).';

CREATE DOMAIN weir.job_timeout_seconds AS integer
    CONSTRAINT jobs_timeout_positive CHECK (VALUE > 0);
COMMENT ON DOMAIN weir.job_timeout_seconds IS 'weir.jobs.timeout_seconds: positive (jobs_timeout_positive).';

-- UUIDv7 (PostgreSQL 15 has no generator): 48 bits of Unix milliseconds,
-- version 7, then the RFC variant and random bits from gen_random_uuid(),
-- a strong random source. Assembled as text: gen_random_uuid()::text is
-- xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, and from its 16th character on it
-- keeps 3 random digits, the variant digit V and 15 more; the 12 digits of
-- the time and the version digit go in front (uuid input accepts a hyphen
-- after any group of four digits).
CREATE FUNCTION weir.uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT (lpad(to_hex(floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(gen_random_uuid()::text, 16))::uuid
$$;
COMMENT ON FUNCTION weir.uuid_v7() IS 'A time-ordered UUID (version 7); the default of weir.jobs.id.';

-- The default for max_attempts, changeable per database without a
-- migration: ALTER DATABASE mydb SET weir.default_max_attempts = 5;
CREATE FUNCTION weir.default_max_attempts() RETURNS int
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(nullif(current_setting('weir.default_max_attempts', true), '')::int, 20)
$$;
COMMENT ON FUNCTION weir.default_max_attempts() IS 'Default max_attempts of a new job: the setting weir.default_max_attempts, else 20.';

------------------------------------------------------------------------
-- Tables and indexes
------------------------------------------------------------------------

-- The table checks are the rules that tie several columns together, and
-- those of queue, unique_key and max_attempts: queue and unique_key are
-- indexed, and max_attempts is also read by jobs_attempt_within_max, so
-- moving them to domains later would rebuild indexes or re-check every
-- stored job under an exclusive lock.
CREATE TABLE weir.jobs (
    id                  uuid                     NOT NULL DEFAULT weir.uuid_v7(),
    kind                weir.job_kind            NOT NULL,
    queue               text                     NOT NULL DEFAULT 'default',
    args                weir.job_args            NOT NULL DEFAULT '{}',
    priority            smallint                 NOT NULL DEFAULT 0,
    state               weir.job_state           NOT NULL DEFAULT 'available',
    attempt             integer                  NOT NULL DEFAULT 0,
    max_attempts        integer                  NOT NULL DEFAULT weir.default_max_attempts(),
    run_at              timestamptz              NOT NULL DEFAULT now(),
    created_at          timestamptz              NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    timeout_seconds     weir.job_timeout_seconds,
    unique_key          text,
    claim_token         uuid,
    node_id             uuid,
    deadline            timestamptz,
    progress            weir.job_progress,
    result              jsonb,
    errors              weir.job_errors          NOT NULL DEFAULT '[]',
    cancel_requested_at timestamptz,

    -- Every allowed character is one byte, so length() bounds the bytes
    -- too; a bounded repetition ({1,128}) in the pattern would compile to
    -- a far larger automaton, matched on every insert and every move to a
    -- finished partition.
    CONSTRAINT jobs_queue_name_valid CHECK (queue ~ '^[A-Za-z0-9_.:-]+$' AND length(queue) <= 128),
    CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
    CONSTRAINT jobs_attempt_within_max CHECK (attempt >= 0 AND attempt <= max_attempts),
    CONSTRAINT jobs_unique_key_not_empty CHECK (unique_key IS NULL OR length(unique_key) BETWEEN 1 AND 255),
    CONSTRAINT jobs_running_has_claim CHECK (state <> 'running' OR (claim_token IS NOT NULL AND started_at IS NOT NULL AND attempt >= 1)),
    CONSTRAINT jobs_finished_at_iff_terminal CHECK ((state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
) PARTITION BY LIST (state);
COMMENT ON TABLE weir.jobs IS 'Every job. INSERT here (only kind is required) or call weir.enqueue(...). Partitioned: weir.jobs_live holds non-terminal jobs, weir.jobs_finished the terminal ones by day.';
COMMENT ON COLUMN weir.jobs.id IS 'UUIDv7 (time-ordered), generated by the database.';
COMMENT ON COLUMN weir.jobs.kind IS 'Name of the handler that runs the job, e.g. email.send.';
COMMENT ON COLUMN weir.jobs.queue IS 'Named lane; default unless set. Letters, digits and _ . : - only.';
COMMENT ON COLUMN weir.jobs.args IS 'Arguments of the handler: a JSON object.';
COMMENT ON COLUMN weir.jobs.priority IS 'Higher runs first; 0 by default.';
COMMENT ON COLUMN weir.jobs.state IS 'See the type weir.job_state. A future run_at makes a new job scheduled.';
COMMENT ON COLUMN weir.jobs.attempt IS 'Attempts started (a job handed back at shutdown keeps its count).';
COMMENT ON COLUMN weir.jobs.max_attempts IS 'Attempts allowed before the job fails for good.';
COMMENT ON COLUMN weir.jobs.run_at IS 'Earliest time the job may run; after a failed attempt, when it is retried.';
COMMENT ON COLUMN weir.jobs.created_at IS 'When the job was enqueued.';
COMMENT ON COLUMN weir.jobs.started_at IS 'When the latest attempt started.';
COMMENT ON COLUMN weir.jobs.finished_at IS 'When the job reached a terminal state (the finished partitions are ranged on it).';
COMMENT ON COLUMN weir.jobs.timeout_seconds IS 'Per-attempt timeout; NULL means the task''s (or the worker''s) default.';
COMMENT ON COLUMN weir.jobs.unique_key IS 'At most one non-terminal job holds a given key (global: namespace it, e.g. invoice:42).';
COMMENT ON COLUMN weir.jobs.claim_token IS 'Issued fresh by every claim; every write by a worker about a running job must match it.';
COMMENT ON COLUMN weir.jobs.node_id IS 'Worker node (weir.nodes) that holds the running attempt.';
COMMENT ON COLUMN weir.jobs.deadline IS 'When the running attempt overruns its timeout (database clock).';
COMMENT ON COLUMN weir.jobs.progress IS 'Latest progress report of the running handler: done, total, message, updated_at.';
COMMENT ON COLUMN weir.jobs.result IS 'JSON returned by a successful handler.';
COMMENT ON COLUMN weir.jobs.errors IS 'One entry per failed attempt: {attempt, at, message}.';
COMMENT ON COLUMN weir.jobs.cancel_requested_at IS 'Set when a cancel of a running job was requested.';

-- weir.jobs has no primary key (a unique index on it would have to hold
-- state and finished_at: see docs/storage.md); ids are found through this
-- index, present on every partition.
CREATE INDEX jobs_id_idx ON weir.jobs (id);
COMMENT ON INDEX weir.jobs_id_idx IS 'Look-ups by id, on every partition (weir.jobs has no primary key: see docs/storage.md).';

-- Small and churning: free room on each page lets an update that touches
-- no indexed column (a progress report, a cancel request) stay on its
-- page, and autovacuum runs long before the default thresholds.
CREATE TABLE weir.jobs_live PARTITION OF weir.jobs
    FOR VALUES IN ('pending', 'scheduled', 'available', 'running', 'retryable')
    WITH (fillfactor = 70,
          autovacuum_vacuum_scale_factor = 0.01,
          autovacuum_vacuum_threshold = 1000,
          autovacuum_analyze_scale_factor = 0.02,
          autovacuum_vacuum_cost_delay = 0);
COMMENT ON TABLE weir.jobs_live IS 'Partition of weir.jobs holding non-terminal jobs; small and hot, carries the claim index. Insert through weir.jobs.';

-- The claim (src/db/jobs.rs, claim_available): one statement per queue,
-- ordered exactly as the index, over claimable rows only. The predicate is
-- a literal so that generic plans of prepared statements can use it.
CREATE INDEX jobs_live_claim_available_idx ON weir.jobs_live (queue, priority DESC, run_at, id)
    WHERE state = 'available';
COMMENT ON INDEX weir.jobs_live_claim_available_idx IS 'Serves the claim: one queue, priority DESC, run_at, id, available jobs only.';

CREATE INDEX jobs_live_stage_due_idx ON weir.jobs_live (run_at)
    WHERE state IN ('scheduled', 'retryable');
COMMENT ON INDEX weir.jobs_live_stage_due_idx IS 'Serves the stager: scheduled and retryable jobs by due time.';

-- Unique among non-terminal jobs only: a finished job frees its key. It
-- cannot be an ON CONFLICT target on weir.jobs, hence weir.insert_job.
CREATE UNIQUE INDEX jobs_live_unique_key_idx ON weir.jobs_live (unique_key)
    WHERE unique_key IS NOT NULL;
COMMENT ON INDEX weir.jobs_live_unique_key_idx IS 'At most one non-terminal job per unique_key; a colliding INSERT raises a unique violation here.';

-- The rescuer's two questions about work in flight: the running jobs of a
-- dead node, and running jobs past their deadline. Both partial on
-- state = 'running', so they hold only running jobs.
CREATE INDEX jobs_live_running_node_idx ON weir.jobs_live (node_id)
    WHERE state = 'running';
COMMENT ON INDEX weir.jobs_live_running_node_idx IS 'Running jobs by worker node (rescue, per-node look-ups).';

CREATE INDEX jobs_live_running_deadline_idx ON weir.jobs_live (deadline)
    WHERE state = 'running';
COMMENT ON INDEX weir.jobs_live_running_deadline_idx IS 'Serves the rescuer (src/db/jobs.rs, rescue_orphaned_running): running jobs past their deadline.';

-- Its day partitions (weir.jobs_finished_YYYYMMDD) are made by
-- weir.ensure_finished_partitions, below.
CREATE TABLE weir.jobs_finished PARTITION OF weir.jobs
    FOR VALUES IN ('succeeded', 'failed', 'cancelled')
    PARTITION BY RANGE (finished_at);
COMMENT ON TABLE weir.jobs_finished IS 'Partition of weir.jobs holding terminal jobs, one sub-partition per UTC day (weir.jobs_finished_YYYYMMDD); retention drops old days.';

-- Counts per queue and state without reading the finished rows.
CREATE INDEX jobs_finished_queue_state_idx ON weir.jobs_finished (queue, state, finished_at);
COMMENT ON INDEX weir.jobs_finished_queue_state_idx IS 'Counts of finished jobs per queue and state (weir.queue_stats), and recent throughput.';

-- Queues exist as soon as they are named; a row here only records state
-- that must outlive the jobs, such as pause.
CREATE TABLE weir.queues (
    name        text        PRIMARY KEY,
    paused      boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- The rule of jobs_queue_name_valid.
    CONSTRAINT queues_name_valid CHECK (name ~ '^[A-Za-z0-9_.:-]+$' AND length(name) <= 128)
);
COMMENT ON TABLE weir.queues IS 'Per-queue settings (pause). A queue needs no row to exist.';
COMMENT ON COLUMN weir.queues.name IS 'Queue name.';
COMMENT ON COLUMN weir.queues.paused IS 'True: no node claims from this queue.';
COMMENT ON COLUMN weir.queues.updated_at IS 'When the settings last changed.';

-- Worker nodes register and heartbeat here (one row per process).
CREATE TABLE weir.nodes (
    id            uuid        PRIMARY KEY,
    host          text        NOT NULL,
    pid           integer     NOT NULL,
    queues        jsonb       NOT NULL DEFAULT '{}',
    kinds         text[]      NOT NULL DEFAULT '{}',
    running       integer     NOT NULL DEFAULT 0,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE weir.nodes IS 'Live worker nodes: what they serve ({queue: concurrency}, kinds), running count and last heartbeat (database clock).';
COMMENT ON COLUMN weir.nodes.id IS 'Node id (new for every worker process).';
COMMENT ON COLUMN weir.nodes.host IS 'Host name of the machine.';
COMMENT ON COLUMN weir.nodes.pid IS 'Process id on that host.';
COMMENT ON COLUMN weir.nodes.queues IS 'Queues served: {"queue": concurrency}.';
COMMENT ON COLUMN weir.nodes.kinds IS 'Kinds the node has handlers for.';
COMMENT ON COLUMN weir.nodes.running IS 'Attempts running at the last heartbeat.';
COMMENT ON COLUMN weir.nodes.started_at IS 'When the node registered.';
COMMENT ON COLUMN weir.nodes.heartbeat_at IS 'Last heartbeat (database clock); liveness is judged on it.';

-- Liveness comes from the heartbeat: dead nodes are found by its age.
CREATE INDEX nodes_heartbeat_at_idx ON weir.nodes (heartbeat_at);
COMMENT ON INDEX weir.nodes_heartbeat_at_idx IS 'Serves the rescuer (src/db/nodes.rs, delete_dead): nodes whose heartbeat is older than the dead-after interval.';

-- Idle workers (and the stager) write a wake-up here so that an enqueue
-- notifies only when somebody waits: a notifying transaction takes a
-- cluster-wide lock through its commit's WAL flush, which the ordinary
-- enqueue must not pay. UNLOGGED: after a crash workers simply arm again.
--
-- Every enqueue reads this table, and every arm and disarm leaves a dead
-- row version on its page, which each read steps over until the page is
-- pruned. PostgreSQL prunes a page on access once its free space falls
-- below what the fillfactor reserves: fillfactor 10 has that happen while
-- only a few versions have piled up.
CREATE UNLOGGED TABLE weir.wakeups (
    node_id  uuid    NOT NULL,
    queue    text    NOT NULL,
    armed    boolean NOT NULL DEFAULT true,
    PRIMARY KEY (node_id, queue)
) WITH (fillfactor = 10);
COMMENT ON TABLE weir.wakeups IS 'Wake-ups of idle workers, one per node and queue. An enqueue that finds an armed wake-up for its queue disarms it and sends NOTIFY weir_jobs_available with the queue name as payload. The reserved queue name $stager is the stager waiting for scheduled jobs.';
COMMENT ON COLUMN weir.wakeups.node_id IS 'The idle node.';
COMMENT ON COLUMN weir.wakeups.queue IS 'The queue it waits on ($stager: the stager waits for scheduled jobs).';
COMMENT ON COLUMN weir.wakeups.armed IS 'True until an enqueue notified it; the node re-arms when it is idle again.';

-- Leadership for maintenance services: a row with a TTL, which works
-- through transaction-mode poolers (no session state).
CREATE TABLE weir.leaders (
    name        text        PRIMARY KEY,
    node_id     uuid        NOT NULL,
    elected_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
COMMENT ON TABLE weir.leaders IS 'Maintenance leadership: one row per role; the holder renews expires_at, anyone may take an expired one.';
COMMENT ON COLUMN weir.leaders.name IS 'The role (maintenance).';
COMMENT ON COLUMN weir.leaders.node_id IS 'The node holding it.';
COMMENT ON COLUMN weir.leaders.elected_at IS 'When this node took it.';
COMMENT ON COLUMN weir.leaders.expires_at IS 'End of the lease unless renewed (database clock).';

-- Jobs somebody follows: a request waiting with ?wait, an event stream of
-- a web node, Client::wait of a Rust client. A change to a followed job
-- sends NOTIFY weir_job_events with its id; nobody is notified about jobs
-- nobody follows. UNLOGGED: followers write their rows again after a
-- crash.
--
-- A follower LISTENs on a session whose application_name is
-- 'weir events <node_id>'. The rescuer removes rows older than a minute
-- whose follower has no such session (it died without removing them):
-- while any row exists, every UPDATE of weir.jobs looks for followed jobs
-- among the rows it changed.
CREATE UNLOGGED TABLE weir.followed_jobs (
    job_id     uuid        NOT NULL,
    node_id    uuid        NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, node_id)
);
COMMENT ON TABLE weir.followed_jobs IS 'Jobs somebody follows (waiting requests and event streams of web nodes, waits of Rust clients). Every change of a followed job sends NOTIFY weir_job_events with the job id as payload. The rescuer removes rows older than a minute whose follower has no session named ''weir events <node_id>''.';
COMMENT ON COLUMN weir.followed_jobs.job_id IS 'The followed job.';
COMMENT ON COLUMN weir.followed_jobs.node_id IS 'The follower: one id per web-node process or waiting client, named in the application_name of its LISTEN session.';
COMMENT ON COLUMN weir.followed_jobs.since IS 'When the following began.';

-- Idempotency-Key header of POST /v1/jobs: a repeated key within 24 hours
-- returns the first request's job.
CREATE TABLE weir.idempotency_keys (
    key         text        PRIMARY KEY,
    job_id      uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT idempotency_keys_key_valid CHECK (length(key) BETWEEN 1 AND 255)
);
COMMENT ON TABLE weir.idempotency_keys IS 'Idempotency-Key header values of POST /v1/jobs and the job each created; honoured for 24 hours.';
COMMENT ON COLUMN weir.idempotency_keys.key IS 'The Idempotency-Key header value.';
COMMENT ON COLUMN weir.idempotency_keys.job_id IS 'The job the first request with this key created.';
COMMENT ON COLUMN weir.idempotency_keys.created_at IS 'When the key was first used; honoured for 24 hours.';

------------------------------------------------------------------------
-- Functions
------------------------------------------------------------------------

-- Wakes the idle workers of the given queues: disarms their wake-ups and
-- sends one NOTIFY per queue. Every path that makes jobs available (the
-- insert trigger, weir.enqueue, retries, the workers' stager and
-- hand-backs) asks cheaply whether a wake-up is armed and only then calls
-- this.
--
-- While one transaction disarms a queue's wake-up and has not committed,
-- every other insert into that queue still sees it armed. A
-- transaction-level advisory lock per queue, taken only when an armed
-- wake-up was seen and never waited on, lets only one of them disarm and
-- notify; the others skip the queue at once instead of queueing on the
-- row lock. A skipped queue is notified when the holder commits (if it
-- aborts, the wake-up stays armed for the next insert, or the worker's
-- fallback poll finds the job: NOTIFY is a hint).
CREATE FUNCTION weir.notify_queues(queues text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    n integer := 0;
BEGIN
    FOR q IN SELECT DISTINCT u.q FROM unnest(queues) AS u(q) LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM weir.wakeups w WHERE w.armed AND w.queue = q);
        -- Held to commit, never waited on (key: 'weir' in ASCII, the
        -- queue). Failing it means another transaction is disarming this
        -- queue and notifies when it commits.
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(2003134834, hashtext(q));
        WITH free AS (
            SELECT w.node_id FROM weir.wakeups w
            WHERE w.armed AND w.queue = q
            FOR UPDATE SKIP LOCKED
        )
        UPDATE weir.wakeups w SET armed = false
        FROM free WHERE w.node_id = free.node_id AND w.queue = q AND w.armed;
        IF FOUND THEN
            PERFORM pg_notify('weir_jobs_available', q);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION weir.notify_queues(text[]) IS 'NOTIFY weir_jobs_available (payload: queue name) for each given queue with an armed wake-up, disarming it; a queue another transaction is disarming is skipped (that one notifies on commit). Returns how many queues were notified.';

-- A worker woken for a paused queue does not arm its wake-up again until
-- the pause is lifted, so lifting one must reach workers whose wake-up is
-- not armed: when notify_queues woke nobody, notify anyway. Lifting a
-- pause is rare, so this unconditional NOTIFY costs nothing that matters.
CREATE FUNCTION weir.wake_queue(queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF weir.notify_queues(ARRAY[queue]) = 0 THEN
        PERFORM pg_notify('weir_jobs_available', queue);
    END IF;
END $$;
COMMENT ON FUNCTION weir.wake_queue(text) IS 'NOTIFY weir_jobs_available for the queue, reaching its workers whether their wake-up is armed or not (a worker does not arm on a paused queue). Called when a pause is lifted.';

-- The single-row enqueue, kept cheap. A job without a unique_key is
-- inserted here; one with a key goes through weir.insert_job. PL/pgSQL
-- rather than SQL: a SQL function that is not inlined is planned again on
-- every call.
--
-- A job inserted here is never terminal, so it goes straight into
-- weir.jobs_live: that skips the partition routing of weir.jobs and its
-- statement-level wake-up trigger (statement triggers of a partitioned
-- table fire only for statements on that table). Instead the INSERT's own
-- RETURNING asks the trigger's question in the same plan: is a wake-up
-- armed for the job's queue when the job is available, for the stager
-- ('$stager') when it is scheduled?
CREATE FUNCTION weir.enqueue(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    unique_key text DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    new_id uuid;
    waited text;
BEGIN
    IF enqueue.unique_key IS NOT NULL THEN
        RETURN (weir.insert_job(kind, args, queue, priority, run_at, max_attempts,
                                unique_key, timeout_seconds)).job_id;
    END IF;
    INSERT INTO weir.jobs_live AS j (kind, args, queue, priority, run_at, max_attempts, timeout_seconds)
    VALUES (enqueue.kind,
            coalesce(enqueue.args, '{}'),
            coalesce(enqueue.queue, 'default'),
            coalesce(enqueue.priority, 0),
            coalesce(enqueue.run_at, now()),
            coalesce(enqueue.max_attempts, weir.default_max_attempts()),
            enqueue.timeout_seconds)
    RETURNING j.id,
              (SELECT w.queue FROM weir.wakeups w
               WHERE w.armed
                 AND w.queue = CASE WHEN j.state = 'available' THEN j.queue ELSE '$stager' END
               LIMIT 1)
    INTO new_id, waited;
    IF waited IS NOT NULL THEN
        PERFORM weir.notify_queues(ARRAY[waited]);
    END IF;
    RETURN new_id;
END $$;
COMMENT ON FUNCTION weir.enqueue(text, jsonb, text, smallint, timestamptz, integer, text, integer) IS 'Enqueues a job and returns its id; with a unique_key held by a live job, returns that job''s id. Named arguments work: weir.enqueue(''email.send'', ''{"to":"a@b.c"}'', queue => ''mail'', priority => 5::smallint).';

-- The unique_key path of enqueue: a live job holding the key is returned
-- instead of inserting. jobs_live_unique_key_idx cannot serve ON CONFLICT
-- on weir.jobs, so: look up, insert, and on a unique violation (a racing
-- insert committed first) look up again. Without a key it hands over to
-- weir.enqueue, whose path has no exception block (no subtransaction).
CREATE FUNCTION weir.insert_job(
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    run_at timestamptz DEFAULT NULL,
    max_attempts integer DEFAULT NULL,
    unique_key text DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL,
    OUT job_id uuid,
    OUT created boolean
)
LANGUAGE plpgsql AS $$
BEGIN
    created := true;
    IF insert_job.unique_key IS NULL THEN
        job_id := weir.enqueue(kind, args, queue, priority, run_at, max_attempts,
                               NULL, timeout_seconds);
        RETURN;
    END IF;
    LOOP
        SELECT j.id INTO job_id FROM weir.jobs_live j WHERE j.unique_key = insert_job.unique_key;
        IF FOUND THEN
            created := false;
            RETURN;
        END IF;
        BEGIN
            INSERT INTO weir.jobs (kind, args, queue, priority, run_at, max_attempts, unique_key, timeout_seconds)
            VALUES (insert_job.kind,
                    coalesce(insert_job.args, '{}'),
                    coalesce(insert_job.queue, 'default'),
                    coalesce(insert_job.priority, 0),
                    coalesce(insert_job.run_at, now()),
                    coalesce(insert_job.max_attempts, weir.default_max_attempts()),
                    insert_job.unique_key,
                    insert_job.timeout_seconds)
            RETURNING id INTO job_id;
            RETURN;
        EXCEPTION WHEN unique_violation THEN
            -- A live job with this key committed after our look-up (the
            -- partial unique index is the only unique index a new job can
            -- hit): loop and return that one.
            NULL;
        END;
    END LOOP;
END $$;
COMMENT ON FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer) IS 'Enqueues a job and returns its id and whether it was created (false: a live job already held unique_key). The path for jobs with a unique_key (weir.enqueue calls it for those); without one it calls weir.enqueue.';

-- n ids at once, for a bulk enqueue that asks for its ids before its
-- INSERT: the layout of weir.uuid_v7(), with the clock read once for all
-- of them (they share one millisecond, as ids made within one millisecond
-- do), so each id costs only its random part and its assembly.
CREATE FUNCTION weir.uuid_v7s(n integer) RETURNS uuid[]
LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
DECLARE
    prefix text := lpad(to_hex(floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 12, '0') || '7';
BEGIN
    RETURN ARRAY(SELECT (prefix || substr(gen_random_uuid()::text, 16))::uuid
                 FROM generate_series(1, n));
END $$;
COMMENT ON FUNCTION weir.uuid_v7s(integer) IS 'n time-ordered UUIDs (version 7) sharing one millisecond, as weir.uuid_v7() makes them: the ids a bulk enqueue asks for before its INSERT.';

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

-- Resuming a paused queue updates its row, and the trigger
-- queues_wake_on_unpause wakes its workers; resuming a queue that is not
-- paused wakes nobody (no worker holds back on it).
CREATE FUNCTION weir.resume_queue(queue text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO weir.queues (name, paused) VALUES (queue, false)
    ON CONFLICT (name) DO UPDATE SET paused = false, updated_at = now();
$$;
COMMENT ON FUNCTION weir.resume_queue(text) IS 'Restarts claiming from a paused queue; its workers are woken by the trigger queues_wake_on_unpause (armed wake-ups or not). Idempotent.';

-- Creates the day partitions of weir.jobs_finished covering
-- [from_day, from_day + days). Built standalone then attached, which takes
-- a weaker lock on the parent than CREATE TABLE ... PARTITION OF.
CREATE FUNCTION weir.ensure_finished_partitions(from_day date, days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    d date;
    part text;
    created integer := 0;
BEGIN
    FOR i IN 0 .. days - 1 LOOP
        d := from_day + i;
        part := 'jobs_finished_' || to_char(d, 'YYYYMMDD');
        CONTINUE WHEN to_regclass('weir.' || part) IS NOT NULL;
        EXECUTE format('CREATE TABLE weir.%I (LIKE weir.jobs_finished INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
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
COMMENT ON FUNCTION weir.ensure_finished_partitions(date, integer) IS 'Creates missing day partitions of weir.jobs_finished for [from_day, from_day + days). Run by migrate, by the maintenance leader, and by a worker whose completion found no partition.';

------------------------------------------------------------------------
-- Triggers
------------------------------------------------------------------------

-- BEFORE INSERT, per row but only when run_at is in the future (the WHEN
-- clause is evaluated without calling the function).
CREATE FUNCTION weir.jobs_mark_scheduled() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.state := 'scheduled';
    RETURN NEW;
END $$;
COMMENT ON FUNCTION weir.jobs_mark_scheduled() IS 'Trigger function: a new job whose run_at is in the future becomes scheduled instead of available.';

CREATE TRIGGER jobs_mark_scheduled BEFORE INSERT ON weir.jobs
    FOR EACH ROW WHEN (NEW.state = 'available' AND NEW.run_at > now())
    EXECUTE FUNCTION weir.jobs_mark_scheduled();
COMMENT ON TRIGGER jobs_mark_scheduled ON weir.jobs IS 'Per row, only when run_at is in the future: marks the job scheduled.';

-- AFTER INSERT, once per statement: wakes idle workers of the queues that
-- received available jobs, and the stager for scheduled ones. Some
-- wake-up is nearly always armed (the stager's, idle queues elsewhere),
-- while one armed for what was just inserted is rare: one LIMIT 1 look
-- (no cursor, no aggregate) answers that before anything else is done.
-- weir.enqueue does not come through here (see there).
CREATE FUNCTION weir.jobs_wake_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM weir.wakeups w
    WHERE w.armed
      AND w.queue IN (SELECT CASE WHEN n.state = 'available' THEN n.queue ELSE '$stager' END
                      FROM new_jobs n)
    LIMIT 1;
    IF FOUND THEN
        PERFORM weir.notify_queues(ARRAY(
            SELECT DISTINCT CASE WHEN n.state = 'available' THEN n.queue ELSE '$stager' END
            FROM new_jobs n));
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.jobs_wake_on_insert() IS 'Trigger function: after an INSERT into weir.jobs, notifies armed wake-ups of the queues that received available jobs (and the stager for scheduled ones).';

CREATE TRIGGER jobs_wake_on_insert AFTER INSERT ON weir.jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION weir.jobs_wake_on_insert();
COMMENT ON TRIGGER jobs_wake_on_insert ON weir.jobs IS 'Per statement: NOTIFY weir_jobs_available for queues with an armed wake-up.';

-- Sends NOTIFY weir_job_events (payload: job id) for the followed jobs
-- among the changed rows. The EXISTS check keeps the common case (nobody
-- follows) to one read of a tiny table, and notifications off the hot
-- path. Statement triggers: row-level AFTER UPDATE triggers do not fire
-- for rows that move to another partition (every completion).
CREATE FUNCTION weir.jobs_notify_followers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM weir.followed_jobs) THEN
        PERFORM pg_notify('weir_job_events', c.id::text)
        FROM (SELECT DISTINCT n.id FROM changed n JOIN weir.followed_jobs f ON f.job_id = n.id) c;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.jobs_notify_followers() IS 'Statement trigger: NOTIFY weir_job_events (payload: job id) for each changed job present in weir.followed_jobs.';

-- Updates through the parent (completions, cancels, retries) fire the
-- parent's statement triggers; updates aimed at the live partition
-- (claims, progress, staging, hand-backs) fire the partition's.
CREATE TRIGGER jobs_notify_followers AFTER UPDATE ON weir.jobs
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION weir.jobs_notify_followers();
COMMENT ON TRIGGER jobs_notify_followers ON weir.jobs IS 'Per statement: NOTIFY weir_job_events for followed jobs changed through weir.jobs.';

CREATE TRIGGER jobs_live_notify_followers AFTER UPDATE ON weir.jobs_live
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION weir.jobs_notify_followers();
COMMENT ON TRIGGER jobs_live_notify_followers ON weir.jobs_live IS 'Per statement: NOTIFY weir_job_events for followed jobs changed through weir.jobs_live.';

-- Lifting a pause wakes the queue's workers however it is done:
-- weir.resume_queue, an UPDATE of weir.queues, deleting the row, or
-- truncating the table. These triggers fire only when a paused row is
-- unpaused or deleted, or the table truncated (all rare).
CREATE FUNCTION weir.queues_wake_on_unpause() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- No row triggers fire on TRUNCATE: before it, wake the queues
        -- still paused (their NOTIFYs are sent if it commits).
        PERFORM weir.wake_queue(q.name) FROM weir.queues q WHERE q.paused;
    ELSE
        PERFORM weir.wake_queue(OLD.name);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.queues_wake_on_unpause() IS 'Trigger: wakes the workers of a queue whose pause was lifted (its row updated to paused = false or deleted; before a TRUNCATE, every queue paused then).';

CREATE TRIGGER queues_wake_on_unpause AFTER UPDATE OF paused ON weir.queues
    FOR EACH ROW WHEN (OLD.paused AND NOT NEW.paused)
    EXECUTE FUNCTION weir.queues_wake_on_unpause();
COMMENT ON TRIGGER queues_wake_on_unpause ON weir.queues IS 'Per row, only when a pause is lifted: wakes the workers of the queue.';

CREATE TRIGGER queues_wake_on_delete AFTER DELETE ON weir.queues
    FOR EACH ROW WHEN (OLD.paused)
    EXECUTE FUNCTION weir.queues_wake_on_unpause();
COMMENT ON TRIGGER queues_wake_on_delete ON weir.queues IS 'Per row, only when a paused queue''s row is deleted: wakes the workers of the queue.';

CREATE TRIGGER queues_wake_on_truncate BEFORE TRUNCATE ON weir.queues
    FOR EACH STATEMENT EXECUTE FUNCTION weir.queues_wake_on_unpause();
COMMENT ON TRIGGER queues_wake_on_truncate ON weir.queues IS 'Before a TRUNCATE: wakes the workers of every queue paused then.';

------------------------------------------------------------------------
-- Views
------------------------------------------------------------------------

-- One grouped pass over the live jobs and one over the finished ones, no
-- correlated sub-selects: a plan costed that high crosses jit_above_cost,
-- and JIT compilation would then dominate every read. kind is read as
-- text, so that unserved_kinds is a text[].
CREATE VIEW weir.queue_stats AS
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
COMMENT ON VIEW weir.queue_stats IS 'One row per known queue: paused, jobs per state, oldest available job, and kinds waiting with no live worker (heartbeat within 30 s) serving them on that queue.';
COMMENT ON COLUMN weir.queue_stats.queue IS 'Queue name.';
COMMENT ON COLUMN weir.queue_stats.paused IS 'True when no node claims from it.';
COMMENT ON COLUMN weir.queue_stats.pending IS 'Jobs waiting on other jobs.';
COMMENT ON COLUMN weir.queue_stats.scheduled IS 'Jobs waiting for their run_at.';
COMMENT ON COLUMN weir.queue_stats.available IS 'Jobs ready to be claimed.';
COMMENT ON COLUMN weir.queue_stats.running IS 'Jobs being run.';
COMMENT ON COLUMN weir.queue_stats.retryable IS 'Jobs waiting for their retry backoff.';
COMMENT ON COLUMN weir.queue_stats.succeeded IS 'Finished jobs still retained that succeeded.';
COMMENT ON COLUMN weir.queue_stats.failed IS 'Finished jobs still retained that failed.';
COMMENT ON COLUMN weir.queue_stats.cancelled IS 'Finished jobs still retained that were cancelled.';
COMMENT ON COLUMN weir.queue_stats.oldest_available_at IS 'run_at of the oldest available job.';
COMMENT ON COLUMN weir.queue_stats.oldest_available_age_seconds IS 'Seconds since the oldest available job became due.';
COMMENT ON COLUMN weir.queue_stats.unserved_kinds IS 'Kinds with jobs waiting here that no live worker (heartbeat within 30 s) serves on this queue.';

------------------------------------------------------------------------
-- Day partitions
------------------------------------------------------------------------

-- Yesterday through today + 3, so that jobs can finish from the start; the
-- maintenance leader keeps creating them ahead.
SELECT weir.ensure_finished_partitions((now() AT TIME ZONE 'UTC')::date - 1, 5);
