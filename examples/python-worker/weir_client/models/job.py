from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_error import AttemptError
    from ..models.progress import Progress


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """A job: the same shape in every answer, event and `weir job --json`.
    Absent values are omitted.

        Attributes:
            id (UUID): UUIDv7, time-ordered.
            kind (str): Name of the handler.
            queue (str):
            priority (int): Higher runs first.
            state (JobState): The state of a job.
            attempt (int): Attempts started.
            max_attempts (int):
            run_at (datetime.datetime): Earliest time the job may (next) run.
            created_at (datetime.datetime):
            errors (list[AttemptError]): One entry per failed attempt.
            args (Any | Unset): The handler's arguments (a JSON object). Left out of
                `GET /v1/jobs` pages unless `include=args`.
            started_at (datetime.datetime | Unset): When the latest attempt started.
            finished_at (datetime.datetime | Unset): When the job reached a terminal state.
            progress (Progress | Unset): What a running handler last reported.
            result (Any | Unset): What the handler returned (succeeded jobs). Left out of
                `GET /v1/jobs` pages unless `include=result`.
            unique_key (str | Unset):
            timeout_seconds (int | Unset): Per-attempt timeout set on the job.
            cancel_requested (datetime.datetime | Unset): When a cancel of the running job was requested.
    """

    id: UUID
    kind: str
    queue: str
    priority: int
    state: JobState
    attempt: int
    max_attempts: int
    run_at: datetime.datetime
    created_at: datetime.datetime
    errors: list[AttemptError]
    args: Any | Unset = UNSET
    started_at: datetime.datetime | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    progress: Progress | Unset = UNSET
    result: Any | Unset = UNSET
    unique_key: str | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    cancel_requested: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        kind = self.kind

        queue = self.queue

        priority = self.priority

        state = self.state.value

        attempt = self.attempt

        max_attempts = self.max_attempts

        run_at = self.run_at.isoformat()

        created_at = self.created_at.isoformat()

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        args = self.args

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        progress: dict[str, Any] | Unset = UNSET
        if not isinstance(self.progress, Unset):
            progress = self.progress.to_dict()

        result = self.result

        unique_key = self.unique_key

        timeout_seconds = self.timeout_seconds

        cancel_requested: str | Unset = UNSET
        if not isinstance(self.cancel_requested, Unset):
            cancel_requested = self.cancel_requested.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "queue": queue,
                "priority": priority,
                "state": state,
                "attempt": attempt,
                "max_attempts": max_attempts,
                "run_at": run_at,
                "created_at": created_at,
                "errors": errors,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if progress is not UNSET:
            field_dict["progress"] = progress
        if result is not UNSET:
            field_dict["result"] = result
        if unique_key is not UNSET:
            field_dict["unique_key"] = unique_key
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if cancel_requested is not UNSET:
            field_dict["cancel_requested"] = cancel_requested

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_error import AttemptError
        from ..models.progress import Progress

        d = dict(src_dict)
        id = UUID(d.pop("id"))

        kind = d.pop("kind")

        queue = d.pop("queue")

        priority = d.pop("priority")

        state = JobState(d.pop("state"))

        attempt = d.pop("attempt")

        max_attempts = d.pop("max_attempts")

        run_at = datetime.datetime.fromisoformat(d.pop("run_at"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = AttemptError.from_dict(errors_item_data)

            errors.append(errors_item)

        args = d.pop("args", UNSET)

        _started_at = d.pop("started_at", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = datetime.datetime.fromisoformat(_started_at)

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = datetime.datetime.fromisoformat(_finished_at)

        _progress = d.pop("progress", UNSET)
        progress: Progress | Unset
        if isinstance(_progress, Unset):
            progress = UNSET
        else:
            progress = Progress.from_dict(_progress)

        result = d.pop("result", UNSET)

        unique_key = d.pop("unique_key", UNSET)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        _cancel_requested = d.pop("cancel_requested", UNSET)
        cancel_requested: datetime.datetime | Unset
        if isinstance(_cancel_requested, Unset):
            cancel_requested = UNSET
        else:
            cancel_requested = datetime.datetime.fromisoformat(_cancel_requested)

        job = cls(
            id=id,
            kind=kind,
            queue=queue,
            priority=priority,
            state=state,
            attempt=attempt,
            max_attempts=max_attempts,
            run_at=run_at,
            created_at=created_at,
            errors=errors,
            args=args,
            started_at=started_at,
            finished_at=finished_at,
            progress=progress,
            result=result,
            unique_key=unique_key,
            timeout_seconds=timeout_seconds,
            cancel_requested=cancel_requested,
        )

        job.additional_properties = d
        return job

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
