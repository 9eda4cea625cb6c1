from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ClaimRequest")


@_attrs_define
class ClaimRequest:
    """What to claim.

    Attributes:
        queue (str): The queue to claim from.
        kinds (list[str]): Kinds to claim (those this worker has handlers for).
        max_ (int | Unset): Most jobs to claim, 1 to 1000 (default 1). Claim no more than you
            can start now: claimed jobs are `running` and count against their
            timeout.
        wait (float | Unset): Seconds to wait for a job when none is available (0 to the server's
            cap, 60 s by default; default 0): a long-poll woken by NOTIFY.
    """

    queue: str
    kinds: list[str]
    max_: int | Unset = UNSET
    wait: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queue = self.queue

        kinds = self.kinds

        max_ = self.max_

        wait = self.wait

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "queue": queue,
                "kinds": kinds,
            }
        )
        if max_ is not UNSET:
            field_dict["max"] = max_
        if wait is not UNSET:
            field_dict["wait"] = wait

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        queue = d.pop("queue")

        kinds = cast(list[str], d.pop("kinds"))

        max_ = d.pop("max", UNSET)

        wait = d.pop("wait", UNSET)

        claim_request = cls(
            queue=queue,
            kinds=kinds,
            max_=max_,
            wait=wait,
        )

        claim_request.additional_properties = d
        return claim_request

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
