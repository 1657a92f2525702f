"""The sans-IO core on its own: what it sends, how long it sleeps, when it gives up (no server needed)."""

from __future__ import annotations

import json
import random
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from typing import Any, List, Sequence, Union

import pytest

from baton_client import RateLimitedError, RetryPolicy, UnavailableError, ValidationError
from baton_client.exchange import Request, Response, Sleep, TransportFailure, retry_after
from baton_client.protocol import Protocol

Outcome = Union[Response, TransportFailure]


def drive(op: Any, outcomes: Sequence[Outcome]) -> tuple:
    """Runs an operation, answering its requests with ``outcomes`` in turn; returns (result, requests, sleeps)."""
    requests: List[Request] = []
    sleeps: List[float] = []
    answers = iter(outcomes)
    sent: Any = None
    try:
        while True:
            step = op.send(sent)
            if isinstance(step, Sleep):
                sleeps.append(step.seconds)
                sent = None
            else:
                requests.append(step)
                sent = next(answers)
    except StopIteration as done:
        return done.value, requests, sleeps


def ok(body: Any) -> Response:
    return Response(200, {}, json.dumps(body).encode())


def published(body: bytes, duplicate: bool) -> Response:
    signals = json.loads(body)["signals"]
    return ok({"signals": [{"name": s["name"], "seq_id": i + 1, "instance_id": s["request_id"], "duplicate": duplicate} for i, s in enumerate(signals)]})


def test_retry_after_in_seconds_and_as_a_date() -> None:
    assert retry_after({"retry-after": "7"}) == 7.0
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert 25 <= retry_after({"retry-after": format_datetime(later, usegmt=True)}) <= 30  # type: ignore[operator]
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_initial=0.1, backoff_max=1.0)
    rng = random.Random(3)
    for attempt, step in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        waits = [policy.backoff(attempt, rng) for _ in range(200)]
        assert min(waits) >= step / 2 and max(waits) <= step
        assert max(waits) - min(waits) > step / 4  # jitter, not a fixed wait


def test_a_retried_batch_sends_the_same_bytes_and_is_not_reported_as_duplicate() -> None:
    p = Protocol(RetryPolicy(backoff_initial=0.01, backoff_max=0.02))
    op = p.publish_batch([{"name": "a/b", "params": {"i": i}} for i in range(3)], None)
    first = next(op)
    body = first.body
    assert body is not None
    ids = [s["request_id"] for s in json.loads(body)["signals"]]
    assert len(set(ids)) == 3
    # A reset, a 503, then the third attempt's answer: the server has every id stored (the first
    # attempt was stored, its answer lost).
    step = op.send(TransportFailure(ConnectionResetError()))
    assert isinstance(step, Sleep)
    second = op.send(None)
    assert second.body == body
    assert isinstance(op.send(Response(503, {}, b"")), Sleep)
    third = op.send(None)
    assert third.body == body
    with pytest.raises(StopIteration) as done:
        op.send(published(body, True))
    results = done.value.value
    assert [r.instance_id for r in results] == ids
    assert not any(r.duplicate for r in results)


def test_an_explicit_request_id_found_stored_is_a_duplicate() -> None:
    p = Protocol(RetryPolicy())
    result, requests, _ = drive(p.publish("a/b", {"i": 1}, None, "mine", None), [ok({"name": "a/b", "seq_id": 1, "instance_id": "mine", "duplicate": True})])
    assert json.loads(requests[0].body)["request_id"] == "mine"
    assert result.duplicate


def test_429_beyond_the_deadline_fails_at_once_and_within_it_waits_retry_after() -> None:
    p = Protocol(RetryPolicy(deadline=5))
    with pytest.raises(RateLimitedError) as caught:
        drive(p.publish("a/b", {}, None, None, None), [Response(429, {"retry-after": "30"}, b"{}")])
    assert caught.value.retry_after == 30 and caught.value.attempts == 1
    p = Protocol(RetryPolicy(deadline=60))
    result, requests, sleeps = drive(
        p.publish("a/b", {}, None, "r", None), [Response(429, {"retry-after": "2"}, b"{}"), ok({"name": "a/b", "seq_id": 1, "instance_id": "r", "duplicate": False})]
    )
    assert len(requests) == 2 and sleeps[0] >= 2


def test_400_is_not_retried_and_names_the_fields() -> None:
    problem = {"title": "Invalid signal request", "detail": "name: must not be empty", "errors": [{"field": "name", "message": "must not be empty"}]}
    with pytest.raises(ValidationError) as caught:
        drive(Protocol(RetryPolicy()).publish("", {}, None, None, None), [Response(400, {}, json.dumps(problem).encode())])
    assert [(e.field, e.message) for e in caught.value.errors] == [("name", "must not be empty")]


def test_max_attempts_bounds_the_retries() -> None:
    with pytest.raises(UnavailableError) as caught:
        drive(Protocol(RetryPolicy(max_attempts=3, backoff_initial=0.001)).publish("a/b", {}, None, None, None), [Response(502, {}, b"")] * 3)
    assert caught.value.attempts == 3 and caught.value.status == 502
