-- Cheaper work per enqueued row (measured with pgbench, 32 clients, one
-- enqueue per commit, 2 cores, and perf).
--
-- 1. The queue-name check without a bounded repetition. `queue ~
--    '^[A-Za-z0-9_.:-]{1,128}$'` compiles to a large automaton (the
--    `{1,128}` unrolls into ~128 states), and every match allocated a work
--    area sized to it: 200,000 matches took 1.0 s, against 0.08 s for
--    `~ '^[A-Za-z0-9_.:-]+$' AND length(queue) <= 128`, which accepts
--    exactly the same names (every allowed character is one byte). Every
--    inserted job pays this check: enqueue, and again when its completion
--    moves it to a finished partition. Inside weir.enqueue the work area
--    was also freed at the top of the heap at the end of each statement,
--    so malloc gave it back to the kernel and asked for it again on the
--    next call: `brk`/`munmap` took ~15% of the server's CPU per call in
--    the profile. Same constraint names, so the errors (and their
--    translation in the REST API) are unchanged. The new checks are added
--    NOT VALID, so this migration holds its exclusive lock on weir.jobs
--    only for the catalog change; migration 0010 validates the existing
--    rows without blocking enqueues and claims.
--
-- 2. weir.enqueue inserts into weir.jobs_live and wakes waiters itself. A
--    job it inserts is never terminal, so it belongs in jobs_live; going
--    there directly skips the partition routing of weir.jobs and the
--    statement-level wake-up trigger of weir.jobs (statement triggers of a
--    partitioned table fire only for statements on that table). The
--    trigger's machinery (the transition table, the AFTER-trigger queue,
--    a second PL/pgSQL call and its SPI query) cost more than the question
--    it asks; here the question is one sub-select in the INSERT's own
--    RETURNING, in the same plan: is a waiter armed for the job's queue
--    when the job is available, for the stager ('$stager') when it is
--    scheduled? Plain INSERTs into weir.jobs still go through the trigger.
--    weir.insert_job (the unique_key path) is unchanged.
--
-- 3. One wake-up mechanism. The advisory-lock gate of 0007 (only the
--    transaction that takes a queue's lock disarms and notifies it; the
--    others skip it at once instead of queueing on the waiter rows) moves
--    into weir.notify_queues, so the trigger, weir.enqueue and the
--    workers' own calls (stager, hand-backs, retries) share it: they ask
--    "is a waiter armed?" cheaply and, if one is, call weir.notify_queues.
--    A queue's lock is only taken when an armed waiter was seen, so a
--    transaction that merely inserts never keeps another from waking it.

ALTER TABLE weir.jobs
    DROP CONSTRAINT jobs_queue_name_valid,
    ADD CONSTRAINT jobs_queue_name_valid
        CHECK (queue ~ '^[A-Za-z0-9_.:-]+$' AND length(queue) <= 128) NOT VALID;

ALTER TABLE weir.queues
    DROP CONSTRAINT queues_name_valid,
    ADD CONSTRAINT queues_name_valid
        CHECK (name ~ '^[A-Za-z0-9_.:-]+$' AND length(name) <= 128) NOT VALID;

CREATE OR REPLACE FUNCTION weir.enqueue(
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
              (SELECT w.queue FROM weir.waiters w
               WHERE w.armed
                 AND w.queue = CASE WHEN j.state = 'available' THEN j.queue ELSE '$stager' END
               LIMIT 1)
    INTO new_id, waited;
    IF waited IS NOT NULL THEN
        PERFORM weir.notify_queues(ARRAY[waited]);
    END IF;
    RETURN new_id;
END $$;

CREATE OR REPLACE FUNCTION weir.notify_queues(queues text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    n integer := 0;
BEGIN
    FOR q IN SELECT DISTINCT u.q FROM unnest(queues) AS u(q) LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM weir.waiters w WHERE w.armed AND w.queue = q);
        -- Held to commit, never waited on (key: 'weir' in ASCII, the
        -- queue). Failing it means another transaction is disarming this
        -- queue and notifies when it commits (if it aborts, the waiter
        -- stays armed for the next insert or the worker's fallback poll).
        CONTINUE WHEN NOT pg_try_advisory_xact_lock(2003134834, hashtext(q));
        WITH free AS (
            SELECT w.node_id FROM weir.waiters w
            WHERE w.armed AND w.queue = q
            FOR UPDATE SKIP LOCKED
        )
        UPDATE weir.waiters w SET armed = false
        FROM free WHERE w.node_id = free.node_id AND w.queue = q AND w.armed;
        IF FOUND THEN
            PERFORM pg_notify('weir_jobs_available', q);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION weir.notify_queues(text[]) IS 'NOTIFY weir_jobs_available (payload: queue name) for each given queue with an armed waiter, disarming it; a queue another transaction is disarming is skipped (that one notifies on commit). Returns how many queues were notified.';

CREATE OR REPLACE FUNCTION weir.jobs_wake_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Usually nobody waits for what was inserted: one cheap look (0008).
    PERFORM FROM weir.waiters w
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
