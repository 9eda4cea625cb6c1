from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.claim_request import ClaimRequest
from ...models.claimed_jobs import ClaimedJobs
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    node: UUID,
    *,
    body: ClaimRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/workers/{node}/claim".format(
            node=quote(str(node), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ClaimedJobs | Problem | None:
    if response.status_code == 200:
        response_200 = ClaimedJobs.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

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
) -> Response[ClaimedJobs | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    node: UUID,
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> Response[ClaimedJobs | Problem]:
    """Claim jobs

     Up to `max` available jobs of `queue` whose kind is in `kinds`, each
    now `running` with a fresh `claim_token`. With `wait`, holds the
    request until a job comes or `wait` seconds pass (capped), woken by
    the queue's NOTIFY.

    Args:
        node (UUID):
        body (ClaimRequest): What to claim.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimedJobs | Problem]
    """

    kwargs = _get_kwargs(
        node=node,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    node: UUID,
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> ClaimedJobs | Problem | None:
    """Claim jobs

     Up to `max` available jobs of `queue` whose kind is in `kinds`, each
    now `running` with a fresh `claim_token`. With `wait`, holds the
    request until a job comes or `wait` seconds pass (capped), woken by
    the queue's NOTIFY.

    Args:
        node (UUID):
        body (ClaimRequest): What to claim.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimedJobs | Problem
    """

    return sync_detailed(
        node=node,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    node: UUID,
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> Response[ClaimedJobs | Problem]:
    """Claim jobs

     Up to `max` available jobs of `queue` whose kind is in `kinds`, each
    now `running` with a fresh `claim_token`. With `wait`, holds the
    request until a job comes or `wait` seconds pass (capped), woken by
    the queue's NOTIFY.

    Args:
        node (UUID):
        body (ClaimRequest): What to claim.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClaimedJobs | Problem]
    """

    kwargs = _get_kwargs(
        node=node,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    node: UUID,
    *,
    client: AuthenticatedClient,
    body: ClaimRequest,
) -> ClaimedJobs | Problem | None:
    """Claim jobs

     Up to `max` available jobs of `queue` whose kind is in `kinds`, each
    now `running` with a fresh `claim_token`. With `wait`, holds the
    request until a job comes or `wait` seconds pass (capped), woken by
    the queue's NOTIFY.

    Args:
        node (UUID):
        body (ClaimRequest): What to claim.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClaimedJobs | Problem
    """

    return (
        await asyncio_detailed(
            node=node,
            client=client,
            body=body,
        )
    ).parsed
