from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

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

    def to_dict(self) -> dict[str, Any]:
        jobs = []
        for jobs_item_data in self.jobs:
            jobs_item = jobs_item_data.to_dict()
            jobs.append(jobs_item)

        field_dict: dict[str, Any] = {}

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

        return enqueue_batch_request
