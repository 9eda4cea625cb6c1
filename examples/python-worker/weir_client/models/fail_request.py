from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="FailRequest")


@_attrs_define
class FailRequest:
    """A failed attempt.

    Attributes:
        claim_token (UUID):
        message (str): What went wrong, kept in the job's `errors`.
        retryable (bool | None | Unset): False: fail the job now, whatever attempts are left (default true).
    """

    claim_token: UUID
    message: str
    retryable: bool | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        claim_token = str(self.claim_token)

        message = self.message

        retryable: bool | None | Unset
        if isinstance(self.retryable, Unset):
            retryable = UNSET
        else:
            retryable = self.retryable

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "claim_token": claim_token,
                "message": message,
            }
        )
        if retryable is not UNSET:
            field_dict["retryable"] = retryable

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_token = UUID(d.pop("claim_token"))

        message = d.pop("message")

        def _parse_retryable(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        retryable = _parse_retryable(d.pop("retryable", UNSET))

        fail_request = cls(
            claim_token=claim_token,
            message=message,
            retryable=retryable,
        )

        return fail_request
