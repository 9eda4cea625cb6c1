from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Worker")


@_attrs_define
class Worker:
    """A live worker node.

    Attributes:
        host (str):
        id (UUID):
        kinds (list[str]): Kinds it has handlers for.
        last_heartbeat (datetime.datetime):
        pid (int):
        queues (Any): Queues served, with their concurrency.
        running (int): Attempts running on it at its last heartbeat.
        started_at (datetime.datetime):
    """

    host: str
    id: UUID
    kinds: list[str]
    last_heartbeat: datetime.datetime
    pid: int
    queues: Any
    running: int
    started_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        host = self.host

        id = str(self.id)

        kinds = self.kinds

        last_heartbeat = self.last_heartbeat.isoformat()

        pid = self.pid

        queues = self.queues

        running = self.running

        started_at = self.started_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "host": host,
                "id": id,
                "kinds": kinds,
                "last_heartbeat": last_heartbeat,
                "pid": pid,
                "queues": queues,
                "running": running,
                "started_at": started_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        host = d.pop("host")

        id = UUID(d.pop("id"))

        kinds = cast(list[str], d.pop("kinds"))

        last_heartbeat = datetime.datetime.fromisoformat(d.pop("last_heartbeat"))

        pid = d.pop("pid")

        queues = d.pop("queues")

        running = d.pop("running")

        started_at = datetime.datetime.fromisoformat(d.pop("started_at"))

        worker = cls(
            host=host,
            id=id,
            kinds=kinds,
            last_heartbeat=last_heartbeat,
            pid=pid,
            queues=queues,
            running=running,
            started_at=started_at,
        )

        worker.additional_properties = d
        return worker

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
