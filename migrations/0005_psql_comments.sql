-- Comments on every object of schema weir, so that \d+ and \df+ in psql
-- explain themselves (objects of 0001 and 0002 that lacked one).

COMMENT ON COLUMN weir.jobs.created_at IS 'When the job was enqueued.';

COMMENT ON INDEX weir.jobs_id_idx IS 'Look-ups by id, on every partition (weir.jobs has no primary key: see docs/storage.md).';
COMMENT ON INDEX weir.jobs_live_claim_available_idx IS 'Serves the claim: one queue, priority DESC, run_at, id, available jobs only.';
COMMENT ON INDEX weir.jobs_live_stage_due_idx IS 'Serves the stager: scheduled and retryable jobs by due time.';
COMMENT ON INDEX weir.jobs_live_unique_key_idx IS 'At most one non-terminal job per unique_key; a colliding INSERT raises a unique violation here.';
COMMENT ON INDEX weir.jobs_live_running_node_idx IS 'Running jobs by worker node (rescue, per-node look-ups).';
COMMENT ON INDEX weir.jobs_finished_queue_state_idx IS 'Counts of finished jobs per queue and state (weir.queue_stats), and recent throughput.';

COMMENT ON FUNCTION weir.jobs_mark_scheduled() IS 'Trigger function: a new job whose run_at is in the future becomes scheduled instead of available.';
COMMENT ON FUNCTION weir.jobs_wake_on_insert() IS 'Trigger function: after an INSERT into weir.jobs, notifies armed waiters of the queues that received available jobs (and the stager for scheduled ones).';
COMMENT ON TRIGGER jobs_mark_scheduled ON weir.jobs IS 'Per row, only when run_at is in the future: marks the job scheduled.';
COMMENT ON TRIGGER jobs_wake_on_insert ON weir.jobs IS 'Per statement: NOTIFY weir_jobs_available for queues with an armed waiter.';
COMMENT ON TRIGGER jobs_notify_watchers ON weir.jobs IS 'Per statement: NOTIFY weir_job_events for watched jobs changed through weir.jobs.';
COMMENT ON TRIGGER jobs_live_notify_watchers ON weir.jobs_live IS 'Per statement: NOTIFY weir_job_events for watched jobs changed through weir.jobs_live.';

COMMENT ON COLUMN weir.watches.job_id IS 'The watched job.';
COMMENT ON COLUMN weir.watches.node_id IS 'The web node watching it (one id per web-node process).';
COMMENT ON COLUMN weir.watches.since IS 'When the watch began.';

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

COMMENT ON COLUMN weir.idempotency_keys.key IS 'The Idempotency-Key header value.';
COMMENT ON COLUMN weir.idempotency_keys.job_id IS 'The job the first request with this key created.';
COMMENT ON COLUMN weir.idempotency_keys.created_at IS 'When the key was first used; honoured for 24 hours.';

COMMENT ON COLUMN weir.queues.name IS 'Queue name.';
COMMENT ON COLUMN weir.queues.paused IS 'True: no node claims from this queue.';
COMMENT ON COLUMN weir.queues.updated_at IS 'When the settings last changed.';

COMMENT ON COLUMN weir.nodes.id IS 'Node id (new for every worker process).';
COMMENT ON COLUMN weir.nodes.host IS 'Host name of the machine.';
COMMENT ON COLUMN weir.nodes.pid IS 'Process id on that host.';
COMMENT ON COLUMN weir.nodes.queues IS 'Queues served: {"queue": concurrency}.';
COMMENT ON COLUMN weir.nodes.kinds IS 'Kinds the node has handlers for.';
COMMENT ON COLUMN weir.nodes.running IS 'Attempts running at the last heartbeat.';
COMMENT ON COLUMN weir.nodes.started_at IS 'When the node registered.';
COMMENT ON COLUMN weir.nodes.heartbeat_at IS 'Last heartbeat (database clock); liveness is judged on it.';

COMMENT ON COLUMN weir.waiters.node_id IS 'The idle node.';
COMMENT ON COLUMN weir.waiters.queue IS 'The queue it waits on ($stager: the stager waits for scheduled jobs).';
COMMENT ON COLUMN weir.waiters.armed IS 'True until an enqueue notified it; the node re-arms when it is idle again.';

COMMENT ON COLUMN weir.leaders.name IS 'The role (maintenance).';
COMMENT ON COLUMN weir.leaders.node_id IS 'The node holding it.';
COMMENT ON COLUMN weir.leaders.elected_at IS 'When this node took it.';
COMMENT ON COLUMN weir.leaders.expires_at IS 'End of the lease unless renewed (database clock).';

-- Day partitions: the ones that exist, and every one created from now on.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'weir.jobs_finished'::regclass LOOP
        EXECUTE format('COMMENT ON TABLE %s IS %L', part,
                       'Finished jobs of one UTC day (a partition of weir.jobs_finished); dropped whole by retention.');
    END LOOP;
END $$;

CREATE OR REPLACE FUNCTION weir.ensure_finished_partitions(from_day date, days integer)
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
