-- weir.resume_queue wakes every worker listening on the queue, armed or
-- not.
--
-- Workers no longer arm their waiter on a paused queue (a notification
-- that finds nothing there makes the worker look whether the queue is
-- paused; if it is, the worker waits for a notification or its fallback
-- poll without arming). Producers of a paused queue then send no NOTIFY:
-- before, every node serving it re-armed up to ~20 times a second, and
-- each re-arm cost the next enqueue a notifying commit (which takes a
-- cluster-wide lock through its WAL flush) and the node an empty claim.
-- So resuming must reach workers whose waiter is not armed: when
-- notify_queues woke nobody (no armed waiter, or one another transaction
-- is disarming), resume_queue sends the queue's NOTIFY itself. Resuming is
-- rare, so this unconditional NOTIFY costs nothing that matters.
CREATE OR REPLACE FUNCTION weir.resume_queue(queue text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO weir.queues (name, paused) VALUES (queue, false)
    ON CONFLICT (name) DO UPDATE SET paused = false, updated_at = now();
    IF weir.notify_queues(ARRAY[queue]) = 0 THEN
        PERFORM pg_notify('weir_jobs_available', queue);
    END IF;
END $$;
COMMENT ON FUNCTION weir.resume_queue(text) IS 'Restarts claiming from a paused queue and wakes the workers listening on it (NOTIFY weir_jobs_available, armed waiters or not). Idempotent.';
