from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.catch_up import CatchUp
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.schedule_args import ScheduleArgs


T = TypeVar("T", bound="Schedule")


@_attrs_define
class Schedule:
    """A schedule, with its next tick.

    Attributes:
        args (ScheduleArgs):
        catch_up (CatchUp): What a schedule does with ticks missed while no node ran: enqueue the
            latest of them (`latest`, the default) or none.
        created_at (datetime.datetime):
        cron (str):
        kind (str):
        name (str):
        paused (bool):
        priority (int):
        queue (str):
        timezone (str):
        updated_at (datetime.datetime):
        error (str | Unset): Why the scheduler cannot compute the next tick.
        last_enqueued_at (datetime.datetime | Unset): When a tick was last enqueued.
        last_job_id (UUID | Unset): The job the last tick enqueued.
        max_attempts (int | Unset):
        next_run_at (datetime.datetime | Unset): The next tick; absent until the scheduler has read a new or
            changed expression (within a second or so), or when `error` says
            it cannot.
        timeout_seconds (int | Unset):
    """

    args: ScheduleArgs
    catch_up: CatchUp
    created_at: datetime.datetime
    cron: str
    kind: str
    name: str
    paused: bool
    priority: int
    queue: str
    timezone: str
    updated_at: datetime.datetime
    error: str | Unset = UNSET
    last_enqueued_at: datetime.datetime | Unset = UNSET
    last_job_id: UUID | Unset = UNSET
    max_attempts: int | Unset = UNSET
    next_run_at: datetime.datetime | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        args = self.args.to_dict()

        catch_up = self.catch_up.value

        created_at = self.created_at.isoformat()

        cron = self.cron

        kind = self.kind

        name = self.name

        paused = self.paused

        priority = self.priority

        queue = self.queue

        timezone = self.timezone

        updated_at = self.updated_at.isoformat()

        error = self.error

        last_enqueued_at: str | Unset = UNSET
        if not isinstance(self.last_enqueued_at, Unset):
            last_enqueued_at = self.last_enqueued_at.isoformat()

        last_job_id: str | Unset = UNSET
        if not isinstance(self.last_job_id, Unset):
            last_job_id = str(self.last_job_id)

        max_attempts = self.max_attempts

        next_run_at: str | Unset = UNSET
        if not isinstance(self.next_run_at, Unset):
            next_run_at = self.next_run_at.isoformat()

        timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "args": args,
                "catch_up": catch_up,
                "created_at": created_at,
                "cron": cron,
                "kind": kind,
                "name": name,
                "paused": paused,
                "priority": priority,
                "queue": queue,
                "timezone": timezone,
                "updated_at": updated_at,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if last_enqueued_at is not UNSET:
            field_dict["last_enqueued_at"] = last_enqueued_at
        if last_job_id is not UNSET:
            field_dict["last_job_id"] = last_job_id
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if next_run_at is not UNSET:
            field_dict["next_run_at"] = next_run_at
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.schedule_args import ScheduleArgs

        d = dict(src_dict)
        args = ScheduleArgs.from_dict(d.pop("args"))

        catch_up = CatchUp(d.pop("catch_up"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        cron = d.pop("cron")

        kind = d.pop("kind")

        name = d.pop("name")

        paused = d.pop("paused")

        priority = d.pop("priority")

        queue = d.pop("queue")

        timezone = d.pop("timezone")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        error = d.pop("error", UNSET)

        _last_enqueued_at = d.pop("last_enqueued_at", UNSET)
        last_enqueued_at: datetime.datetime | Unset
        if isinstance(_last_enqueued_at, Unset):
            last_enqueued_at = UNSET
        else:
            last_enqueued_at = datetime.datetime.fromisoformat(_last_enqueued_at)

        _last_job_id = d.pop("last_job_id", UNSET)
        last_job_id: UUID | Unset
        if isinstance(_last_job_id, Unset):
            last_job_id = UNSET
        else:
            last_job_id = UUID(_last_job_id)

        max_attempts = d.pop("max_attempts", UNSET)

        _next_run_at = d.pop("next_run_at", UNSET)
        next_run_at: datetime.datetime | Unset
        if isinstance(_next_run_at, Unset):
            next_run_at = UNSET
        else:
            next_run_at = datetime.datetime.fromisoformat(_next_run_at)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        schedule = cls(
            args=args,
            catch_up=catch_up,
            created_at=created_at,
            cron=cron,
            kind=kind,
            name=name,
            paused=paused,
            priority=priority,
            queue=queue,
            timezone=timezone,
            updated_at=updated_at,
            error=error,
            last_enqueued_at=last_enqueued_at,
            last_job_id=last_job_id,
            max_attempts=max_attempts,
            next_run_at=next_run_at,
            timeout_seconds=timeout_seconds,
        )

        schedule.additional_properties = d
        return schedule

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
