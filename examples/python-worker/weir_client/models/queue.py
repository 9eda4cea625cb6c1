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
        oldest_available_age_seconds (float | Unset): Age of the oldest available job, in seconds.
    """

    counts: StateCounts
    name: str
    paused: bool
    unserved_kinds: list[str]
    oldest_available_age_seconds: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts.to_dict()

        name = self.name

        paused = self.paused

        unserved_kinds = self.unserved_kinds

        oldest_available_age_seconds = self.oldest_available_age_seconds

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
        if oldest_available_age_seconds is not UNSET:
            field_dict["oldest_available_age_seconds"] = oldest_available_age_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.state_counts import StateCounts

        d = dict(src_dict)
        counts = StateCounts.from_dict(d.pop("counts"))

        name = d.pop("name")

        paused = d.pop("paused")

        unserved_kinds = cast(list[str], d.pop("unserved_kinds"))

        oldest_available_age_seconds = d.pop("oldest_available_age_seconds", UNSET)

        queue = cls(
            counts=counts,
            name=name,
            paused=paused,
            unserved_kinds=unserved_kinds,
            oldest_available_age_seconds=oldest_available_age_seconds,
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
