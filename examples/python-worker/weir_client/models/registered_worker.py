from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RegisteredWorker")


@_attrs_define
class RegisteredWorker:
    """A registered worker node and how to keep it alive.

    Attributes:
        dead_after_seconds (int): A node whose last heartbeat is older than this is declared dead and
            its jobs are rescued, in seconds.
        heartbeat_interval_seconds (int): Heartbeat at least this often, in seconds.
        id (UUID): The node's id: pass it to heartbeat, claim and unregister.
    """

    dead_after_seconds: int
    heartbeat_interval_seconds: int
    id: UUID
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dead_after_seconds = self.dead_after_seconds

        heartbeat_interval_seconds = self.heartbeat_interval_seconds

        id = str(self.id)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dead_after_seconds": dead_after_seconds,
                "heartbeat_interval_seconds": heartbeat_interval_seconds,
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        dead_after_seconds = d.pop("dead_after_seconds")

        heartbeat_interval_seconds = d.pop("heartbeat_interval_seconds")

        id = UUID(d.pop("id"))

        registered_worker = cls(
            dead_after_seconds=dead_after_seconds,
            heartbeat_interval_seconds=heartbeat_interval_seconds,
            id=id,
        )

        registered_worker.additional_properties = d
        return registered_worker

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
