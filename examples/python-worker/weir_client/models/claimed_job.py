from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.claimed_job_args import ClaimedJobArgs


T = TypeVar("T", bound="ClaimedJob")


@_attrs_define
class ClaimedJob:
    """A claimed job: run it, then report with its `claim_token`.

    Attributes:
        args (ClaimedJobArgs):
        attempt (int): This attempt's number (1 for the first).
        claim_token (UUID): Pass it to every report about this attempt.
        deadline (datetime.datetime): The attempt is taken back (and retried) after this.
        id (UUID):
        kind (str):
        parents (Any): Results of the jobs this one depends on.
        traceparent (str | Unset): W3C trace context of the enqueue: make the attempt's span its
            child. Absent when the job has none.
    """

    args: ClaimedJobArgs
    attempt: int
    claim_token: UUID
    deadline: datetime.datetime
    id: UUID
    kind: str
    parents: Any
    traceparent: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        args = self.args.to_dict()

        attempt = self.attempt

        claim_token = str(self.claim_token)

        deadline = self.deadline.isoformat()

        id = str(self.id)

        kind = self.kind

        parents = self.parents

        traceparent = self.traceparent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "args": args,
                "attempt": attempt,
                "claim_token": claim_token,
                "deadline": deadline,
                "id": id,
                "kind": kind,
                "parents": parents,
            }
        )
        if traceparent is not UNSET:
            field_dict["traceparent"] = traceparent

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.claimed_job_args import ClaimedJobArgs

        d = dict(src_dict)
        args = ClaimedJobArgs.from_dict(d.pop("args"))

        attempt = d.pop("attempt")

        claim_token = UUID(d.pop("claim_token"))

        deadline = datetime.datetime.fromisoformat(d.pop("deadline"))

        id = UUID(d.pop("id"))

        kind = d.pop("kind")

        parents = d.pop("parents")

        traceparent = d.pop("traceparent", UNSET)

        claimed_job = cls(
            args=args,
            attempt=attempt,
            claim_token=claim_token,
            deadline=deadline,
            id=id,
            kind=kind,
            parents=parents,
            traceparent=traceparent,
        )

        claimed_job.additional_properties = d
        return claimed_job

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
