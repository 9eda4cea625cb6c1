from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="WorkflowCounts")


@_attrs_define
class WorkflowCounts:
    """A workflow's jobs per state.

    Attributes:
        available (int):
        cancelled (int):
        failed (int):
        pending (int):
        retryable (int):
        running (int):
        scheduled (int):
        succeeded (int):
    """

    available: int
    cancelled: int
    failed: int
    pending: int
    retryable: int
    running: int
    scheduled: int
    succeeded: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        available = self.available

        cancelled = self.cancelled

        failed = self.failed

        pending = self.pending

        retryable = self.retryable

        running = self.running

        scheduled = self.scheduled

        succeeded = self.succeeded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "available": available,
                "cancelled": cancelled,
                "failed": failed,
                "pending": pending,
                "retryable": retryable,
                "running": running,
                "scheduled": scheduled,
                "succeeded": succeeded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        available = d.pop("available")

        cancelled = d.pop("cancelled")

        failed = d.pop("failed")

        pending = d.pop("pending")

        retryable = d.pop("retryable")

        running = d.pop("running")

        scheduled = d.pop("scheduled")

        succeeded = d.pop("succeeded")

        workflow_counts = cls(
            available=available,
            cancelled=cancelled,
            failed=failed,
            pending=pending,
            retryable=retryable,
            running=running,
            scheduled=scheduled,
            succeeded=succeeded,
        )

        workflow_counts.additional_properties = d
        return workflow_counts

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
