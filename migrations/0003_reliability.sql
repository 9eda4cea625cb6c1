-- weir reliability: what the rescuer and the worker-side watch read.
--
-- Liveness comes from weir.nodes.heartbeat_at (one row per worker
-- process); the rescuer finds running jobs of dead nodes through
-- jobs_live_running_node_idx (0001) and overrun ones through the index
-- below. Both indexes are partial on state = 'running', so they hold only
-- work in flight.

-- The rescuer: running jobs whose deadline has passed.
CREATE INDEX jobs_live_running_deadline_idx ON weir.jobs_live (deadline)
    WHERE state = 'running';
COMMENT ON INDEX weir.jobs_live_running_deadline_idx IS 'Serves the rescuer (src/db/jobs.rs, rescue_orphaned_running): running jobs past their deadline.';

-- Dead nodes are found by the age of their heartbeat.
CREATE INDEX nodes_heartbeat_at_idx ON weir.nodes (heartbeat_at);
COMMENT ON INDEX weir.nodes_heartbeat_at_idx IS 'Serves the rescuer (src/db/nodes.rs, delete_dead): nodes whose heartbeat is older than the dead-after interval.';
