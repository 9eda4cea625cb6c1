from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FailRequest")


@_attrs_define
class FailRequest:
    """A failed attempt.

    Attributes:
        claim_token (UUID):
        message (str): What went wrong, kept in the job's `errors`.
        retryable (bool | Unset): False: fail the job now, whatever attempts are left (default true).
    """

    claim_token: UUID
    message: str
    retryable: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        claim_token = str(self.claim_token)

        message = self.message

        retryable = self.retryable

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
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

        retryable = d.pop("retryable", UNSET)

        fail_request = cls(
            claim_token=claim_token,
            message=message,
            retryable=retryable,
        )

        fail_request.additional_properties = d
        return fail_request

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
