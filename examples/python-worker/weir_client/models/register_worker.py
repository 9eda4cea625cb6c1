from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="RegisterWorker")


@_attrs_define
class RegisterWorker:
    """A worker node to register.

    Attributes:
        kinds (list[str]): Kinds it has handlers for.
        name (str): A label for the node: its host or process, shown in `GET /v1/workers`.
        queues (list[str]): Queues it serves.
    """

    kinds: list[str]
    name: str
    queues: list[str]

    def to_dict(self) -> dict[str, Any]:
        kinds = self.kinds

        name = self.name

        queues = self.queues

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kinds": kinds,
                "name": name,
                "queues": queues,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        kinds = cast(list[str], d.pop("kinds"))

        name = d.pop("name")

        queues = cast(list[str], d.pop("queues"))

        register_worker = cls(
            kinds=kinds,
            name=name,
            queues=queues,
        )

        return register_worker
