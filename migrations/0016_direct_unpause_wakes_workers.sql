-- Lifting a pause wakes the queue's workers however it is done.
--
-- Since 0014 a worker woken for a paused queue stops asking to be woken
-- (its waiter stays disarmed) until the queue is resumed, and
-- weir.resume_queue sent the NOTIFY that reaches it. An operator who
-- lifted the pause with `UPDATE weir.queues SET paused = false`, deleted
-- the queue's row or truncated the table sent nothing, and the queue's
-- backlog waited for the workers' fallback poll (WEIR_POLL_INTERVAL_MS).
-- The wake-up now lives in triggers on weir.queues, which fire only when a
-- paused row is unpaused or deleted, or the table truncated (rare), and
-- weir.resume_queue relies on them instead of notifying itself: one
-- mechanism for every way to lift a pause.

-- NOTIFY the queue's workers whether their waiter is armed or not.
CREATE FUNCTION weir.wake_queue(queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF weir.notify_queues(ARRAY[queue]) = 0 THEN
        PERFORM pg_notify('weir_jobs_available', queue);
    END IF;
END $$;
COMMENT ON FUNCTION weir.wake_queue(text) IS 'NOTIFY weir_jobs_available for the queue, reaching its workers whether their waiter is armed or not (a worker does not arm on a paused queue). Called when a pause is lifted.';

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

-- Resuming a paused queue updates its row, and the trigger above wakes
-- its workers; resuming a queue that is not paused wakes nobody (no
-- worker holds back on it).
CREATE OR REPLACE FUNCTION weir.resume_queue(queue text) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO weir.queues (name, paused) VALUES (queue, false)
    ON CONFLICT (name) DO UPDATE SET paused = false, updated_at = now();
$$;
COMMENT ON FUNCTION weir.resume_queue(text) IS 'Restarts claiming from a paused queue; its workers are woken by the trigger queues_wake_on_unpause (armed waiters or not). Idempotent.';
