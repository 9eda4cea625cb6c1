-- Validates the queue-name checks that migration 0009 added NOT VALID.
-- In its own migration (its own transaction), so the scan of every stored
-- job holds only SHARE UPDATE EXCLUSIVE locks: enqueues, claims and
-- completions go on meanwhile. The rows were already held to the same
-- rule by the checks 0009 replaced, so this cannot fail on data weir
-- stored.

ALTER TABLE weir.jobs VALIDATE CONSTRAINT jobs_queue_name_valid;
ALTER TABLE weir.queues VALIDATE CONSTRAINT queues_name_valid;
