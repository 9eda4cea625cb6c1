from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProgressRequest")


@_attrs_define
class ProgressRequest:
    """A progress report.

    Attributes:
        claim_token (UUID):
        done (int | None | Unset):
        message (None | str | Unset):
        total (int | None | Unset):
    """

    claim_token: UUID
    done: int | None | Unset = UNSET
    message: None | str | Unset = UNSET
    total: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        claim_token = str(self.claim_token)

        done: int | None | Unset
        if isinstance(self.done, Unset):
            done = UNSET
        else:
            done = self.done

        message: None | str | Unset
        if isinstance(self.message, Unset):
            message = UNSET
        else:
            message = self.message

        total: int | None | Unset
        if isinstance(self.total, Unset):
            total = UNSET
        else:
            total = self.total

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "claim_token": claim_token,
            }
        )
        if done is not UNSET:
            field_dict["done"] = done
        if message is not UNSET:
            field_dict["message"] = message
        if total is not UNSET:
            field_dict["total"] = total

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        claim_token = UUID(d.pop("claim_token"))

        def _parse_done(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        done = _parse_done(d.pop("done", UNSET))

        def _parse_message(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message = _parse_message(d.pop("message", UNSET))

        def _parse_total(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        total = _parse_total(d.pop("total", UNSET))

        progress_request = cls(
            claim_token=claim_token,
            done=done,
            message=message,
            total=total,
        )

        return progress_request
