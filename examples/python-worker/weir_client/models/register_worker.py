from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RegisterWorker")


@_attrs_define
class RegisterWorker:
    """A worker node to register.

    Attributes:
        name (str): A label for the node: its host or process, shown in `GET /v1/workers`.
        queues (list[str]): Queues it serves.
        kinds (list[str]): Kinds it has handlers for.
    """

    name: str
    queues: list[str]
    kinds: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        queues = self.queues

        kinds = self.kinds

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "queues": queues,
                "kinds": kinds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        name = d.pop("name")

        queues = cast(list[str], d.pop("queues"))

        kinds = cast(list[str], d.pop("kinds"))

        register_worker = cls(
            name=name,
            queues=queues,
            kinds=kinds,
        )

        register_worker.additional_properties = d
        return register_worker

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
