from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ClaimRequest")


@_attrs_define
class ClaimRequest:
    """What to claim.

    Attributes:
        kinds (list[str]): Kinds to claim (those this worker has handlers for).
        queue (str): The queue to claim from.
        max_ (int | None | Unset): Most jobs to claim, 1 to 1000 (default 1). Claim no more than you
            can start now: claimed jobs are `running` and count against their
            timeout.
        wait (float | None | Unset): Seconds to wait for a job when none is available (0 to the server's
            cap, 60 s by default; default 0): a long-poll woken by NOTIFY.
    """

    kinds: list[str]
    queue: str
    max_: int | None | Unset = UNSET
    wait: float | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        kinds = self.kinds

        queue = self.queue

        max_: int | None | Unset
        if isinstance(self.max_, Unset):
            max_ = UNSET
        else:
            max_ = self.max_

        wait: float | None | Unset
        if isinstance(self.wait, Unset):
            wait = UNSET
        else:
            wait = self.wait

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "kinds": kinds,
                "queue": queue,
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
        kinds = cast(list[str], d.pop("kinds"))

        queue = d.pop("queue")

        def _parse_max_(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_ = _parse_max_(d.pop("max", UNSET))

        def _parse_wait(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        wait = _parse_wait(d.pop("wait", UNSET))

        claim_request = cls(
            kinds=kinds,
            queue=queue,
            max_=max_,
            wait=wait,
        )

        return claim_request
