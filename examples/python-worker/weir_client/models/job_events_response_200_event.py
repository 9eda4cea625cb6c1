from enum import StrEnum


class JobEventsResponse200Event(StrEnum):
    PROGRESS = "progress"
    STATE = "state"

    def __str__(self) -> str:
        return str(self.value)
