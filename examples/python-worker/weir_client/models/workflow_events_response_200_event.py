from enum import StrEnum


class WorkflowEventsResponse200Event(StrEnum):
    PROGRESS = "progress"
    STATE = "state"

    def __str__(self) -> str:
        return str(self.value)
