from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.workflow_state import WorkflowState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.job import Job
    from ..models.workflow_counts import WorkflowCounts
    from ..models.workflow_progress import WorkflowProgress


T = TypeVar("T", bound="Workflow")


@_attrs_define
class Workflow:
    """A workflow: its derived state, jobs per state, summed progress and
    (except in lists) its jobs in submission order.

        Attributes:
            counts (WorkflowCounts): A workflow's jobs per state.
            created_at (datetime.datetime):
            id (UUID): UUIDv7, time-ordered.
            job_count (int): How many jobs it was submitted with.
            progress (WorkflowProgress): The progress reports of a workflow's jobs, summed.
            state (WorkflowState): A workflow's state, derived from its jobs.
            finished_at (datetime.datetime | Unset): When its last job finished, once every job has.
            jobs (list[Job] | Unset): Its jobs, in submission order (left out of `GET /v1/workflows`).
            name (str | Unset):
    """

    counts: WorkflowCounts
    created_at: datetime.datetime
    id: UUID
    job_count: int
    progress: WorkflowProgress
    state: WorkflowState
    finished_at: datetime.datetime | Unset = UNSET
    jobs: list[Job] | Unset = UNSET
    name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        counts = self.counts.to_dict()

        created_at = self.created_at.isoformat()

        id = str(self.id)

        job_count = self.job_count

        progress = self.progress.to_dict()

        state = self.state.value

        finished_at: str | Unset = UNSET
        if not isinstance(self.finished_at, Unset):
            finished_at = self.finished_at.isoformat()

        jobs: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.jobs, Unset):
            jobs = []
            for jobs_item_data in self.jobs:
                jobs_item = jobs_item_data.to_dict()
                jobs.append(jobs_item)

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "counts": counts,
                "created_at": created_at,
                "id": id,
                "job_count": job_count,
                "progress": progress,
                "state": state,
            }
        )
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if jobs is not UNSET:
            field_dict["jobs"] = jobs
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.job import Job
        from ..models.workflow_counts import WorkflowCounts
        from ..models.workflow_progress import WorkflowProgress

        d = dict(src_dict)
        counts = WorkflowCounts.from_dict(d.pop("counts"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        job_count = d.pop("job_count")

        progress = WorkflowProgress.from_dict(d.pop("progress"))

        state = WorkflowState(d.pop("state"))

        _finished_at = d.pop("finished_at", UNSET)
        finished_at: datetime.datetime | Unset
        if isinstance(_finished_at, Unset):
            finished_at = UNSET
        else:
            finished_at = datetime.datetime.fromisoformat(_finished_at)

        _jobs = d.pop("jobs", UNSET)
        jobs: list[Job] | Unset = UNSET
        if _jobs is not UNSET:
            jobs = []
            for jobs_item_data in _jobs:
                jobs_item = Job.from_dict(jobs_item_data)

                jobs.append(jobs_item)

        name = d.pop("name", UNSET)

        workflow = cls(
            counts=counts,
            created_at=created_at,
            id=id,
            job_count=job_count,
            progress=progress,
            state=state,
            finished_at=finished_at,
            jobs=jobs,
            name=name,
        )

        workflow.additional_properties = d
        return workflow

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
