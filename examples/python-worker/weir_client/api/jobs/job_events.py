from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.job_events_response_200 import JobEventsResponse200
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    id: UUID,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/jobs/{id}/events".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> JobEventsResponse200 | Problem | None:
    if response.status_code == 200:
        response_200 = JobEventsResponse200.from_dict(response.text)

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

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
) -> Response[JobEventsResponse200 | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[JobEventsResponse200 | Problem]:
    """Follow a job's events

     Server-Sent Events: the current state first, then one event per
    progress report (coalesced, a few per second at most) and per state
    change, ending after the terminal state, or when the server's stream
    lifetime (15 min by default) has passed: reconnect then. Each
    event's `data` is a `JobEvent`. Past the web node's limit of
    followed jobs, 503 with `Retry-After`.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventsResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> JobEventsResponse200 | Problem | None:
    """Follow a job's events

     Server-Sent Events: the current state first, then one event per
    progress report (coalesced, a few per second at most) and per state
    change, ending after the terminal state, or when the server's stream
    lifetime (15 min by default) has passed: reconnect then. Each
    event's `data` is a `JobEvent`. Past the web node's limit of
    followed jobs, 503 with `Retry-After`.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobEventsResponse200 | Problem
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> Response[JobEventsResponse200 | Problem]:
    """Follow a job's events

     Server-Sent Events: the current state first, then one event per
    progress report (coalesced, a few per second at most) and per state
    change, ending after the terminal state, or when the server's stream
    lifetime (15 min by default) has passed: reconnect then. Each
    event's `data` is a `JobEvent`. Past the web node's limit of
    followed jobs, 503 with `Retry-After`.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobEventsResponse200 | Problem]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: UUID,
    *,
    client: AuthenticatedClient,
) -> JobEventsResponse200 | Problem | None:
    """Follow a job's events

     Server-Sent Events: the current state first, then one event per
    progress report (coalesced, a few per second at most) and per state
    change, ending after the terminal state, or when the server's stream
    lifetime (15 min by default) has passed: reconnect then. Each
    event's `data` is a `JobEvent`. Past the web node's limit of
    followed jobs, 503 with `Retry-After`.

    Args:
        id (UUID):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobEventsResponse200 | Problem
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
