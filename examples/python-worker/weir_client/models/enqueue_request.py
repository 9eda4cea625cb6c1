from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.enqueue_request_args_type_0 import EnqueueRequestArgsType0


T = TypeVar("T", bound="EnqueueRequest")


@_attrs_define
class EnqueueRequest:
    """A job to enqueue. Only `kind` is required.

    Example:
        {'args': {'name': 'widget', 'step_ms': 500, 'steps': 10}, 'kind': 'demo.process_item'}

    Attributes:
        kind (str): Name of the handler, e.g. `demo.process_item`.
        args (EnqueueRequestArgsType0 | None | Unset): Arguments: a JSON object (default `{}`).
        concurrency_key (None | str | Unset): Groups jobs for the queue's `max_running_per_key` (e.g. a customer
            id): at most that many jobs of one key run at once.
        delay_seconds (float | None | Unset): Run no sooner than this many seconds from now. Exclusive with `run_at`.
        depends_on (list[UUID] | None | Unset): Ids of jobs this one waits on: it stays `pending` until all of
            them succeeded, and is cancelled when one fails or is cancelled (at
            once if one already has). Only on `POST /v1/jobs`, not in batches.
        max_attempts (int | None | Unset): Attempts allowed (default 20).
        priority (int | None | Unset): Higher runs first (default 0).
        queue (None | str | Unset): Queue (default `default`): letters, digits, `_ . : -`.
        run_at (datetime.datetime | None | Unset): Run no sooner than this time. Exclusive with `delay_seconds`.
        timeout_seconds (int | None | Unset): Per-attempt timeout in seconds (default: the task's, else 30 min).
        unique_key (None | str | Unset): While a job with this key is not finished, enqueueing another with
            it returns that job (200) instead of creating one. Global: namespace
            it, e.g. `invoice:42`.
    """

    kind: str
    args: EnqueueRequestArgsType0 | None | Unset = UNSET
    concurrency_key: None | str | Unset = UNSET
    delay_seconds: float | None | Unset = UNSET
    depends_on: list[UUID] | None | Unset = UNSET
    max_attempts: int | None | Unset = UNSET
    priority: int | None | Unset = UNSET
    queue: None | str | Unset = UNSET
    run_at: datetime.datetime | None | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET
    unique_key: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.enqueue_request_args_type_0 import EnqueueRequestArgsType0

        kind = self.kind

        args: dict[str, Any] | None | Unset
        if isinstance(self.args, Unset):
            args = UNSET
        elif isinstance(self.args, EnqueueRequestArgsType0):
            args = self.args.to_dict()
        else:
            args = self.args

        concurrency_key: None | str | Unset
        if isinstance(self.concurrency_key, Unset):
            concurrency_key = UNSET
        else:
            concurrency_key = self.concurrency_key

        delay_seconds: float | None | Unset
        if isinstance(self.delay_seconds, Unset):
            delay_seconds = UNSET
        else:
            delay_seconds = self.delay_seconds

        depends_on: list[str] | None | Unset
        if isinstance(self.depends_on, Unset):
            depends_on = UNSET
        elif isinstance(self.depends_on, list):
            depends_on = []
            for depends_on_type_0_item_data in self.depends_on:
                depends_on_type_0_item = str(depends_on_type_0_item_data)
                depends_on.append(depends_on_type_0_item)

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

        unique_key: None | str | Unset
        if isinstance(self.unique_key, Unset):
            unique_key = UNSET
        else:
            unique_key = self.unique_key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kind": kind,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if concurrency_key is not UNSET:
            field_dict["concurrency_key"] = concurrency_key
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
        if unique_key is not UNSET:
            field_dict["unique_key"] = unique_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.enqueue_request_args_type_0 import EnqueueRequestArgsType0

        d = dict(src_dict)
        kind = d.pop("kind")

        def _parse_args(data: object) -> EnqueueRequestArgsType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                args_type_0 = EnqueueRequestArgsType0.from_dict(data)

                return args_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(EnqueueRequestArgsType0 | None | Unset, data)

        args = _parse_args(d.pop("args", UNSET))

        def _parse_concurrency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        concurrency_key = _parse_concurrency_key(d.pop("concurrency_key", UNSET))

        def _parse_delay_seconds(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        delay_seconds = _parse_delay_seconds(d.pop("delay_seconds", UNSET))

        def _parse_depends_on(data: object) -> list[UUID] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                depends_on_type_0 = []
                _depends_on_type_0 = data
                for depends_on_type_0_item_data in _depends_on_type_0:
                    depends_on_type_0_item = UUID(depends_on_type_0_item_data)

                    depends_on_type_0.append(depends_on_type_0_item)

                return depends_on_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[UUID] | None | Unset, data)

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

        def _parse_unique_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        unique_key = _parse_unique_key(d.pop("unique_key", UNSET))

        enqueue_request = cls(
            kind=kind,
            args=args,
            concurrency_key=concurrency_key,
            delay_seconds=delay_seconds,
            depends_on=depends_on,
            max_attempts=max_attempts,
            priority=priority,
            queue=queue,
            run_at=run_at,
            timeout_seconds=timeout_seconds,
            unique_key=unique_key,
        )

        return enqueue_request
