from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_list import JobList
from ...models.job_state import JobState
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: JobState | Unset = UNSET,
    queue: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state.value

    params["state"] = json_state

    params["queue"] = queue

    params["kind"] = kind

    params["limit"] = limit

    params["cursor"] = cursor

    params["include"] = include

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobList | Problem | None:
    if response.status_code == 200:
        response_200 = JobList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if 400 <= response.status_code <= 499:
        response_4xx = Problem.from_dict(response.json())

        return response_4xx

    if 500 <= response.status_code <= 599:
        response_5xx = Problem.from_dict(response.json())

        return response_5xx

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[JobList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    state: JobState | Unset = UNSET,
    queue: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include: str | Unset = UNSET,
) -> Response[JobList | Problem]:
    """List jobs

     Newest first, filtered by `state`, `queue` and `kind`. Pages are
    keyset-paginated: pass `next_cursor` as `cursor`; jobs enqueued
    meanwhile never shift later pages. Jobs are listed without `args`
    and `result` unless `include` asks for them. A page ends early, with
    `next_cursor`, before its jobs pass the server's size limit (8 MiB
    of JSON by default).

    Args:
        state (JobState | Unset): The state of a job.
        queue (str | Unset):
        kind (str | Unset):
        limit (int | Unset):
        cursor (str | Unset):
        include (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobList | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        queue=queue,
        kind=kind,
        limit=limit,
        cursor=cursor,
        include=include,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    state: JobState | Unset = UNSET,
    queue: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include: str | Unset = UNSET,
) -> JobList | Problem | None:
    """List jobs

     Newest first, filtered by `state`, `queue` and `kind`. Pages are
    keyset-paginated: pass `next_cursor` as `cursor`; jobs enqueued
    meanwhile never shift later pages. Jobs are listed without `args`
    and `result` unless `include` asks for them. A page ends early, with
    `next_cursor`, before its jobs pass the server's size limit (8 MiB
    of JSON by default).

    Args:
        state (JobState | Unset): The state of a job.
        queue (str | Unset):
        kind (str | Unset):
        limit (int | Unset):
        cursor (str | Unset):
        include (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobList | Problem
    """

    return sync_detailed(
        client=client,
        state=state,
        queue=queue,
        kind=kind,
        limit=limit,
        cursor=cursor,
        include=include,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    state: JobState | Unset = UNSET,
    queue: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include: str | Unset = UNSET,
) -> Response[JobList | Problem]:
    """List jobs

     Newest first, filtered by `state`, `queue` and `kind`. Pages are
    keyset-paginated: pass `next_cursor` as `cursor`; jobs enqueued
    meanwhile never shift later pages. Jobs are listed without `args`
    and `result` unless `include` asks for them. A page ends early, with
    `next_cursor`, before its jobs pass the server's size limit (8 MiB
    of JSON by default).

    Args:
        state (JobState | Unset): The state of a job.
        queue (str | Unset):
        kind (str | Unset):
        limit (int | Unset):
        cursor (str | Unset):
        include (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobList | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        queue=queue,
        kind=kind,
        limit=limit,
        cursor=cursor,
        include=include,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    state: JobState | Unset = UNSET,
    queue: str | Unset = UNSET,
    kind: str | Unset = UNSET,
    limit: int | Unset = UNSET,
    cursor: str | Unset = UNSET,
    include: str | Unset = UNSET,
) -> JobList | Problem | None:
    """List jobs

     Newest first, filtered by `state`, `queue` and `kind`. Pages are
    keyset-paginated: pass `next_cursor` as `cursor`; jobs enqueued
    meanwhile never shift later pages. Jobs are listed without `args`
    and `result` unless `include` asks for them. A page ends early, with
    `next_cursor`, before its jobs pass the server's size limit (8 MiB
    of JSON by default).

    Args:
        state (JobState | Unset): The state of a job.
        queue (str | Unset):
        kind (str | Unset):
        limit (int | Unset):
        cursor (str | Unset):
        include (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            queue=queue,
            kind=kind,
            limit=limit,
            cursor=cursor,
            include=include,
        )
    ).parsed
