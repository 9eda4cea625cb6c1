from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Heartbeat")


@_attrs_define
class Heartbeat:
    """What a heartbeat answers.

    Attributes:
        cancel_requested (list[UUID]): Running jobs of this node whose cancel was requested: stop their
            handlers and report them with `/fail` (they end `cancelled`).
    """

    cancel_requested: list[UUID]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cancel_requested = []
        for cancel_requested_item_data in self.cancel_requested:
            cancel_requested_item = str(cancel_requested_item_data)
            cancel_requested.append(cancel_requested_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cancel_requested": cancel_requested,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        cancel_requested = []
        _cancel_requested = d.pop("cancel_requested")
        for cancel_requested_item_data in _cancel_requested:
            cancel_requested_item = UUID(cancel_requested_item_data)

            cancel_requested.append(cancel_requested_item)

        heartbeat = cls(
            cancel_requested=cancel_requested,
        )

        heartbeat.additional_properties = d
        return heartbeat

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
