#!/usr/bin/env python3
"""A weir worker in Python: runs `py.process_item` jobs through weir's REST
worker API, with the client generated from openapi.json (weir_client/).

    WEIR_URL=http://127.0.0.1:8000 python worker.py

Copy it and put your own handlers in HANDLERS. Settings (environment):
WEIR_URL (default http://127.0.0.1:8000), WEIR_API_TOKEN (when the server
has WEIR_API_TOKENS), WEIR_QUEUE (default "default"), WEIR_CLAIM_WAIT
(seconds a claim waits for a job, default 30).

The loop: register; heartbeat in a thread (re-register when the server
forgot the node); claim one job at a time with a long-poll; run its handler,
which reports progress through `report(done, total, message)`; complete it,
or fail it with the exception's message. A cancel request (answered by the
heartbeat) stops the handler at its next report and the job ends
`cancelled`. SIGTERM or SIGINT stops claiming, stops a running handler at
its next report, and unregisters, which hands the job back without
spending its attempt; then the process exits 0.
"""

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, cast
from uuid import UUID

import httpx

from weir_client import AuthenticatedClient, Client
from weir_client.api.workers import (
    claim_jobs,
    complete_job,
    fail_job,
    register_worker,
    report_progress,
    unregister_worker,
    worker_heartbeat,
)
from weir_client.models import (
    ClaimedJob,
    ClaimedJobs,
    ClaimRequest,
    CompleteRequest,
    FailRequest,
    Heartbeat,
    ProgressRequest,
    RegisteredWorker,
    RegisterWorker,
    Unregistered,
)
from weir_client.types import UNSET, Response

Report = Callable[[int, int, str | None], None]
log = logging.getLogger("worker")


def process_item(args: dict[str, Any], report: Report) -> dict[str, Any]:
    """Like the built-in demo.process_item: `steps` steps of `step_ms`
    milliseconds, reporting progress after each."""
    name = args["name"]
    steps = int(args.get("steps", 30))
    step_ms = int(args.get("step_ms", 1000))
    report(0, steps, f"processing {name}")
    for step in range(1, steps + 1):
        time.sleep(step_ms / 1000)
        report(step, steps, f"step {step} of {steps}")
    return {"result": f"Processed item {name}"}


# Kind name -> handler(args, report) returning the job's result (any JSON value).
HANDLERS: dict[str, Callable[[Any, Report], Any]] = {"py.process_item": process_item}


class Stop(BaseException):
    """Raised by report() to stop a handler: "cancelled" (a cancel was
    requested), "shutdown" (SIGTERM) or "lost" (the claim token is stale:
    the job was rescued or finished elsewhere). A BaseException, so that a
    handler's `except Exception` does not swallow it."""


class Interrupted(BaseException):
    """Raised by the signal handler to end a claim's long-poll at once."""


class Worker:
    def __init__(self) -> None:
        url = os.environ.get("WEIR_URL", "http://127.0.0.1:8000")
        token = os.environ.get("WEIR_API_TOKEN", "")
        self.queue = os.environ.get("WEIR_QUEUE", "default")
        self.wait = float(os.environ.get("WEIR_CLAIM_WAIT", "30"))
        self.name = f"{socket.gethostname()}:{os.getpid()}"

        def client(timeout: float) -> AuthenticatedClient:
            # One HTTP client per thread of use; the long-poll's own, so that
            # interrupting it leaves the others intact.
            t = httpx.Timeout(timeout)
            if token:
                return AuthenticatedClient(base_url=url, token=token, timeout=t)
            # The spec makes the token optional, but the generator types every
            # operation as taking an AuthenticatedClient: a Client is the same
            # without the header.
            return cast(AuthenticatedClient, Client(base_url=url, timeout=t))

        self.api = client(30)
        self.poll = client(self.wait + 30)
        self.beat = client(30)
        self.lock = threading.Lock()
        self.node = ""
        self.heartbeat_every = 5.0
        self.running: UUID | None = None  # the job being run
        self.cancel = threading.Event()  # a cancel was requested for it
        self.stopping = threading.Event()  # SIGTERM/SIGINT came
        self.done = threading.Event()  # unregistered: heartbeats end
        self.polling = False  # in a claim's long-poll

    def register(self, stale: str | None = None) -> str:
        """Registers (again, when the node `stale` was forgotten) and answers the node id."""
        with self.lock:
            if stale is None or self.node == stale:
                body = RegisterWorker(name=self.name, queues=[self.queue], kinds=list(HANDLERS))
                resp = register_worker.sync_detailed(client=self.api, body=body)
                if not isinstance(resp.parsed, RegisteredWorker) or resp.status_code != 201:
                    raise RuntimeError(f"register: {resp.status_code} {resp.content!r}")
                self.node = str(resp.parsed.id)
                self.heartbeat_every = float(resp.parsed.heartbeat_interval_seconds)
                log.info("registered as node %s (%s)", self.node, self.name)
            return self.node

    def heartbeats(self) -> None:
        while not self.done.wait(self.heartbeat_every):
            node = self.node
            try:
                resp = worker_heartbeat.sync_detailed(node, client=self.beat)
                if resp.status_code == 404:
                    # Declared dead (a stall longer than dead_after_seconds):
                    # its jobs were rescued, so a running one's reports now
                    # answer 409 and its handler stops.
                    log.warning("node %s was forgotten: registering again", node)
                    self.register(stale=node)
                elif isinstance(resp.parsed, Heartbeat) and resp.status_code == 200:
                    if self.running in resp.parsed.cancel_requested:
                        self.cancel.set()
                else:
                    log.warning("heartbeat: %s %r", resp.status_code, resp.content)
            except (httpx.HTTPError, RuntimeError) as e:
                log.warning("heartbeat: %s", e)

    def on_signal(self, signum: int, _frame: Any) -> None:
        if self.stopping.is_set():
            return
        log.info("%s: stopping", signal.Signals(signum).name)
        self.stopping.set()
        if self.polling:
            raise Interrupted

    def claim(self) -> list[ClaimedJob]:
        node = self.node
        body = ClaimRequest(queue=self.queue, kinds=list(HANDLERS), max_=1, wait=self.wait)
        self.polling = True
        try:
            if self.stopping.is_set():
                return []
            resp = claim_jobs.sync_detailed(node, client=self.poll, body=body)
        finally:
            self.polling = False
        if isinstance(resp.parsed, ClaimedJobs) and resp.status_code == 200:
            return resp.parsed.jobs
        if resp.status_code == 404:
            self.register(stale=node)
        else:
            log.warning("claim: %s %r", resp.status_code, resp.content)
            self.stopping.wait(1)
        return []

    def run_job(self, job: ClaimedJob) -> None:
        jid, token = str(job.id), job.claim_token
        self.cancel.clear()
        self.running = job.id

        def report(done: int, total: int, message: str | None = None) -> None:
            if self.cancel.is_set():
                raise Stop("cancelled")
            if self.stopping.is_set():
                raise Stop("shutdown")
            body = ProgressRequest(
                claim_token=token,
                done=done,
                total=total,
                message=UNSET if message is None else message,
            )
            try:
                status = report_progress.sync_detailed(jid, client=self.api, body=body).status_code
            except httpx.HTTPError as e:  # progress is best effort: run on
                log.warning("job %s: progress not reported: %s", jid, e)
                return
            if status == 409:
                raise Stop("lost")

        log.info("job %s: %s attempt %d", jid, job.kind, job.attempt)
        try:
            result = HANDLERS[job.kind](job.args.to_dict(), report)
        except Stop as stop:
            # "shutdown": unregistering hands the job back; "lost": nothing to report.
            log.info("job %s: stopped (%s)", jid, stop.args[0])
            if stop.args[0] == "cancelled":  # the job ends cancelled
                body = FailRequest(claim_token=token, message="cancelled", retryable=False)
                self.deliver(
                    jid,
                    "cancelled",
                    lambda: fail_job.sync_detailed(jid, client=self.api, body=body),
                )
            return
        except Exception as e:
            log.exception("job %s: failed", jid)
            body = FailRequest(claim_token=token, message=f"{type(e).__name__}: {e}")
            self.deliver(
                jid,
                "failure recorded",
                lambda: fail_job.sync_detailed(jid, client=self.api, body=body),
            )
            return
        finally:
            self.running = None
        done = CompleteRequest(claim_token=token, result=result)
        self.deliver(
            jid, "succeeded", lambda: complete_job.sync_detailed(jid, client=self.api, body=done)
        )

    def deliver(self, jid: str, outcome: str, send: Callable[[], Response[Any]]) -> None:
        """Sends an outcome, retrying network errors and 5xx answers for a
        minute (past that, the job is rescued at its deadline)."""
        for _ in range(60):
            try:
                resp = send()
                if resp.status_code == 200:
                    log.info("job %s: %s", jid, outcome)
                    return
                # 409: the claim token is stale (rescued, cancelled or finished meanwhile).
                log.warning("job %s: not recorded: %s %r", jid, resp.status_code, resp.content)
                if resp.status_code < 500:
                    return
            except httpx.HTTPError as e:
                log.warning("job %s: outcome not recorded (%s): retrying", jid, e)
            time.sleep(1)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        while not self.node:  # the server may not be up yet
            try:
                self.register()
            except (httpx.HTTPError, RuntimeError) as e:
                log.warning("%s: retrying in 1 s", e)
                if self.stopping.wait(1):
                    return
        threading.Thread(target=self.heartbeats, daemon=True).start()
        try:
            while not self.stopping.is_set():
                try:
                    for job in self.claim():
                        self.run_job(job)
                except (httpx.HTTPError, RuntimeError) as e:
                    log.warning("%s: retrying in 1 s", e)
                    self.stopping.wait(1)
        except Interrupted:
            pass
        self.done.set()
        # Hands back a job still held (stopped by the signal, or claimed as it came).
        resp = unregister_worker.sync_detailed(self.node, client=self.api)
        handed_back = resp.parsed.handed_back if isinstance(resp.parsed, Unregistered) else "?"
        log.info("unregistered node %s (handed back: %s)", self.node, handed_back)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    Worker().run()
