from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="QueueLimitsPatch")


@_attrs_define
class QueueLimitsPatch:
    """Changes to a queue's limits: a field left out keeps its limit, `null`
    removes it, a number sets it. `rate_limit` and `rate_period` go
    together.

        Attributes:
            max_running (int | None | Unset): Jobs of the queue running at once, across every node.
            max_running_per_key (int | None | Unset): Jobs of one `concurrency_key` running at once.
            rate_limit (int | None | Unset): Claims (attempt starts) in any window of `rate_period`.
            rate_period (float | None | Unset): The window of `rate_limit`, in seconds (0.001 to 2678400, i.e. 31 days).
    """

    max_running: int | None | Unset = UNSET
    max_running_per_key: int | None | Unset = UNSET
    rate_limit: int | None | Unset = UNSET
    rate_period: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        max_running: int | None | Unset
        if isinstance(self.max_running, Unset):
            max_running = UNSET
        else:
            max_running = self.max_running

        max_running_per_key: int | None | Unset
        if isinstance(self.max_running_per_key, Unset):
            max_running_per_key = UNSET
        else:
            max_running_per_key = self.max_running_per_key

        rate_limit: int | None | Unset
        if isinstance(self.rate_limit, Unset):
            rate_limit = UNSET
        else:
            rate_limit = self.rate_limit

        rate_period: float | None | Unset
        if isinstance(self.rate_period, Unset):
            rate_period = UNSET
        else:
            rate_period = self.rate_period

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if max_running is not UNSET:
            field_dict["max_running"] = max_running
        if max_running_per_key is not UNSET:
            field_dict["max_running_per_key"] = max_running_per_key
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if rate_period is not UNSET:
            field_dict["rate_period"] = rate_period

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_max_running(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_running = _parse_max_running(d.pop("max_running", UNSET))

        def _parse_max_running_per_key(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_running_per_key = _parse_max_running_per_key(
            d.pop("max_running_per_key", UNSET)
        )

        def _parse_rate_limit(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        rate_limit = _parse_rate_limit(d.pop("rate_limit", UNSET))

        def _parse_rate_period(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        rate_period = _parse_rate_period(d.pop("rate_period", UNSET))

        queue_limits_patch = cls(
            max_running=max_running,
            max_running_per_key=max_running_per_key,
            rate_limit=rate_limit,
            rate_period=rate_period,
        )

        return queue_limits_patch
