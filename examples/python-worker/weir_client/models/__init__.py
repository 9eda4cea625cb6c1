"""Contains all the data models used in inputs/outputs"""

from .attempt_error import AttemptError
from .catch_up import CatchUp
from .claim_request import ClaimRequest
from .claimed_job import ClaimedJob
from .claimed_job_args import ClaimedJobArgs
from .claimed_jobs import ClaimedJobs
from .complete_batch_request import CompleteBatchRequest
from .complete_request import CompleteRequest
from .completed_batch import CompletedBatch
from .completed_job import CompletedJob
from .create_workflow_request import CreateWorkflowRequest
from .enqueue_batch_request import EnqueueBatchRequest
from .enqueue_request import EnqueueRequest
from .enqueue_request_args_type_0 import EnqueueRequestArgsType0
from .explain_reason import ExplainReason
from .fail_request import FailRequest
from .heartbeat import Heartbeat
from .job import Job
from .job_args import JobArgs
from .job_batch import JobBatch
from .job_event_type import JobEventType
from .job_events_response_200 import JobEventsResponse200
from .job_events_response_200_event import JobEventsResponse200Event
from .job_explanation import JobExplanation
from .job_list import JobList
from .job_state import JobState
from .problem import Problem
from .progress import Progress
from .progress_request import ProgressRequest
from .queue import Queue
from .queue_limits_patch import QueueLimitsPatch
from .queue_list import QueueList
from .recorded import Recorded
from .register_worker import RegisterWorker
from .registered_worker import RegisteredWorker
from .schedule import Schedule
from .schedule_args import ScheduleArgs
from .schedule_list import ScheduleList
from .schedule_request import ScheduleRequest
from .schedule_request_args_type_0 import ScheduleRequestArgsType0
from .snooze_request import SnoozeRequest
from .state_counts import StateCounts
from .unregistered import Unregistered
from .worker import Worker
from .worker_list import WorkerList
from .workflow import Workflow
from .workflow_counts import WorkflowCounts
from .workflow_events_response_200 import WorkflowEventsResponse200
from .workflow_events_response_200_event import WorkflowEventsResponse200Event
from .workflow_job_request import WorkflowJobRequest
from .workflow_job_request_args_type_0 import WorkflowJobRequestArgsType0
from .workflow_list import WorkflowList
from .workflow_progress import WorkflowProgress
from .workflow_state import WorkflowState

__all__ = (
    "AttemptError",
    "CatchUp",
    "ClaimRequest",
    "ClaimedJob",
    "ClaimedJobArgs",
    "ClaimedJobs",
    "CompleteBatchRequest",
    "CompleteRequest",
    "CompletedBatch",
    "CompletedJob",
    "CreateWorkflowRequest",
    "EnqueueBatchRequest",
    "EnqueueRequest",
    "EnqueueRequestArgsType0",
    "ExplainReason",
    "FailRequest",
    "Heartbeat",
    "Job",
    "JobArgs",
    "JobBatch",
    "JobEventType",
    "JobEventsResponse200",
    "JobEventsResponse200Event",
    "JobExplanation",
    "JobList",
    "JobState",
    "Problem",
    "Progress",
    "ProgressRequest",
    "Queue",
    "QueueLimitsPatch",
    "QueueList",
    "Recorded",
    "RegisterWorker",
    "RegisteredWorker",
    "Schedule",
    "ScheduleArgs",
    "ScheduleList",
    "ScheduleRequest",
    "ScheduleRequestArgsType0",
    "SnoozeRequest",
    "StateCounts",
    "Unregistered",
    "Worker",
    "WorkerList",
    "Workflow",
    "WorkflowCounts",
    "WorkflowEventsResponse200",
    "WorkflowEventsResponse200Event",
    "WorkflowJobRequest",
    "WorkflowJobRequestArgsType0",
    "WorkflowList",
    "WorkflowProgress",
    "WorkflowState",
)
