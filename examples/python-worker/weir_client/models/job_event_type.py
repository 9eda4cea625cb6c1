from enum import StrEnum


class JobEventType(StrEnum):
    PROGRESS = "progress"
    STATE = "state"

    def __str__(self) -> str:
        return str(self.value)
