-- Schedules (cron): a named schedule enqueues a job of its kind at every
-- tick of its cron expression, in its IANA time zone.
--
-- SQL cannot parse cron, so the work is split:
--   * weir.set_schedule checks what SQL can check (5 or 6 fields of cron
--     characters, a time zone PostgreSQL knows, the job's fields) and
--     leaves next_run_at NULL when the timing changed;
--   * the scheduler (run by the maintenance leader, src/maintenance/)
--     parses the expression with a cron library, fills next_run_at, or
--     records why it cannot in `error` (the schedule then stays idle
--     until it is set again);
--   * the REST API, the CLI and the Rust client parse the expression
--     before they call weir.set_schedule, so they refuse a bad one at once.
--
-- Exactly once per tick: the scheduler advances next_run_at with a
-- compare-and-set (WHERE next_run_at = the value it read) in the same
-- transaction as the enqueue, so of two schedulers that both saw a tick
-- due, the second finds next_run_at moved and enqueues nothing; a
-- scheduler stopped mid-way rolls back both. The job's unique_key
-- `schedule:<name>:<tick>` names the tick it was enqueued for.

CREATE TABLE weir.schedules (
    name             text                     NOT NULL PRIMARY KEY,
    cron             text                     NOT NULL,
    timezone         text                     NOT NULL DEFAULT 'UTC',
    kind             weir.job_kind            NOT NULL,
    args             weir.job_args            NOT NULL DEFAULT '{}',
    queue            text                     NOT NULL DEFAULT 'default',
    priority         smallint                 NOT NULL DEFAULT 0,
    max_attempts     integer,
    timeout_seconds  weir.job_timeout_seconds,
    paused           boolean                  NOT NULL DEFAULT false,
    catch_up         text                     NOT NULL DEFAULT 'latest',
    next_run_at      timestamptz,
    last_enqueued_at timestamptz,
    last_job_id      uuid,
    error            text,
    created_at       timestamptz              NOT NULL DEFAULT now(),
    updated_at       timestamptz              NOT NULL DEFAULT now(),
    -- The name is part of every tick's unique_key (at most 255
    -- characters) and of the REST path.
    CONSTRAINT schedules_name_valid CHECK (name ~ '^[A-Za-z0-9_.:-]+$' AND length(name) <= 128),
    CONSTRAINT schedules_queue_name_valid CHECK (queue ~ '^[A-Za-z0-9_.:-]+$' AND length(queue) <= 128),
    CONSTRAINT schedules_max_attempts_positive CHECK (max_attempts IS NULL OR max_attempts >= 1),
    CONSTRAINT schedules_catch_up_valid CHECK (catch_up IN ('latest', 'none'))
);
COMMENT ON TABLE weir.schedules IS 'Cron schedules: each tick enqueues one job (unique_key schedule:<name>:<tick>). Write with weir.set_schedule / weir.delete_schedule.';
COMMENT ON COLUMN weir.schedules.name IS 'The key: 1 to 128 letters, digits, _ . : - (part of every tick''s unique_key).';
COMMENT ON COLUMN weir.schedules.kind IS 'Kind of the job each tick enqueues.';
COMMENT ON COLUMN weir.schedules.args IS 'Args of the job each tick enqueues: a JSON object.';
COMMENT ON COLUMN weir.schedules.queue IS 'Queue of the job each tick enqueues.';
COMMENT ON COLUMN weir.schedules.priority IS 'Priority of the job each tick enqueues.';
COMMENT ON COLUMN weir.schedules.timeout_seconds IS 'timeout_seconds of each job; NULL: the task''s or the worker''s default.';
COMMENT ON COLUMN weir.schedules.created_at IS 'When the schedule was first set.';
COMMENT ON COLUMN weir.schedules.updated_at IS 'When the schedule was last set.';
COMMENT ON COLUMN weir.schedules.cron IS '5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first).';
COMMENT ON COLUMN weir.schedules.timezone IS 'IANA time zone the cron expression is read in; daylight saving time follows the cron library (a time skipped by spring forward runs right after the gap, a time repeated by fall back runs once).';
COMMENT ON COLUMN weir.schedules.max_attempts IS 'max_attempts of each job; NULL: the default.';
COMMENT ON COLUMN weir.schedules.paused IS 'A paused schedule enqueues nothing; resuming it starts from the next tick.';
COMMENT ON COLUMN weir.schedules.catch_up IS 'Ticks missed while no scheduler ran: latest (enqueue the latest of them) or none.';
COMMENT ON COLUMN weir.schedules.next_run_at IS 'The next tick; NULL until the scheduler has read a new or changed expression (or when error says it cannot).';
COMMENT ON COLUMN weir.schedules.last_enqueued_at IS 'When the scheduler last enqueued a tick of this schedule.';
COMMENT ON COLUMN weir.schedules.last_job_id IS 'The job the last enqueued tick made.';
COMMENT ON COLUMN weir.schedules.error IS 'Why the scheduler cannot compute the next tick (a cron expression or time zone the cron library refuses); cleared by weir.set_schedule.';

-- The scheduler's question: the earliest next tick of a schedule that runs.
CREATE INDEX schedules_next_run_at_idx ON weir.schedules (next_run_at) WHERE NOT paused;
COMMENT ON INDEX weir.schedules_next_run_at_idx IS 'The scheduler reads due schedules and the earliest next tick.';

-- Creates or replaces a schedule. The timing restarts from now (next_run_at
-- NULL) when the expression or the time zone changed, or a paused schedule
-- is resumed; otherwise the next tick is kept, so that re-declaring a
-- schedule at every start (as workers do) neither skips nor repeats one.
-- Wakes the maintenance leader (its wake-up `$stager`), which schedules
-- the next tick.
CREATE FUNCTION weir.set_schedule(
    name text,
    cron text,
    kind text,
    args jsonb DEFAULT '{}',
    queue text DEFAULT 'default',
    priority smallint DEFAULT 0,
    max_attempts integer DEFAULT NULL,
    timeout_seconds integer DEFAULT NULL,
    timezone text DEFAULT 'UTC',
    paused boolean DEFAULT false,
    catch_up text DEFAULT 'latest'
) RETURNS SETOF weir.schedules
LANGUAGE plpgsql AS $$
DECLARE
    fields text[];
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z0-9_.:-]+$' OR length(name) > 128 THEN
        RAISE EXCEPTION 'schedule name must be 1 to 128 characters of letters, digits, ''_'', ''.'', '':'' or ''-'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    fields := regexp_split_to_array(btrim(coalesce(cron, '')), '\s+');
    IF btrim(coalesce(cron, '')) = '' OR array_length(fields, 1) NOT IN (5, 6) THEN
        RAISE EXCEPTION 'cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), not %: %',
            CASE WHEN btrim(coalesce(cron, '')) = '' THEN 0 ELSE array_length(fields, 1) END, quote_literal(coalesce(cron, ''))
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(fields) f WHERE f !~ '^[0-9A-Za-z*,/?#-]+$') THEN
        RAISE EXCEPTION 'cron expression % has characters cron does not use (digits, names, * , - / ? # L W)',
            quote_literal(cron) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF timezone IS NULL OR NOT EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = set_schedule.timezone) THEN
        RAISE EXCEPTION 'unknown time zone %: use an IANA name such as Europe/Berlin or UTC',
            quote_literal(coalesce(timezone, '')) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF catch_up IS NULL OR catch_up NOT IN ('latest', 'none') THEN
        RAISE EXCEPTION 'catch_up must be latest or none' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF queue IS NULL OR queue !~ '^[A-Za-z0-9_.:-]+$' OR length(queue) > 128 THEN
        RAISE EXCEPTION 'queue must be 1 to 128 characters of letters, digits, ''_'', ''.'', '':'' or ''-'''
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_attempts IS NOT NULL AND max_attempts < 1 THEN
        RAISE EXCEPTION 'max_attempts must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    INSERT INTO weir.schedules AS s (name, cron, timezone, kind, args, queue, priority,
                                     max_attempts, timeout_seconds, paused, catch_up)
    VALUES (set_schedule.name, btrim(set_schedule.cron), set_schedule.timezone, set_schedule.kind,
            coalesce(set_schedule.args, '{}'), set_schedule.queue, coalesce(set_schedule.priority, 0),
            set_schedule.max_attempts, set_schedule.timeout_seconds, coalesce(set_schedule.paused, false),
            set_schedule.catch_up)
    ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE
    SET cron = excluded.cron, timezone = excluded.timezone, kind = excluded.kind,
        args = excluded.args, queue = excluded.queue, priority = excluded.priority,
        max_attempts = excluded.max_attempts, timeout_seconds = excluded.timeout_seconds,
        paused = excluded.paused, catch_up = excluded.catch_up, updated_at = now(),
        next_run_at = CASE WHEN s.cron <> excluded.cron OR s.timezone <> excluded.timezone
                                OR (s.paused AND NOT excluded.paused)
                           THEN NULL ELSE s.next_run_at END,
        error = CASE WHEN s.cron <> excluded.cron OR s.timezone <> excluded.timezone
                     THEN NULL ELSE s.error END
    RETURNING s.*;
    PERFORM weir.notify_queues(ARRAY['$stager']);
END $$;
COMMENT ON FUNCTION weir.set_schedule(text, text, text, jsonb, text, smallint, integer, integer, text, boolean, text) IS 'Creates or replaces a schedule and returns it. Named arguments work: weir.set_schedule(''nightly'', ''30 2 * * *'', ''report.build'', timezone => ''Europe/Berlin''). Raises invalid_parameter_value for a bad name, cron shape, time zone, catch_up, queue or max_attempts; the scheduler reports an expression it cannot parse in the schedule''s error column.';

CREATE FUNCTION weir.delete_schedule(name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM weir.schedules s WHERE s.name = delete_schedule.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schedule % not found', quote_literal(coalesce(name, '')) USING ERRCODE = 'no_data_found';
    END IF;
END $$;
COMMENT ON FUNCTION weir.delete_schedule(text) IS 'Deletes a schedule (jobs it already enqueued stay). Raises no_data_found when there is none of that name.';
