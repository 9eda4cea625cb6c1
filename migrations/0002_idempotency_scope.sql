-- Idempotency keys belong to a caller and to one request. A key is looked
-- up within its scope (a digest of the caller's bearer token, or
-- 'anonymous'), so two callers never meet on one key; the fingerprint of
-- the first request is kept, so that the same key with another request
-- is refused instead of answering a job the caller did not ask for.
-- Records older than 24 hours are deleted by the pruner.

ALTER TABLE weir.idempotency_keys
    ADD COLUMN scope text NOT NULL DEFAULT 'anonymous',
    ADD COLUMN fingerprint text;
ALTER TABLE weir.idempotency_keys ALTER COLUMN scope DROP DEFAULT;
ALTER TABLE weir.idempotency_keys
    DROP CONSTRAINT idempotency_keys_pkey,
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    ADD CONSTRAINT idempotency_keys_scope_valid CHECK (length(scope) BETWEEN 1 AND 255);

CREATE INDEX idempotency_keys_created_at_idx ON weir.idempotency_keys (created_at);
COMMENT ON INDEX weir.idempotency_keys_created_at_idx IS 'Serves the pruner''s DELETE of records older than 24 hours.';

COMMENT ON TABLE weir.idempotency_keys IS 'Idempotency-Key header values of POST /v1/jobs, per caller, and the job each created; honoured for 24 hours, then deleted by the pruner.';
COMMENT ON COLUMN weir.idempotency_keys.scope IS 'Whose key it is: ''token:'' and the SHA-256 of the caller''s bearer token in hex, or ''anonymous''.';
COMMENT ON COLUMN weir.idempotency_keys.fingerprint IS 'SHA-256 (hex) of the first request with this key; the same key with another request is refused. NULL for keys recorded before fingerprints, which match any request.';
