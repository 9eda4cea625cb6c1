from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CompletedJob")


@_attrs_define
class CompletedJob:
    """One success of a batch.

    Attributes:
        claim_token (UUID):
        id (UUID):
        result (Any | Unset): The handler's result (any JSON value).
    """

    claim_token: UUID
    id: UUID
    result: Any | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        claim_token = str(self.claim_token)

        id = str(self.id)

        result = self.result

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "claim_token": claim_token,
                "id": id,
            }
        )
        if result is not UNSET:
            field_dict["result"] = result

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_token = UUID(d.pop("claim_token"))

        id = UUID(d.pop("id"))

        result = d.pop("result", UNSET)

        completed_job = cls(
            claim_token=claim_token,
            id=id,
            result=result,
        )

        return completed_job
