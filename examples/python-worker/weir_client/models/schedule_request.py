from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.schedule_request_args_type_0 import ScheduleRequestArgsType0


T = TypeVar("T", bound="ScheduleRequest")


@_attrs_define
class ScheduleRequest:
    """A schedule to create or replace. `cron` and `kind` are required.

    Example:
        {'args': {'ms': 100}, 'cron': '*/5 * * * *', 'kind': 'demo.sleep', 'timezone': 'Europe/Berlin'}

    Attributes:
        cron (str): 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first).
        kind (str): The kind of job each tick enqueues.
        args (None | ScheduleRequestArgsType0 | Unset): The jobs' arguments: a JSON object (default `{}`).
        catch_up (None | str | Unset): Ticks missed while no node ran: `latest` (default, enqueue the latest) or `none`.
        max_attempts (int | None | Unset): The jobs' attempts allowed (default 20).
        paused (bool | None | Unset): A paused schedule enqueues nothing (default false).
        priority (int | None | Unset): The jobs' priority (default 0).
        queue (None | str | Unset): The jobs' queue (default `default`).
        timeout_seconds (int | None | Unset): The jobs' per-attempt timeout in seconds.
        timezone (None | str | Unset): IANA time zone the expression is read in (default `UTC`).
    """

    cron: str
    kind: str
    args: None | ScheduleRequestArgsType0 | Unset = UNSET
    catch_up: None | str | Unset = UNSET
    max_attempts: int | None | Unset = UNSET
    paused: bool | None | Unset = UNSET
    priority: int | None | Unset = UNSET
    queue: None | str | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET
    timezone: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.schedule_request_args_type_0 import ScheduleRequestArgsType0

        cron = self.cron

        kind = self.kind

        args: dict[str, Any] | None | Unset
        if isinstance(self.args, Unset):
            args = UNSET
        elif isinstance(self.args, ScheduleRequestArgsType0):
            args = self.args.to_dict()
        else:
            args = self.args

        catch_up: None | str | Unset
        if isinstance(self.catch_up, Unset):
            catch_up = UNSET
        else:
            catch_up = self.catch_up

        max_attempts: int | None | Unset
        if isinstance(self.max_attempts, Unset):
            max_attempts = UNSET
        else:
            max_attempts = self.max_attempts

        paused: bool | None | Unset
        if isinstance(self.paused, Unset):
            paused = UNSET
        else:
            paused = self.paused

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

        timeout_seconds: int | None | Unset
        if isinstance(self.timeout_seconds, Unset):
            timeout_seconds = UNSET
        else:
            timeout_seconds = self.timeout_seconds

        timezone: None | str | Unset
        if isinstance(self.timezone, Unset):
            timezone = UNSET
        else:
            timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "cron": cron,
                "kind": kind,
            }
        )
        if args is not UNSET:
            field_dict["args"] = args
        if catch_up is not UNSET:
            field_dict["catch_up"] = catch_up
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if paused is not UNSET:
            field_dict["paused"] = paused
        if priority is not UNSET:
            field_dict["priority"] = priority
        if queue is not UNSET:
            field_dict["queue"] = queue
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if timezone is not UNSET:
            field_dict["timezone"] = timezone

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.schedule_request_args_type_0 import ScheduleRequestArgsType0

        d = dict(src_dict)
        cron = d.pop("cron")

        kind = d.pop("kind")

        def _parse_args(data: object) -> None | ScheduleRequestArgsType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                args_type_0 = ScheduleRequestArgsType0.from_dict(data)

                return args_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ScheduleRequestArgsType0 | Unset, data)

        args = _parse_args(d.pop("args", UNSET))

        def _parse_catch_up(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        catch_up = _parse_catch_up(d.pop("catch_up", UNSET))

        def _parse_max_attempts(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_attempts = _parse_max_attempts(d.pop("max_attempts", UNSET))

        def _parse_paused(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        paused = _parse_paused(d.pop("paused", UNSET))

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

        def _parse_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_seconds = _parse_timeout_seconds(d.pop("timeout_seconds", UNSET))

        def _parse_timezone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timezone = _parse_timezone(d.pop("timezone", UNSET))

        schedule_request = cls(
            cron=cron,
            kind=kind,
            args=args,
            catch_up=catch_up,
            max_attempts=max_attempts,
            paused=paused,
            priority=priority,
            queue=queue,
            timeout_seconds=timeout_seconds,
            timezone=timezone,
        )

        return schedule_request
