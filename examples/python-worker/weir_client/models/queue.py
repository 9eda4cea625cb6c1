from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.state_counts import StateCounts


T = TypeVar("T", bound="Queue")


@_attrs_define
class Queue:
    """A queue and what is in it.

    Attributes:
        counts (StateCounts): Jobs of a queue in each state.
        name (str):
        paused (bool): Paused queues are not claimed from, on any node.
        unserved_kinds (list[str]): Kinds with jobs waiting here that no live worker serves on this queue.
        max_running (int | Unset): At most this many jobs of the queue run at once, across every node.
        max_running_per_key (int | Unset): At most this many jobs of one `concurrency_key` run at once.
        oldest_available_age_seconds (float | Unset): Age of the oldest available job, in seconds.
        rate_limit (int | Unset): At most this many claims (attempt starts) in any window of `rate_period`.
        rate_period (float | Unset): The window of `rate_limit`, in seconds.
    """

    counts: StateCounts
    name: str
    paused: bool
    unserved_kinds: list[str]
    max_running: int | Unset = UNSET
    max_running_per_key: int | Unset = UNSET
    oldest_available_age_seconds: float | Unset = UNSET
    rate_limit: int | Unset = UNSET
    rate_period: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts.to_dict()

        name = self.name

        paused = self.paused

        unserved_kinds = self.unserved_kinds

        max_running = self.max_running

        max_running_per_key = self.max_running_per_key

        oldest_available_age_seconds = self.oldest_available_age_seconds

        rate_limit = self.rate_limit

        rate_period = self.rate_period

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "counts": counts,
                "name": name,
                "paused": paused,
                "unserved_kinds": unserved_kinds,
            }
        )
        if max_running is not UNSET:
            field_dict["max_running"] = max_running
        if max_running_per_key is not UNSET:
            field_dict["max_running_per_key"] = max_running_per_key
        if oldest_available_age_seconds is not UNSET:
            field_dict["oldest_available_age_seconds"] = oldest_available_age_seconds
        if rate_limit is not UNSET:
            field_dict["rate_limit"] = rate_limit
        if rate_period is not UNSET:
            field_dict["rate_period"] = rate_period

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.state_counts import StateCounts

        d = dict(src_dict)
        counts = StateCounts.from_dict(d.pop("counts"))

        name = d.pop("name")

        paused = d.pop("paused")

        unserved_kinds = cast(list[str], d.pop("unserved_kinds"))

        max_running = d.pop("max_running", UNSET)

        max_running_per_key = d.pop("max_running_per_key", UNSET)

        oldest_available_age_seconds = d.pop("oldest_available_age_seconds", UNSET)

        rate_limit = d.pop("rate_limit", UNSET)

        rate_period = d.pop("rate_period", UNSET)

        queue = cls(
            counts=counts,
            name=name,
            paused=paused,
            unserved_kinds=unserved_kinds,
            max_running=max_running,
            max_running_per_key=max_running_per_key,
            oldest_available_age_seconds=oldest_available_age_seconds,
            rate_limit=rate_limit,
            rate_period=rate_period,
        )

        queue.additional_properties = d
        return queue

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
