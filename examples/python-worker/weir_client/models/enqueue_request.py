from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="EnqueueRequest")


@_attrs_define
class EnqueueRequest:
    """A job to enqueue. Only `kind` is required.

    Attributes:
        kind (str): Name of the handler, e.g. `demo.process_item`.
        args (Any | Unset): Arguments: a JSON object (default `{}`).
        queue (str | Unset): Queue (default `default`): letters, digits, `_ . : -`.
        priority (int | Unset): Higher runs first (default 0).
        run_at (datetime.datetime | Unset): Run no sooner than this time. Exclusive with `delay_seconds`.
        delay_seconds (float | Unset): Run no sooner than this many seconds from now. Exclusive with `run_at`.
        max_attempts (int | Unset): Attempts allowed (default 20).
        timeout_seconds (int | Unset): Per-attempt timeout in seconds (default: the task's, else 30 min).
        unique_key (str | Unset): While a job with this key is not finished, enqueueing another with
            it returns that job (200) instead of creating one. Global: namespace
            it, e.g. `invoice:42`.
    """

    kind: str
    args: Any | Unset = UNSET
    queue: str | Unset = UNSET
    priority: int | Unset = UNSET
    run_at: datetime.datetime | Unset = UNSET
    delay_seconds: float | Unset = UNSET
    max_attempts: int | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    unique_key: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        kind = self.kind

        args = self.args

        queue = self.queue

        priority = self.priority

        run_at: str | Unset = UNSET
        if not isinstance(self.run_at, Unset):
            run_at = self.run_at.isoformat()

        delay_seconds = self.delay_seconds

        max_attempts = self.max_attempts

        timeout_seconds = self.timeout_seconds

        unique_key = self.unique_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if queue is not UNSET:
            field_dict["queue"] = queue
        if priority is not UNSET:
            field_dict["priority"] = priority
        if run_at is not UNSET:
            field_dict["run_at"] = run_at
        if delay_seconds is not UNSET:
            field_dict["delay_seconds"] = delay_seconds
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if unique_key is not UNSET:
            field_dict["unique_key"] = unique_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kind = d.pop("kind")

        args = d.pop("args", UNSET)

        queue = d.pop("queue", UNSET)

        priority = d.pop("priority", UNSET)

        _run_at = d.pop("run_at", UNSET)
        run_at: datetime.datetime | Unset
        if isinstance(_run_at, Unset):
            run_at = UNSET
        else:
            run_at = datetime.datetime.fromisoformat(_run_at)

        delay_seconds = d.pop("delay_seconds", UNSET)

        max_attempts = d.pop("max_attempts", UNSET)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        unique_key = d.pop("unique_key", UNSET)

        enqueue_request = cls(
            kind=kind,
            args=args,
            queue=queue,
            priority=priority,
            run_at=run_at,
            delay_seconds=delay_seconds,
            max_attempts=max_attempts,
            timeout_seconds=timeout_seconds,
            unique_key=unique_key,
        )

        enqueue_request.additional_properties = d
        return enqueue_request

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
