"""Baton's REST API as sans-IO operations (generators run by ``Baton`` and ``AsyncBaton``)."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import datetime
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union
from urllib.parse import quote

from .errors import BatonError, NotFoundError, UnavailableError, WaitTimeout
from .exchange import Operation, RetryPolicy, Sleep, attempts_of, decode_json, exchange
from .types import InstanceStatus, Lineage, Params, PublishResult, Signal, SignalInstance, StartResult

#: The most signals the server takes in one request; larger batches are sent in chunks.
MAX_BATCH = 1000

SignalLike = Union[Signal, Mapping[str, Any]]
Since = Union[datetime, int, None]


def new_request_id() -> str:
    return str(uuid.uuid4())


def enc(segment: Union[str, int]) -> str:
    return quote(str(segment), safe="")


def _signal_body(name: str, params: Optional[Params], payload: Any, request_id: str) -> Dict[str, Any]:
    body: Dict[str, Any] = {"name": name, "params": dict(params or {}), "request_id": request_id}
    if payload is not None:
        body["payload"] = payload
    return body


def _normalize(signal: SignalLike, default_id: str) -> Tuple[Dict[str, Any], bool]:
    """A signal's request body and whether its request id (else ``default_id``) was generated here."""
    if isinstance(signal, Signal):
        name, params, payload, rid = signal.name, signal.params, signal.payload, signal.request_id
    elif isinstance(signal, Mapping):
        if "name" not in signal:
            raise TypeError("every signal needs a 'name'")
        name, params, payload, rid = signal["name"], signal.get("params"), signal.get("payload"), signal.get("request_id")
    else:
        raise TypeError(f"a signal is a baton_client.Signal or a mapping, not {type(signal).__name__}")
    return _signal_body(name, params, payload, rid or default_id), rid is None


def _own(result: PublishResult, generated: bool, attempts: int) -> PublishResult:
    # A request id this client generated is known to no one else: if the server has it already
    # after a retry, the earlier attempt stored it, so this call is not a duplicate.
    if result.duplicate and generated and attempts > 1:
        return PublishResult(result.name, result.seq_id, result.instance_id, False)
    return result


def _epoch_ms(since: Since) -> Optional[str]:
    if since is None:
        return None
    if isinstance(since, datetime):
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware (e.g. datetime.now(timezone.utc))")
        return str(int(since.timestamp() * 1000))
    return str(int(since))


class Protocol:
    """Builds requests and reads answers; holds no connection."""

    def __init__(self, policy: RetryPolicy, poll_initial: float = 0.2, poll_max: float = 5.0) -> None:
        self.policy = policy
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self._rng = random.Random()

    def _end(self, deadline: Optional[float]) -> float:
        return time.monotonic() + (self.policy.deadline if deadline is None else deadline)

    def publish(self, name: str, params: Optional[Params], payload: Any, request_id: Optional[str], deadline: Optional[float]) -> Operation[PublishResult]:
        body = _signal_body(name, params, payload, request_id or new_request_id())
        res = yield from exchange(self.policy, "POST", "/api/v3/signals", body=body, deadline=deadline)
        return _own(PublishResult.from_json(decode_json(res.body)), request_id is None, attempts_of(res))

    def publish_batch(self, signals: Iterable[SignalLike], deadline: Optional[float]) -> Operation[List[PublishResult]]:
        # One random prefix per call, the signal's index after it: an id of its own for every
        # signal, stable across retries, for the price of one uuid4 per call.
        prefix = new_request_id()
        items = [_normalize(s, f"{prefix}-{i}") for i, s in enumerate(signals)]
        end = self._end(deadline)
        out: List[PublishResult] = []
        # Each chunk is stored atomically; the deadline covers the whole call.
        for start in range(0, len(items), MAX_BATCH):
            chunk = items[start : start + MAX_BATCH]
            body = {"signals": [b for b, _ in chunk]}
            res = yield from exchange(self.policy, "POST", "/api/v3/signals", body=body, deadline=end - time.monotonic())
            attempts = attempts_of(res)
            answers = decode_json(res.body)["signals"]
            out.extend(_own(PublishResult.from_json(a), generated, attempts) for a, (_, generated) in zip(answers, chunk))
        return out

    def start_workflow(
        self,
        workflow_id: str,
        params: Optional[Mapping[str, Any]],
        request_id: Optional[str],
        version: Union[str, int],
        initiator: Optional[Mapping[str, Any]],
        deadline: Optional[float],
    ) -> Operation[StartResult]:
        body: Dict[str, Any] = {"request_id": request_id or new_request_id()}
        if params:
            body["run_params"] = dict(params)
        if initiator is not None:
            body["initiator"] = dict(initiator)
        path = f"/api/v3/workflows/{enc(workflow_id)}/versions/{enc(version)}/actions/start"
        res = yield from exchange(self.policy, "POST", path, body=body, deadline=deadline)
        result = StartResult.from_json(decode_json(res.body))
        if result.duplicate and request_id is None and attempts_of(res) > 1:
            result = StartResult(**{**result.__dict__, "duplicate": False})
        return result

    def instance_status(self, workflow_id: str, instance_id: int, run: Union[str, int], deadline: Optional[float]) -> Operation[InstanceStatus]:
        path = f"/api/v3/workflows/{enc(workflow_id)}/instances/{enc(instance_id)}/runs/{enc(run)}"
        res = yield from exchange(self.policy, "GET", path, deadline=deadline)
        return InstanceStatus.from_json(decode_json(res.body))

    def lineage(self, name: str, seq: Union[str, int], depth: int, deadline: Optional[float]) -> Operation[Lineage]:
        path = f"/api/v3/signals/{enc(name)}/instances/{enc(seq)}/lineage"
        res = yield from exchange(self.policy, "GET", path, query={"depth": str(depth)}, deadline=deadline)
        return Lineage.from_json(decode_json(res.body))

    def instance_lineage(self, workflow_id: str, instance_id: int, depth: int, deadline: Optional[float]) -> Operation[Lineage]:
        path = f"/api/v3/workflows/{enc(workflow_id)}/instances/{enc(instance_id)}/lineage"
        res = yield from exchange(self.policy, "GET", path, query={"depth": str(depth)}, deadline=deadline)
        return Lineage.from_json(decode_json(res.body))

    def signal_instances(self, name: str, match: Optional[Params], since: Since, limit: int, deadline: Optional[float]) -> Operation[List[SignalInstance]]:
        query: Dict[str, str] = {"limit": str(limit)}
        if match:
            query["params"] = json.dumps(dict(match), separators=(",", ":"))
        frm = _epoch_ms(since)
        if frm is not None:
            query["from"] = frm
        res = yield from exchange(self.policy, "GET", f"/api/v3/signals/{enc(name)}/instances", query=query, deadline=deadline)
        return [SignalInstance.from_json(d) for d in decode_json(res.body)["instances"]]

    def _poll_sleep(self, polls: int, end: float) -> Optional[Sleep]:
        remaining = end - time.monotonic()
        if remaining <= 0:
            return None
        step = min(self.poll_max, self.poll_initial * (2**polls))
        return Sleep(min(remaining, self._rng.uniform(step / 2, step)))

    def wait_for_signal(self, name: str, match: Optional[Params], timeout: float, since: Since) -> Operation[SignalInstance]:
        end = time.monotonic() + timeout
        last: Optional[BatonError] = None
        polls = 0
        while True:
            try:
                found = yield from self.signal_instances(name, match, since, 1, max(0.05, end - time.monotonic()))
                if found:
                    return found[0]
            except UnavailableError as err:
                last = err
            sleep = self._poll_sleep(polls, end)
            if sleep is None:
                what = f"signal {name!r}" + (f" with params {dict(match)}" if match else "")
                why = f" (last poll: {last})" if last is not None else ""
                raise WaitTimeout(f"no {what} within {timeout} s{why}") from last
            polls += 1
            yield sleep

    def wait_for_instance(self, workflow_id: str, instance_id: int, timeout: float) -> Operation[InstanceStatus]:
        end = time.monotonic() + timeout
        last: Optional[BatonError] = None
        status: Optional[InstanceStatus] = None
        polls = 0
        while True:
            try:
                # Not found yet: a signal trigger may still be starting it.
                status = yield from self.instance_status(workflow_id, instance_id, "latest", max(0.05, end - time.monotonic()))
                if status.terminal:
                    return status
            except (UnavailableError, NotFoundError) as err:
                last = err
            sleep = self._poll_sleep(polls, end)
            if sleep is None:
                now = f"still {status.status}" if status is not None else f"last poll: {last}"
                raise WaitTimeout(f"workflow {workflow_id!r} instance {instance_id} did not end within {timeout} s ({now})") from last
            polls += 1
            yield sleep
