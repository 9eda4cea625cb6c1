from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.attempt_error import AttemptError
    from ..models.job_args import JobArgs
    from ..models.progress import Progress


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """A job: the same shape in every answer, event and `weir job --json`.
    Absent values are omitted.

        Attributes:
            attempt (int): Attempts started.
            created_at (datetime.datetime):
            errors (list[AttemptError]): One entry per failed attempt.
            id (UUID): UUIDv7, time-ordered.
            kind (str): Name of the handler.
            max_attempts (int):
            priority (int): Higher runs first.
            queue (str):
            run_at (datetime.datetime): Earliest time the job may (next) run.
            state (JobState): The state of a job.
            args (JobArgs | Unset): The handler's arguments (a JSON object). Left out of
                `GET /v1/jobs` pages unless `include=args`.
            cancel_requested (datetime.datetime | Unset): When a cancel of the running job was requested.
            concurrency_key (str | Unset): Groups jobs for the queue's `max_running_per_key`.
            depends_on (list[UUID] | Unset): Ids of the jobs it waits on: it runs once all of them succeeded.
            finished_at (datetime.datetime | Unset): When the job reached a terminal state.
            progress (Progress | Unset): What a running handler last reported.
            ref (str | Unset): Its name within its workflow.
            result (Any | Unset): What the handler returned (succeeded jobs). Left out of
                `GET /v1/jobs` pages unless `include=result`.
            started_at (datetime.datetime | Unset): When the latest attempt started.
            timeout_seconds (int | Unset): Per-attempt timeout set on the job.
            unique_key (str | Unset):
            waiting_on (list[UUID] | Unset): While `pending`: the dependencies not succeeded yet (`GET
                /v1/jobs/{id}` only).
            warnings (list[str] | Unset): Warnings of the enqueue answer, e.g. that no live worker serves the
                job's kind on its queue (the job waits until one does). Absent on
                reads and when there is nothing to say.
            workflow_id (UUID | Unset): The workflow it was submitted in.
    """

    attempt: int
    created_at: datetime.datetime
    errors: list[AttemptError]
    id: UUID
    kind: str
    max_attempts: int
    priority: int
    queue: str
    run_at: datetime.datetime
    state: JobState
    args: JobArgs | Unset = UNSET
    cancel_requested: datetime.datetime | Unset = UNSET
    concurrency_key: str | Unset = UNSET
    depends_on: list[UUID] | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    progress: Progress | Unset = UNSET
    ref: str | Unset = UNSET
    result: Any | Unset = UNSET
    started_at: datetime.datetime | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    unique_key: str | Unset = UNSET
    waiting_on: list[UUID] | Unset = UNSET
    warnings: list[str] | Unset = UNSET
    workflow_id: UUID | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        created_at = self.created_at.isoformat()

        errors = []
        for errors_item_data in self.errors:
            errors_item = errors_item_data.to_dict()
            errors.append(errors_item)

        id = str(self.id)

        kind = self.kind

        max_attempts = self.max_attempts

        priority = self.priority

        queue = self.queue

        run_at = self.run_at.isoformat()

        state = self.state.value

        args: dict[str, Any] | Unset = UNSET
        if not isinstance(self.args, Unset):
            args = self.args.to_dict()

        cancel_requested: str | Unset = UNSET
        if not isinstance(self.cancel_requested, Unset):
            cancel_requested = self.cancel_requested.isoformat()

        concurrency_key = self.concurrency_key

        depends_on: list[str] | Unset = UNSET
        if not isinstance(self.depends_on, Unset):
            depends_on = []
            for depends_on_item_data in self.depends_on:
                depends_on_item = str(depends_on_item_data)
                depends_on.append(depends_on_item)

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        progress: dict[str, Any] | Unset = UNSET
        if not isinstance(self.progress, Unset):
            progress = self.progress.to_dict()

        ref = self.ref

        result = self.result

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        timeout_seconds = self.timeout_seconds

        unique_key = self.unique_key

        waiting_on: list[str] | Unset = UNSET
        if not isinstance(self.waiting_on, Unset):
            waiting_on = []
            for waiting_on_item_data in self.waiting_on:
                waiting_on_item = str(waiting_on_item_data)
                waiting_on.append(waiting_on_item)

        warnings: list[str] | Unset = UNSET
        if not isinstance(self.warnings, Unset):
            warnings = self.warnings

        workflow_id: str | Unset = UNSET
        if not isinstance(self.workflow_id, Unset):
            workflow_id = str(self.workflow_id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "created_at": created_at,
                "errors": errors,
                "id": id,
                "kind": kind,
                "max_attempts": max_attempts,
                "priority": priority,
                "queue": queue,
                "run_at": run_at,
                "state": state,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if cancel_requested is not UNSET:
            field_dict["cancel_requested"] = cancel_requested
        if concurrency_key is not UNSET:
            field_dict["concurrency_key"] = concurrency_key
        if depends_on is not UNSET:
            field_dict["depends_on"] = depends_on
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if progress is not UNSET:
            field_dict["progress"] = progress
        if ref is not UNSET:
            field_dict["ref"] = ref
        if result is not UNSET:
            field_dict["result"] = result
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if unique_key is not UNSET:
            field_dict["unique_key"] = unique_key
        if waiting_on is not UNSET:
            field_dict["waiting_on"] = waiting_on
        if warnings is not UNSET:
            field_dict["warnings"] = warnings
        if workflow_id is not UNSET:
            field_dict["workflow_id"] = workflow_id

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.attempt_error import AttemptError
        from ..models.job_args import JobArgs
        from ..models.progress import Progress

        d = dict(src_dict)
        attempt = d.pop("attempt")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        errors = []
        _errors = d.pop("errors")
        for errors_item_data in _errors:
            errors_item = AttemptError.from_dict(errors_item_data)

            errors.append(errors_item)

        id = UUID(d.pop("id"))

        kind = d.pop("kind")

        max_attempts = d.pop("max_attempts")

        priority = d.pop("priority")

        queue = d.pop("queue")

        run_at = datetime.datetime.fromisoformat(d.pop("run_at"))

        state = JobState(d.pop("state"))

        _args = d.pop("args", UNSET)
        args: JobArgs | Unset
        if isinstance(_args, Unset):
            args = UNSET
        else:
            args = JobArgs.from_dict(_args)

        _cancel_requested = d.pop("cancel_requested", UNSET)
        cancel_requested: datetime.datetime | Unset
        if isinstance(_cancel_requested, Unset):
            cancel_requested = UNSET
        else:
            cancel_requested = datetime.datetime.fromisoformat(_cancel_requested)

        concurrency_key = d.pop("concurrency_key", UNSET)

        _depends_on = d.pop("depends_on", UNSET)
        depends_on: list[UUID] | Unset = UNSET
        if _depends_on is not UNSET:
            depends_on = []
            for depends_on_item_data in _depends_on:
                depends_on_item = UUID(depends_on_item_data)

                depends_on.append(depends_on_item)

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

        ref = d.pop("ref", UNSET)

        result = d.pop("result", UNSET)

        _started_at = d.pop("started_at", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = datetime.datetime.fromisoformat(_started_at)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        unique_key = d.pop("unique_key", UNSET)

        _waiting_on = d.pop("waiting_on", UNSET)
        waiting_on: list[UUID] | Unset = UNSET
        if _waiting_on is not UNSET:
            waiting_on = []
            for waiting_on_item_data in _waiting_on:
                waiting_on_item = UUID(waiting_on_item_data)

                waiting_on.append(waiting_on_item)

        warnings = cast(list[str], d.pop("warnings", UNSET))

        _workflow_id = d.pop("workflow_id", UNSET)
        workflow_id: UUID | Unset
        if isinstance(_workflow_id, Unset):
            workflow_id = UNSET
        else:
            workflow_id = UUID(_workflow_id)

        job = cls(
            attempt=attempt,
            created_at=created_at,
            errors=errors,
            id=id,
            kind=kind,
            max_attempts=max_attempts,
            priority=priority,
            queue=queue,
            run_at=run_at,
            state=state,
            args=args,
            cancel_requested=cancel_requested,
            concurrency_key=concurrency_key,
            depends_on=depends_on,
            finished_at=finished_at,
            progress=progress,
            ref=ref,
            result=result,
            started_at=started_at,
            timeout_seconds=timeout_seconds,
            unique_key=unique_key,
            waiting_on=waiting_on,
            warnings=warnings,
            workflow_id=workflow_id,
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
