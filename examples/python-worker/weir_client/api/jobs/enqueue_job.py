from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.enqueue_request import EnqueueRequest
from ...models.job import Job
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: EnqueueRequest,
    idempotency_key: str | Unset = UNSET,
    traceparent: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(traceparent, Unset):
        headers["traceparent"] = traceparent

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Job | Problem | None:
    if response.status_code == 200:
        response_200 = Job.from_dict(response.json())

        return response_200

    if response.status_code == 201:
        response_201 = Job.from_dict(response.json())

        return response_201

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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[Job | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: EnqueueRequest,
    idempotency_key: str | Unset = UNSET,
    traceparent: str | Unset = UNSET,
) -> Response[Job | Problem]:
    """Enqueue a job

     Answers at once with the job (201 and `Location`). With a
    `unique_key` held by a live job, answers that job (200). With an
    `Idempotency-Key` header the same caller (bearer token) sent in the
    last 24 hours with the same body, answers the job the first request
    created (200), even if it has finished since; with another body,
    422.

    Args:
        idempotency_key (str | Unset):
        traceparent (str | Unset):
        body (EnqueueRequest): A job to enqueue. Only `kind` is required. Example: {'args':
            {'name': 'widget', 'step_ms': 500, 'steps': 10}, 'kind': 'demo.process_item'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: EnqueueRequest,
    idempotency_key: str | Unset = UNSET,
    traceparent: str | Unset = UNSET,
) -> Job | Problem | None:
    """Enqueue a job

     Answers at once with the job (201 and `Location`). With a
    `unique_key` held by a live job, answers that job (200). With an
    `Idempotency-Key` header the same caller (bearer token) sent in the
    last 24 hours with the same body, answers the job the first request
    created (200), even if it has finished since; with another body,
    422.

    Args:
        idempotency_key (str | Unset):
        traceparent (str | Unset):
        body (EnqueueRequest): A job to enqueue. Only `kind` is required. Example: {'args':
            {'name': 'widget', 'step_ms': 500, 'steps': 10}, 'kind': 'demo.process_item'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: EnqueueRequest,
    idempotency_key: str | Unset = UNSET,
    traceparent: str | Unset = UNSET,
) -> Response[Job | Problem]:
    """Enqueue a job

     Answers at once with the job (201 and `Location`). With a
    `unique_key` held by a live job, answers that job (200). With an
    `Idempotency-Key` header the same caller (bearer token) sent in the
    last 24 hours with the same body, answers the job the first request
    created (200), even if it has finished since; with another body,
    422.

    Args:
        idempotency_key (str | Unset):
        traceparent (str | Unset):
        body (EnqueueRequest): A job to enqueue. Only `kind` is required. Example: {'args':
            {'name': 'widget', 'step_ms': 500, 'steps': 10}, 'kind': 'demo.process_item'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: EnqueueRequest,
    idempotency_key: str | Unset = UNSET,
    traceparent: str | Unset = UNSET,
) -> Job | Problem | None:
    """Enqueue a job

     Answers at once with the job (201 and `Location`). With a
    `unique_key` held by a live job, answers that job (200). With an
    `Idempotency-Key` header the same caller (bearer token) sent in the
    last 24 hours with the same body, answers the job the first request
    created (200), even if it has finished since; with another body,
    422.

    Args:
        idempotency_key (str | Unset):
        traceparent (str | Unset):
        body (EnqueueRequest): A job to enqueue. Only `kind` is required. Example: {'args':
            {'name': 'widget', 'step_ms': 500, 'steps': 10}, 'kind': 'demo.process_item'}.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            traceparent=traceparent,
        )
    ).parsed
