from enum import StrEnum


class ExplainReason(StrEnum):
    CANCELLED = "cancelled"
    FAILED = "failed"
    KEY_CONCURRENCY_LIMIT = "key_concurrency_limit"
    NO_WORKER_FOR_KIND = "no_worker_for_kind"
    QUEUED_BEHIND = "queued_behind"
    QUEUE_CONCURRENCY_LIMIT = "queue_concurrency_limit"
    QUEUE_PAUSED = "queue_paused"
    RATE_LIMITED = "rate_limited"
    RETRY_BACKOFF = "retry_backoff"
    RUNNING = "running"
    SCHEDULED = "scheduled"
    SUCCEEDED = "succeeded"
    WAITING_ON_DEPENDENCIES = "waiting_on_dependencies"

    def __str__(self) -> str:
        return str(self.value)
