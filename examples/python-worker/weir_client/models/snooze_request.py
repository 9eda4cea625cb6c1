from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

T = TypeVar("T", bound="SnoozeRequest")


@_attrs_define
class SnoozeRequest:
    """ "Not now": try again later without spending the attempt.

    Attributes:
        claim_token (UUID):
        seconds (float): Seconds from now until the job is available again (0 to 31536000).
    """

    claim_token: UUID
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        claim_token = str(self.claim_token)

        seconds = self.seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "claim_token": claim_token,
                "seconds": seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_token = UUID(d.pop("claim_token"))

        seconds = d.pop("seconds")

        snooze_request = cls(
            claim_token=claim_token,
            seconds=seconds,
        )

        return snooze_request
