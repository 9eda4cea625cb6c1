from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.queue import Queue
from ...models.queue_limits_patch import QueueLimitsPatch
from ...types import Response


def _get_kwargs(
    name: str,
    *,
    body: QueueLimitsPatch,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v1/queues/{name}".format(
            name=quote(str(name), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Queue | None:
    if response.status_code == 200:
        response_200 = Queue.from_dict(response.json())

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
) -> Response[Problem | Queue]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: QueueLimitsPatch,
) -> Response[Problem | Queue]:
    """Set a queue's limits

     Flow control across every node: `max_running`,
    `max_running_per_key` (jobs carry a `concurrency_key`), and
    `rate_limit` claims per `rate_period` seconds. A field left out
    keeps its limit, `null` removes it. Claims committed after the
    answer honour the new limits.

    Args:
        name (str):
        body (QueueLimitsPatch): Changes to a queue's limits: a field left out keeps its limit,
            `null`
            removes it, a number sets it. `rate_limit` and `rate_period` go
            together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Queue]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: QueueLimitsPatch,
) -> Problem | Queue | None:
    """Set a queue's limits

     Flow control across every node: `max_running`,
    `max_running_per_key` (jobs carry a `concurrency_key`), and
    `rate_limit` claims per `rate_period` seconds. A field left out
    keeps its limit, `null` removes it. Claims committed after the
    answer honour the new limits.

    Args:
        name (str):
        body (QueueLimitsPatch): Changes to a queue's limits: a field left out keeps its limit,
            `null`
            removes it, a number sets it. `rate_limit` and `rate_period` go
            together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Queue
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: QueueLimitsPatch,
) -> Response[Problem | Queue]:
    """Set a queue's limits

     Flow control across every node: `max_running`,
    `max_running_per_key` (jobs carry a `concurrency_key`), and
    `rate_limit` claims per `rate_period` seconds. A field left out
    keeps its limit, `null` removes it. Claims committed after the
    answer honour the new limits.

    Args:
        name (str):
        body (QueueLimitsPatch): Changes to a queue's limits: a field left out keeps its limit,
            `null`
            removes it, a number sets it. `rate_limit` and `rate_period` go
            together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Queue]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: QueueLimitsPatch,
) -> Problem | Queue | None:
    """Set a queue's limits

     Flow control across every node: `max_running`,
    `max_running_per_key` (jobs carry a `concurrency_key`), and
    `rate_limit` claims per `rate_period` seconds. A field left out
    keeps its limit, `null` removes it. Claims committed after the
    answer honour the new limits.

    Args:
        name (str):
        body (QueueLimitsPatch): Changes to a queue's limits: a field left out keeps its limit,
            `null`
            removes it, a number sets it. `rate_limit` and `rate_period` go
            together.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Queue
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
        )
    ).parsed
