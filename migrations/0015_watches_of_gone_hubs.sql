-- Comments only: weir.watches rows now also come from Rust clients
-- (Client::wait), and the rescuer removes the rows of hubs that are gone.
--
-- A hub (a web node, or a client that has waited) LISTENs on a session
-- whose application_name is 'weir events <node_id>'. A row older than a
-- minute whose hub has no such session is removed by the rescuer: before,
-- the rows of a web node that died without removing them stayed for good,
-- and while any watch row exists every UPDATE of weir.jobs looks for
-- watched jobs among the rows it changed.
COMMENT ON TABLE weir.watches IS 'Jobs somebody is watching (waiting requests and event streams of web nodes, waits of Rust clients). Every change of a watched job sends NOTIFY weir_job_events with the job id as payload. The rescuer removes rows older than a minute whose watcher has no session named ''weir events <node_id>''.';
COMMENT ON COLUMN weir.watches.node_id IS 'The watcher: one id per web-node process or waiting client, named in the application_name of its LISTEN session.';
