"""Retries against a real server: dropped connections, 429, 503, refused connections, auth."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import List

import pytest

from baton_client import AuthError, Baton, PublishResult, RateLimitedError, RetryPolicy, Signal, UnavailableError
from proxy import Proxy
from servers import RATE_WINDOW_S, TOKENS, BatonServer, push_workflow, signal_instances, triggered_workflow, workflow_instances

#: Short backoff so that hundreds of retries fit in a test.
FAST = RetryPolicy(deadline=60, attempt_timeout=30, backoff_initial=0.01, backoff_max=0.2)


def _wait_for_count(server: BatonServer, wf: str, count: int, timeout: float) -> int:
    end = time.monotonic() + timeout
    seen = 0
    while time.monotonic() < end:
        seen = len(workflow_instances(server, wf))
        if seen >= count:
            return seen
        time.sleep(0.5)
    return seen


def _publish_through_dropping_proxy(server: BatonServer, name: str, count: int, batch_from: int) -> List[PublishResult]:
    """Publishes ``count`` signals (one by one, then in batches of 50 from ``batch_from``) through a proxy that cuts a third of the answers."""
    proxy = Proxy(("127.0.0.1", server.port), drop_rate=0.33, seed=17)
    results: List[PublishResult] = []
    try:
        with Baton(proxy.url, token=TOKENS["publisher"], retry=FAST) as client:
            for i in range(batch_from):
                results.append(client.publish(name, {"n": i}))
            for start in range(batch_from, count, 50):
                results.extend(client.publish_batch([Signal(name, {"n": i}) for i in range(start, min(count, start + 50))]))
    finally:
        proxy.close()
    assert proxy.dropped >= count // 10, f"the proxy dropped only {proxy.dropped} answers"
    assert len(results) == count
    assert not any(r.duplicate for r in results), "a retry reported its own earlier attempt as a duplicate"
    stored = signal_instances(server, name)
    per_param = Counter(int(s["params"]["n"]) for s in stored)  # type: ignore[index]
    assert sum(c - 1 for c in per_param.values()) == 0, "duplicates stored"
    assert sorted(per_param) == list(range(count))
    assert {r.instance_id for r in results} == {str(s["instance_id"]) for s in stored}
    return results


def test_dropped_connections_never_duplicate_a_signal(server: BatonServer, unique: str) -> None:
    """1,000 publishes through a proxy that cuts a third of the connections after the server answered: each signal stored once."""
    _publish_through_dropping_proxy(server, f"drop/orders-{unique}", 1000, 600)


def test_dropped_connections_start_each_triggered_workflow_once(server: BatonServer, unique: str) -> None:
    """The same faults with a workflow subscribed: every signal starts it exactly once."""
    name = f"drop/trigger-{unique}"
    wf = f"py-drop-{unique}"
    push_workflow(server, triggered_workflow(wf, name))
    _publish_through_dropping_proxy(server, name, 200, 100)
    assert _wait_for_count(server, wf, 200, 120) == 200
    time.sleep(1.0)
    assert len(workflow_instances(server, wf)) == 200


def test_gateway_503_is_retried_until_the_server_is_back(server: BatonServer, unique: str) -> None:
    name = f"gateway/{unique}"
    proxy = Proxy(None)
    try:
        with Baton(proxy.url, token=TOKENS["publisher"], retry=RetryPolicy(deadline=1.5, backoff_initial=0.05, backoff_max=0.2)) as client:
            t0 = time.monotonic()
            with pytest.raises(UnavailableError) as caught:
                client.publish(name, {"k": 1})
            assert caught.value.status == 503 and caught.value.attempts >= 3
            assert time.monotonic() - t0 < 6.0  # the 1.5 s deadline, not the 60 s default (room for a loaded machine)
        refused_before = proxy.answered_503
        out: List[object] = []
        with Baton(proxy.url, token=TOKENS["publisher"], retry=RetryPolicy(deadline=30, backoff_initial=0.05, backoff_max=0.5)) as client:
            worker = threading.Thread(target=lambda: out.append(client.publish(name, {"k": 2})))
            worker.start()
            time.sleep(1.0)
            proxy.upstream = ("127.0.0.1", server.port)
            worker.join(30)
        assert proxy.answered_503 > refused_before
        assert len(out) == 1 and not out[0].duplicate  # type: ignore[attr-defined]
        assert [s["params"] for s in signal_instances(server, name)] == [{"k": 2}]
    finally:
        proxy.close()


def test_refused_connection_gives_up_at_the_deadline() -> None:
    proxy = Proxy(None)
    port = proxy.port
    proxy.close()  # nothing listens there any more
    with Baton(f"http://127.0.0.1:{port}", retry=RetryPolicy(deadline=1.0, backoff_initial=0.05, backoff_max=0.2)) as client:
        t0 = time.monotonic()
        with pytest.raises(UnavailableError) as caught:
            client.publish("x/y", {"a": 1})
    assert caught.value.status is None and caught.value.attempts >= 2
    assert time.monotonic() - t0 < 5.0  # the 1 s deadline, not the 60 s default (room for a loaded machine)


def test_429_honours_retry_after(rate_limited_server: BatonServer, unique: str) -> None:
    name = f"limited/{unique}"
    with Baton(rate_limited_server.url, token=TOKENS["publisher"], deadline=5) as client:
        for i in range(3):
            client.publish(name, {"i": i})
        # The window is RATE_WINDOW_S (15 s): Retry-After is beyond this call's deadline, so it fails at once.
        t0 = time.monotonic()
        with pytest.raises(RateLimitedError) as caught:
            client.publish(name, {"i": 3})
        assert time.monotonic() - t0 < 2.0
        assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= RATE_WINDOW_S
        assert caught.value.attempts == 1
        wait = caught.value.retry_after
    # With room for it, the client sleeps Retry-After and the publish goes through once.
    with Baton(rate_limited_server.url, token=TOKENS["publisher"], deadline=90) as client:
        t0 = time.monotonic()
        res = client.publish(name, {"i": 3})
        waited = time.monotonic() - t0
    assert not res.duplicate
    assert waited >= wait - 3
    assert sorted(int(s["params"]["i"]) for s in signal_instances(rate_limited_server, name)) == [0, 1, 2, 3]  # type: ignore[index]


def test_auth_errors_are_not_retried(server: BatonServer, unique: str) -> None:
    t0 = time.monotonic()
    with Baton(server.url, token="") as anonymous:
        with pytest.raises(AuthError) as missing:
            anonymous.publish(f"auth/{unique}", {"a": 1})
    assert missing.value.status == 401
    with Baton(server.url, token="not-a-configured-token-at-all") as wrong:
        with pytest.raises(AuthError) as unknown:
            wrong.signal_instances(f"auth/{unique}")
    assert unknown.value.status == 401
    with Baton(server.url, token=TOKENS["reader"]) as reader:
        with pytest.raises(AuthError) as forbidden:
            reader.publish(f"auth/{unique}", {"a": 1})
        assert forbidden.value.status == 403
        assert reader.signal_instances(f"auth/{unique}") == []
    assert time.monotonic() - t0 < 5.0
