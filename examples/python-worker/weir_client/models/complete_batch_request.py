from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.completed_job import CompletedJob


T = TypeVar("T", bound="CompleteBatchRequest")


@_attrs_define
class CompleteBatchRequest:
    """Many successes, recorded in one statement.

    Attributes:
        jobs (list[CompletedJob]):
    """

    jobs: list[CompletedJob]

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
        from ..models.completed_job import CompletedJob

        d = dict(src_dict)
        jobs = []
        _jobs = d.pop("jobs")
        for jobs_item_data in _jobs:
            jobs_item = CompletedJob.from_dict(jobs_item_data)

            jobs.append(jobs_item)

        complete_batch_request = cls(
            jobs=jobs,
        )

        return complete_batch_request
