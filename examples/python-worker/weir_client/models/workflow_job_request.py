from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.workflow_job_request_args_type_0 import WorkflowJobRequestArgsType0


T = TypeVar("T", bound="WorkflowJobRequest")


@_attrs_define
class WorkflowJobRequest:
    """One job of a workflow to submit: a job as `POST /v1/jobs` takes it
    (without `unique_key`), with a `ref` and the refs it depends on.

        Attributes:
            kind (str): Name of the handler.
            ref (str): Its name within the workflow, unique there.
            args (None | Unset | WorkflowJobRequestArgsType0): Arguments: a JSON object (default `{}`).
            delay_seconds (float | None | Unset): Run no sooner than this many seconds from now.
            depends_on (list[str] | None | Unset): Refs of jobs of this workflow it waits on: it stays `pending` until
                all of them succeeded, and is cancelled when one fails.
            max_attempts (int | None | Unset): Attempts allowed (default 20).
            priority (int | None | Unset): Higher runs first (default 0).
            queue (None | str | Unset): Queue (default `default`).
            run_at (datetime.datetime | None | Unset): Run no sooner than this time. Exclusive with `delay_seconds`.
            timeout_seconds (int | None | Unset): Per-attempt timeout in seconds.
    """

    kind: str
    ref: str
    args: None | Unset | WorkflowJobRequestArgsType0 = UNSET
    delay_seconds: float | None | Unset = UNSET
    depends_on: list[str] | None | Unset = UNSET
    max_attempts: int | None | Unset = UNSET
    priority: int | None | Unset = UNSET
    queue: None | str | Unset = UNSET
    run_at: datetime.datetime | None | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.workflow_job_request_args_type_0 import (
            WorkflowJobRequestArgsType0,
        )

        kind = self.kind

        ref = self.ref

        args: dict[str, Any] | None | Unset
        if isinstance(self.args, Unset):
            args = UNSET
        elif isinstance(self.args, WorkflowJobRequestArgsType0):
            args = self.args.to_dict()
        else:
            args = self.args

        delay_seconds: float | None | Unset
        if isinstance(self.delay_seconds, Unset):
            delay_seconds = UNSET
        else:
            delay_seconds = self.delay_seconds

        depends_on: list[str] | None | Unset
        if isinstance(self.depends_on, Unset):
            depends_on = UNSET
        elif isinstance(self.depends_on, list):
            depends_on = self.depends_on

        else:
            depends_on = self.depends_on

        max_attempts: int | None | Unset
        if isinstance(self.max_attempts, Unset):
            max_attempts = UNSET
        else:
            max_attempts = self.max_attempts

        priority: int | None | Unset
        if isinstance(self.priority, Unset):
            priority = UNSET
        else:
            priority = self.priority

        queue: None | str | Unset
        if isinstance(self.queue, Unset):
            queue = UNSET
        else:
            queue = self.queue

        run_at: None | str | Unset
        if isinstance(self.run_at, Unset):
            run_at = UNSET
        elif isinstance(self.run_at, datetime.datetime):
            run_at = self.run_at.isoformat()
        else:
            run_at = self.run_at

        timeout_seconds: int | None | Unset
        if isinstance(self.timeout_seconds, Unset):
            timeout_seconds = UNSET
        else:
            timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
                "ref": ref,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if delay_seconds is not UNSET:
            field_dict["delay_seconds"] = delay_seconds
        if depends_on is not UNSET:
            field_dict["depends_on"] = depends_on
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if priority is not UNSET:
            field_dict["priority"] = priority
        if queue is not UNSET:
            field_dict["queue"] = queue
        if run_at is not UNSET:
            field_dict["run_at"] = run_at
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.workflow_job_request_args_type_0 import (
            WorkflowJobRequestArgsType0,
        )

        d = dict(src_dict)
        kind = d.pop("kind")

        ref = d.pop("ref")

        def _parse_args(data: object) -> None | Unset | WorkflowJobRequestArgsType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                args_type_0 = WorkflowJobRequestArgsType0.from_dict(data)

                return args_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | WorkflowJobRequestArgsType0, data)

        args = _parse_args(d.pop("args", UNSET))

        def _parse_delay_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        delay_seconds = _parse_delay_seconds(d.pop("delay_seconds", UNSET))

        def _parse_depends_on(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                depends_on_type_0 = cast(list[str], data)

                return depends_on_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        depends_on = _parse_depends_on(d.pop("depends_on", UNSET))

        def _parse_max_attempts(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_attempts = _parse_max_attempts(d.pop("max_attempts", UNSET))

        def _parse_priority(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        priority = _parse_priority(d.pop("priority", UNSET))

        def _parse_queue(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        queue = _parse_queue(d.pop("queue", UNSET))

        def _parse_run_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                run_at_type_0 = datetime.datetime.fromisoformat(data)

                return run_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        run_at = _parse_run_at(d.pop("run_at", UNSET))

        def _parse_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_seconds = _parse_timeout_seconds(d.pop("timeout_seconds", UNSET))

        workflow_job_request = cls(
            kind=kind,
            ref=ref,
            args=args,
            delay_seconds=delay_seconds,
            depends_on=depends_on,
            max_attempts=max_attempts,
            priority=priority,
            queue=queue,
            run_at=run_at,
            timeout_seconds=timeout_seconds,
        )

        return workflow_job_request
