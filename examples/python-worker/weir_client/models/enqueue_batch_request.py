from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.enqueue_request import EnqueueRequest


T = TypeVar("T", bound="EnqueueBatchRequest")


@_attrs_define
class EnqueueBatchRequest:
    """Many jobs to enqueue in one transaction.

    Attributes:
        jobs (list[EnqueueRequest]): 1 to 1,000 jobs; all are enqueued or none.
    """

    jobs: list[EnqueueRequest]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        jobs = []
        for jobs_item_data in self.jobs:
            jobs_item = jobs_item_data.to_dict()
            jobs.append(jobs_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "jobs": jobs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.enqueue_request import EnqueueRequest

        d = dict(src_dict)
        jobs = []
        _jobs = d.pop("jobs")
        for jobs_item_data in _jobs:
            jobs_item = EnqueueRequest.from_dict(jobs_item_data)

            jobs.append(jobs_item)

        enqueue_batch_request = cls(
            jobs=jobs,
        )

        enqueue_batch_request.additional_properties = d
        return enqueue_batch_request

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
