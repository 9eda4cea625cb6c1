from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CompletedBatch")


@_attrs_define
class CompletedBatch:
    """Which successes of a batch were recorded.

    Attributes:
        recorded (list[UUID]): Recorded: these jobs are `succeeded`.
        stale (list[UUID]): Not recorded: their claim token was stale (rescued, re-claimed,
            cancelled or finished); drop those attempts.
    """

    recorded: list[UUID]
    stale: list[UUID]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        recorded = []
        for recorded_item_data in self.recorded:
            recorded_item = str(recorded_item_data)
            recorded.append(recorded_item)

        stale = []
        for stale_item_data in self.stale:
            stale_item = str(stale_item_data)
            stale.append(stale_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "recorded": recorded,
                "stale": stale,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        recorded = []
        _recorded = d.pop("recorded")
        for recorded_item_data in _recorded:
            recorded_item = UUID(recorded_item_data)

            recorded.append(recorded_item)

        stale = []
        _stale = d.pop("stale")
        for stale_item_data in _stale:
            stale_item = UUID(stale_item_data)

            stale.append(stale_item)

        completed_batch = cls(
            recorded=recorded,
            stale=stale,
        )

        completed_batch.additional_properties = d
        return completed_batch

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
