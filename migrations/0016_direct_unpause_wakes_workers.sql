-- A pause lifted in SQL without weir.resume_queue wakes the workers too.
--
-- Since 0014 a worker woken for a paused queue stops asking to be woken
-- (its waiter stays disarmed) until the queue is resumed; weir.resume_queue
-- sends the NOTIFY that reaches it. An operator who lifts the pause with
-- `UPDATE weir.queues SET paused = false`, deletes the queue's row or
-- truncates the table sent nothing, and the queue's backlog waited for the
-- workers' fallback poll (WEIR_POLL_INTERVAL_MS). These triggers send what
-- resume_queue does. They fire only when a paused row is unpaused or
-- deleted, or the table truncated, which is rare;
-- a NOTIFY that resume_queue also sends in the same transaction is
-- delivered once (PostgreSQL folds duplicates within a transaction).
CREATE FUNCTION weir.queues_wake_on_unpause() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF weir.notify_queues(ARRAY[OLD.name]) = 0 THEN
        PERFORM pg_notify('weir_jobs_available', OLD.name);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.queues_wake_on_unpause() IS 'Row trigger: NOTIFY weir_jobs_available for a queue whose pause was lifted (its row updated to paused = false, or deleted).';

CREATE TRIGGER queues_wake_on_unpause AFTER UPDATE OF paused ON weir.queues
    FOR EACH ROW WHEN (OLD.paused AND NOT NEW.paused)
    EXECUTE FUNCTION weir.queues_wake_on_unpause();
COMMENT ON TRIGGER queues_wake_on_unpause ON weir.queues IS 'Per row, only when a pause is lifted: wakes the workers of the queue.';

CREATE TRIGGER queues_wake_on_delete AFTER DELETE ON weir.queues
    FOR EACH ROW WHEN (OLD.paused)
    EXECUTE FUNCTION weir.queues_wake_on_unpause();
COMMENT ON TRIGGER queues_wake_on_delete ON weir.queues IS 'Per row, only when a paused queue''s row is deleted: wakes the workers of the queue.';

-- TRUNCATE fires no row triggers: a statement trigger before it wakes the
-- queues still paused then (their NOTIFYs are sent if the TRUNCATE commits).
CREATE FUNCTION weir.queues_wake_on_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    q text;
BEGIN
    FOR q IN SELECT name FROM weir.queues WHERE paused LOOP
        IF weir.notify_queues(ARRAY[q]) = 0 THEN
            PERFORM pg_notify('weir_jobs_available', q);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION weir.queues_wake_on_truncate() IS 'Statement trigger: before weir.queues is truncated, NOTIFY weir_jobs_available for each queue paused then.';

CREATE TRIGGER queues_wake_on_truncate BEFORE TRUNCATE ON weir.queues
    FOR EACH STATEMENT EXECUTE FUNCTION weir.queues_wake_on_truncate();
COMMENT ON TRIGGER queues_wake_on_truncate ON weir.queues IS 'Before a TRUNCATE: wakes the workers of every queue paused then.';
