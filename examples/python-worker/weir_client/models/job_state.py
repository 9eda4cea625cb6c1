from enum import StrEnum


class JobState(StrEnum):
    AVAILABLE = "available"
    CANCELLED = "cancelled"
    FAILED = "failed"
    PENDING = "pending"
    RETRYABLE = "retryable"
    RUNNING = "running"
    SCHEDULED = "scheduled"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
