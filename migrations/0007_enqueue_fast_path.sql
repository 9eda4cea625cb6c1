-- The single-row enqueue path, made cheaper (measured with pgbench, 32
-- clients, one enqueue per commit, on 2 cores).
--
-- 1. weir.enqueue in PL/pgSQL instead of SQL, inserting a job without a
--    unique_key itself. As SQL calling weir.insert_job it was planned again
--    on every call (a SQL function that is not inlined, before PostgreSQL
--    18), and a call of the record-returning weir.insert_job goes through a
--    function scan. Interleaved pgbench, 32 clients, medians of 3 rounds:
--    plain INSERT 8.9k/s, this weir.enqueue 8.6k/s (0.97x), the SQL one
--    ~7.3k/s, `SELECT ... FROM weir.insert_job(...)` 6.8k/s. The plain
--    INSERT now lives here; weir.insert_job calls weir.enqueue for jobs
--    without a unique_key and keeps the unique_key path. Same signatures,
--    same behaviour, same comments.
--
-- 2. The wake-up trigger gates the disarm with a transaction-level advisory
--    lock per queue. While one inserting transaction disarms a waiter and
--    has not committed yet, every other insert still sees the waiter armed;
--    before, each of them ran weir.notify_queues (a FOR UPDATE SKIP LOCKED
--    join) only to skip the locked row. Now only the transaction holding
--    the queue's lock does; the others fail pg_try_advisory_xact_lock and
--    go on. With a waiter re-armed every 5 ms: ~0.58x -> ~0.83x of the
--    same INSERT without the trigger. The lock key is (2003134834 =
--    'weir' in ASCII, hashtext(queue)); it is never waited on.
--    A transaction that fails the lock does not notify: the holder is
--    disarming that queue and notifies when it commits (if it aborts, the
--    waiter stays armed and the next insert, or the worker's fallback poll,
--    finds the job, as before with SKIP LOCKED).

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
BEGIN
    IF enqueue.unique_key IS NOT NULL THEN
        RETURN (weir.insert_job(kind, args, queue, priority, run_at, max_attempts,
                                unique_key, timeout_seconds)).job_id;
    END IF;
    INSERT INTO weir.jobs (kind, args, queue, priority, run_at, max_attempts, timeout_seconds)
    VALUES (enqueue.kind,
            coalesce(enqueue.args, '{}'),
            coalesce(enqueue.queue, 'default'),
            coalesce(enqueue.priority, 0),
            coalesce(enqueue.run_at, now()),
            coalesce(enqueue.max_attempts, weir.default_max_attempts()),
            enqueue.timeout_seconds)
    RETURNING id INTO new_id;
    RETURN new_id;
END $$;

CREATE OR REPLACE FUNCTION weir.insert_job(
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

CREATE OR REPLACE FUNCTION weir.jobs_wake_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    -- Usually no row: nobody waits, nothing more to do.
    FOR q IN SELECT DISTINCT w.queue FROM weir.waiters w WHERE w.armed LOOP
        IF EXISTS (SELECT 1 FROM new_jobs n
                   WHERE CASE WHEN n.state = 'available' THEN n.queue ELSE '$stager' END = q)
           AND pg_try_advisory_xact_lock(2003134834, hashtext(q)) THEN
            PERFORM weir.notify_queues(ARRAY[q]);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;

COMMENT ON FUNCTION weir.insert_job(text, jsonb, text, smallint, timestamptz, integer, text, integer) IS 'Enqueues a job and returns its id and whether it was created (false: a live job already held unique_key). The path for jobs with a unique_key (weir.enqueue calls it for those); without one it calls weir.enqueue.';
