from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StateCounts")


@_attrs_define
class StateCounts:
    """Jobs of a queue in each state.

    Attributes:
        pending (int):
        scheduled (int):
        available (int):
        running (int):
        retryable (int):
        succeeded (int):
        failed (int):
        cancelled (int):
    """

    pending: int
    scheduled: int
    available: int
    running: int
    retryable: int
    succeeded: int
    failed: int
    cancelled: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        pending = self.pending

        scheduled = self.scheduled

        available = self.available

        running = self.running

        retryable = self.retryable

        succeeded = self.succeeded

        failed = self.failed

        cancelled = self.cancelled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "pending": pending,
                "scheduled": scheduled,
                "available": available,
                "running": running,
                "retryable": retryable,
                "succeeded": succeeded,
                "failed": failed,
                "cancelled": cancelled,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        pending = d.pop("pending")

        scheduled = d.pop("scheduled")

        available = d.pop("available")

        running = d.pop("running")

        retryable = d.pop("retryable")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        cancelled = d.pop("cancelled")

        state_counts = cls(
            pending=pending,
            scheduled=scheduled,
            available=available,
            running=running,
            retryable=retryable,
            succeeded=succeeded,
            failed=failed,
            cancelled=cancelled,
        )

        state_counts.additional_properties = d
        return state_counts

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
