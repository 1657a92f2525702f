"""The synchronous client: runs the protocol's operations over an ``httpx.Client``."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Iterable, List, Mapping, Optional, TypeVar, Union

import httpx

from . import config
from .exchange import Operation, Request, RetryPolicy, Sleep, TransportFailure
from .protocol import Protocol, SignalLike
from .types import InstanceStatus, Lineage, Params, PublishResult, SignalInstance, StartResult

T = TypeVar("T")


class Baton:
    """
    A Baton client. ``url`` and ``token`` default to ``BATON_URL`` and ``BATON_TOKEN``. Every call
    retries connection errors, 5xx and 429 with exponential backoff and jitter (honouring
    Retry-After) until ``deadline`` seconds have passed; publishes and starts carry a request id
    that stays the same across those retries, so none is stored twice.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        token: Optional[str] = None,
        *,
        deadline: float = 60.0,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self.url = config.resolve_url(url)
        policy = retry or RetryPolicy(deadline=deadline, attempt_timeout=timeout)
        self._protocol = Protocol(policy)
        self._http = httpx.Client(base_url=self.url, headers=config.headers(config.resolve_token(token)), transport=transport)

    def __enter__(self) -> "Baton":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, op: Operation[T]) -> T:
        outcome: Any = None
        try:
            while True:
                step = op.send(outcome)
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                else:
                    outcome = self._send(step)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _send(self, req: Request) -> Any:
        try:
            res = self._http.request(req.method, req.path, params=req.query, content=req.body, headers=config.body_headers(req), timeout=req.timeout)
        except httpx.TransportError as err:
            return TransportFailure(err)
        return config.to_response(res.status_code, res.headers.multi_items(), res.content)

    def publish(self, name: str, params: Optional[Params] = None, payload: Any = None, request_id: Optional[str] = None, *, deadline: Optional[float] = None) -> PublishResult:
        """
        Publishes one signal. Without ``request_id`` a random one is generated for this call (and
        reused by its retries); give a deterministic one (``f"{table}/{date}"``) to make re-runs
        of a job publish nothing new.
        """
        return self._run(self._protocol.publish(name, params, payload, request_id, deadline))

    def publish_batch(self, signals: Iterable[SignalLike], *, deadline: Optional[float] = None) -> List[PublishResult]:
        """Publishes signals (``Signal`` or dicts), up to 1,000 per request, each stored atomically; one result per signal."""
        return self._run(self._protocol.publish_batch(signals, deadline))

    def start_workflow(
        self,
        workflow_id: str,
        params: Optional[Mapping[str, Any]] = None,
        request_id: Optional[str] = None,
        *,
        version: Union[str, int] = "active",
        initiator: Optional[Mapping[str, Any]] = None,
        deadline: Optional[float] = None,
    ) -> StartResult:
        """Starts an instance; the same ``request_id`` never starts a second one."""
        return self._run(self._protocol.start_workflow(workflow_id, params, request_id, version, initiator, deadline))

    def instance_status(self, workflow_id: str, instance_id: int, run: Union[str, int] = "latest", *, deadline: Optional[float] = None) -> InstanceStatus:
        return self._run(self._protocol.instance_status(workflow_id, instance_id, run, deadline))

    def lineage(self, name: str, seq: Union[str, int] = "latest", depth: int = 3, *, deadline: Optional[float] = None) -> Lineage:
        """What a signal instance triggered and unblocked, transitively."""
        return self._run(self._protocol.lineage(name, seq, depth, deadline))

    def instance_lineage(self, workflow_id: str, instance_id: int, depth: int = 3, *, deadline: Optional[float] = None) -> Lineage:
        """The signals (and the steps and instances behind them) that triggered or unblocked an instance."""
        return self._run(self._protocol.instance_lineage(workflow_id, instance_id, depth, deadline))

    def signal_instances(
        self, name: str, match: Optional[Params] = None, *, since: Union[datetime, int, None] = None, limit: int = 100, deadline: Optional[float] = None
    ) -> List[SignalInstance]:
        """Instances of a signal, newest first, whose params equal ``match``, created at or after ``since``."""
        return self._run(self._protocol.signal_instances(name, match, since, limit, deadline))

    def wait_for_signal(self, name: str, match: Optional[Params] = None, *, timeout: float = 3600.0, since: Union[datetime, int, None] = None) -> SignalInstance:
        """
        Returns the newest instance of ``name`` whose params equal ``match`` (created at or after
        ``since``), polling with backoff until one exists; WaitTimeout after ``timeout`` seconds.
        """
        return self._run(self._protocol.wait_for_signal(name, match, timeout, since))

    def wait_for_instance(self, workflow_id: str, instance_id: int, *, timeout: float = 3600.0) -> InstanceStatus:
        """Polls an instance's latest run until it ends; WaitTimeout after ``timeout`` seconds."""
        return self._run(self._protocol.wait_for_instance(workflow_id, instance_id, timeout))
