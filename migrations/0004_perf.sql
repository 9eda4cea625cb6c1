-- Performance (issue 6): cheaper wake-ups under many concurrent producers.
--
-- weir.notify_queues disarmed the armed waiters with a plain UPDATE. When
-- a waiter is armed and many producers insert at once, every producer's
-- trigger tried to update the same waiters row: all but one queued on its
-- row lock until the notifying transaction committed (a WAL flush plus the
-- notify commit lock), only to find the row disarmed. Now a producer that
-- finds the row being disarmed by another skips it: that transaction's
-- NOTIFY wakes the worker, and the worker looks for work again after it
-- re-arms, so nothing waits longer than before (NOTIFY stays a hint; the
-- fallback poll still covers every loss).
CREATE OR REPLACE FUNCTION weir.notify_queues(queues text[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    q text;
    n integer := 0;
BEGIN
    FOR q IN
        WITH free AS (
            SELECT w.node_id, w.queue FROM weir.waiters w
            WHERE w.armed AND w.queue = ANY(queues)
            FOR UPDATE SKIP LOCKED
        ), woken AS (
            UPDATE weir.waiters w SET armed = false
            FROM free
            WHERE w.node_id = free.node_id AND w.queue = free.queue AND w.armed
            RETURNING w.queue
        )
        SELECT DISTINCT queue FROM woken
    LOOP
        PERFORM pg_notify('weir_jobs_available', q);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
COMMENT ON FUNCTION weir.notify_queues(text[]) IS 'NOTIFY weir_jobs_available (payload: queue name) for each given queue that has an armed waiter not being disarmed by another transaction, disarming it.';
