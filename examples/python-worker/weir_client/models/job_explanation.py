from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.explain_reason import ExplainReason
from ..types import UNSET, Unset

T = TypeVar("T", bound="JobExplanation")


@_attrs_define
class JobExplanation:
    """One reason and its details; which fields are present depends on it.

    Attributes:
        reason (ExplainReason): Why a job is not running (yet).
        state (str): The job's state.
        ahead (int | Unset): Available jobs of higher or equal priority ahead of it (`queued_behind`).
        deadline (datetime.datetime | Unset):
        finished_at (datetime.datetime | Unset):
        key (str | Unset): The job's concurrency key (`key_concurrency_limit`).
        kind (str | Unset): The kind no live worker serves (`no_worker_for_kind`).
        max_ (int | Unset): The limit reached.
        node_id (UUID | Unset): The node running it (`running`).
        queue (str | Unset):
        running (int | Unset): Jobs running now (`queue_concurrency_limit`, `key_concurrency_limit`).
        started (int | Unset): Starts in the current window (`rate_limited`).
        started_at (datetime.datetime | Unset):
        until (datetime.datetime | Unset): When the job may run (`scheduled`, `retry_backoff`), or when the
            rate window allows the next start (`rate_limited`).
        waiting_on (list[UUID] | Unset): The unfinished jobs it depends on (`waiting_on_dependencies`).
    """

    reason: ExplainReason
    state: str
    ahead: int | Unset = UNSET
    deadline: datetime.datetime | Unset = UNSET
    finished_at: datetime.datetime | Unset = UNSET
    key: str | Unset = UNSET
    kind: str | Unset = UNSET
    max_: int | Unset = UNSET
    node_id: UUID | Unset = UNSET
    queue: str | Unset = UNSET
    running: int | Unset = UNSET
    started: int | Unset = UNSET
    started_at: datetime.datetime | Unset = UNSET
    until: datetime.datetime | Unset = UNSET
    waiting_on: list[UUID] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason.value

        state = self.state

        ahead = self.ahead

        deadline: str | Unset = UNSET
        if not isinstance(self.deadline, Unset):
            deadline = self.deadline.isoformat()

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        key = self.key

        kind = self.kind

        max_ = self.max_

        node_id: str | Unset = UNSET
        if not isinstance(self.node_id, Unset):
            node_id = str(self.node_id)

        queue = self.queue

        running = self.running

        started = self.started

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        until: str | Unset = UNSET
        if not isinstance(self.until, Unset):
            until = self.until.isoformat()

        waiting_on: list[str] | Unset = UNSET
        if not isinstance(self.waiting_on, Unset):
            waiting_on = []
            for waiting_on_item_data in self.waiting_on:
                waiting_on_item = str(waiting_on_item_data)
                waiting_on.append(waiting_on_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "reason": reason,
                "state": state,
            }
        )
        if ahead is not UNSET:
            field_dict["ahead"] = ahead
        if deadline is not UNSET:
            field_dict["deadline"] = deadline
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if key is not UNSET:
            field_dict["key"] = key
        if kind is not UNSET:
            field_dict["kind"] = kind
        if max_ is not UNSET:
            field_dict["max"] = max_
        if node_id is not UNSET:
            field_dict["node_id"] = node_id
        if queue is not UNSET:
            field_dict["queue"] = queue
        if running is not UNSET:
            field_dict["running"] = running
        if started is not UNSET:
            field_dict["started"] = started
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if until is not UNSET:
            field_dict["until"] = until
        if waiting_on is not UNSET:
            field_dict["waiting_on"] = waiting_on

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        reason = ExplainReason(d.pop("reason"))

        state = d.pop("state")

        ahead = d.pop("ahead", UNSET)

        _deadline = d.pop("deadline", UNSET)
        deadline: datetime.datetime | Unset
        if isinstance(_deadline, Unset):
            deadline = UNSET
        else:
            deadline = datetime.datetime.fromisoformat(_deadline)

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = datetime.datetime.fromisoformat(_finished_at)

        key = d.pop("key", UNSET)

        kind = d.pop("kind", UNSET)

        max_ = d.pop("max", UNSET)

        _node_id = d.pop("node_id", UNSET)
        node_id: UUID | Unset
        if isinstance(_node_id, Unset):
            node_id = UNSET
        else:
            node_id = UUID(_node_id)

        queue = d.pop("queue", UNSET)

        running = d.pop("running", UNSET)

        started = d.pop("started", UNSET)

        _started_at = d.pop("started_at", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = datetime.datetime.fromisoformat(_started_at)

        _until = d.pop("until", UNSET)
        until: datetime.datetime | Unset
        if isinstance(_until, Unset):
            until = UNSET
        else:
            until = datetime.datetime.fromisoformat(_until)

        _waiting_on = d.pop("waiting_on", UNSET)
        waiting_on: list[UUID] | Unset = UNSET
        if _waiting_on is not UNSET:
            waiting_on = []
            for waiting_on_item_data in _waiting_on:
                waiting_on_item = UUID(waiting_on_item_data)

                waiting_on.append(waiting_on_item)

        job_explanation = cls(
            reason=reason,
            state=state,
            ahead=ahead,
            deadline=deadline,
            finished_at=finished_at,
            key=key,
            kind=kind,
            max_=max_,
            node_id=node_id,
            queue=queue,
            running=running,
            started=started,
            started_at=started_at,
            until=until,
            waiting_on=waiting_on,
        )

        job_explanation.additional_properties = d
        return job_explanation

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
