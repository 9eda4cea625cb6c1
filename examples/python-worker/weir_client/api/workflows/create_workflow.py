from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_workflow_request import CreateWorkflowRequest
from ...models.problem import Problem
from ...models.workflow import Workflow
from ...types import Response


def _get_kwargs(
    *,
    body: CreateWorkflowRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/workflows",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json; charset=utf-8"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | Workflow | None:
    if response.status_code == 201:
        response_201 = Workflow.from_dict(response.json())

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
) -> Response[Problem | Workflow]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateWorkflowRequest,
) -> Response[Problem | Workflow]:
    """Submit a workflow

     Jobs submitted together, each with a `ref` unique in the workflow,
    wired by `depends_on` refs: a job waits in `pending` until every
    job it depends on succeeded, and is cancelled when one fails or is
    cancelled. All jobs are enqueued or none; a duplicate ref, an
    unknown ref or a cycle is refused (422). Answers the workflow (201
    and `Location`).

    Args:
        body (CreateWorkflowRequest): A workflow to submit: all of its jobs or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Workflow]
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
    body: CreateWorkflowRequest,
) -> Problem | Workflow | None:
    """Submit a workflow

     Jobs submitted together, each with a `ref` unique in the workflow,
    wired by `depends_on` refs: a job waits in `pending` until every
    job it depends on succeeded, and is cancelled when one fails or is
    cancelled. All jobs are enqueued or none; a duplicate ref, an
    unknown ref or a cycle is refused (422). Answers the workflow (201
    and `Location`).

    Args:
        body (CreateWorkflowRequest): A workflow to submit: all of its jobs or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Workflow
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateWorkflowRequest,
) -> Response[Problem | Workflow]:
    """Submit a workflow

     Jobs submitted together, each with a `ref` unique in the workflow,
    wired by `depends_on` refs: a job waits in `pending` until every
    job it depends on succeeded, and is cancelled when one fails or is
    cancelled. All jobs are enqueued or none; a duplicate ref, an
    unknown ref or a cycle is refused (422). Answers the workflow (201
    and `Location`).

    Args:
        body (CreateWorkflowRequest): A workflow to submit: all of its jobs or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Workflow]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CreateWorkflowRequest,
) -> Problem | Workflow | None:
    """Submit a workflow

     Jobs submitted together, each with a `ref` unique in the workflow,
    wired by `depends_on` refs: a job waits in `pending` until every
    job it depends on succeeded, and is cancelled when one fails or is
    cancelled. All jobs are enqueued or none; a duplicate ref, an
    unknown ref or a cycle is refused (422). Answers the workflow (201
    and `Location`).

    Args:
        body (CreateWorkflowRequest): A workflow to submit: all of its jobs or none.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Workflow
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
