from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.complete_batch_request import CompleteBatchRequest
from ...models.completed_batch import CompletedBatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    *,
    body: CompleteBatchRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs/complete",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CompletedBatch | Problem | None:
    if response.status_code == 200:
        response_200 = CompletedBatch.from_dict(response.json())

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
) -> Response[CompletedBatch | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CompleteBatchRequest,
) -> Response[CompletedBatch | Problem]:
    """Complete many claimed jobs

     Records up to 1,000 successes in one statement (one commit), for
    workers that run jobs in batches. Answers which were recorded and
    which had a stale claim token (those changed nothing).

    Args:
        body (CompleteBatchRequest): Many successes, recorded in one statement.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CompletedBatch | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: CompleteBatchRequest,
) -> CompletedBatch | Problem | None:
    """Complete many claimed jobs

     Records up to 1,000 successes in one statement (one commit), for
    workers that run jobs in batches. Answers which were recorded and
    which had a stale claim token (those changed nothing).

    Args:
        body (CompleteBatchRequest): Many successes, recorded in one statement.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CompletedBatch | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CompleteBatchRequest,
) -> Response[CompletedBatch | Problem]:
    """Complete many claimed jobs

     Records up to 1,000 successes in one statement (one commit), for
    workers that run jobs in batches. Answers which were recorded and
    which had a stale claim token (those changed nothing).

    Args:
        body (CompleteBatchRequest): Many successes, recorded in one statement.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CompletedBatch | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CompleteBatchRequest,
) -> CompletedBatch | Problem | None:
    """Complete many claimed jobs

     Records up to 1,000 successes in one statement (one commit), for
    workers that run jobs in batches. Answers which were recorded and
    which had a stale claim token (those changed nothing).

    Args:
        body (CompleteBatchRequest): Many successes, recorded in one statement.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CompletedBatch | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
