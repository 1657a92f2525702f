"""The wait helpers: they return what they waited for, or time out cleanly."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from baton_client import Baton, WaitTimeout
from servers import BatonServer, gated_workflow, push_workflow


def test_wait_for_signal_times_out_cleanly(baton: Baton, unique: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        baton.wait_for_signal(f"never/{unique}", {"date": 1}, timeout=1.5)
    elapsed = time.monotonic() - t0
    assert 1.5 <= elapsed < 10  # timed out, did not hang (a loaded machine may overrun)
    assert isinstance(caught.value, TimeoutError)
    assert f"never/{unique}" in str(caught.value)


def test_wait_for_signal_returns_when_it_arrives(baton: Baton, unique: str) -> None:
    name = f"upstream/{unique}"
    baton.publish(name, {"date": 20240101})  # another partition: must not count
    timer = threading.Timer(1.0, lambda: baton.publish(name, {"date": 20240102}, payload="ready"))
    timer.start()
    try:
        got = baton.wait_for_signal(name, {"date": 20240102}, timeout=30)
    finally:
        timer.join()
    assert got.params == {"date": 20240102} and got.payload == "ready"


def test_wait_for_signal_since_ignores_older_instances(baton: Baton, unique: str) -> None:
    name = f"since/{unique}"
    baton.publish(name, {"date": 1})
    time.sleep(0.05)
    with pytest.raises(WaitTimeout):
        baton.wait_for_signal(name, {"date": 1}, timeout=1, since=datetime.now(timezone.utc))
    assert baton.wait_for_signal(name, {"date": 1}, timeout=1, since=0).seq_id == 1


def test_wait_for_instance_times_out_then_returns_the_ended_run(baton: Baton, server: BatonServer, unique: str) -> None:
    wf = f"py-gated-{unique}"
    gate = f"gate/{unique}"
    push_workflow(server, gated_workflow(wf, gate))
    started = baton.start_workflow(wf)
    # Gated on a signal, the run stays IN_PROGRESS once it gets there.
    end = time.monotonic() + 10
    while baton.instance_status(wf, started.workflow_instance_id).status != "IN_PROGRESS":
        assert time.monotonic() < end, "the run never left CREATED"
        time.sleep(0.05)
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        baton.wait_for_instance(wf, started.workflow_instance_id, timeout=2)
    assert 2 <= time.monotonic() - t0 < 10
    assert "still IN_PROGRESS" in str(caught.value)
    baton.publish(gate, {})
    done = baton.wait_for_instance(wf, started.workflow_instance_id, timeout=60)
    assert done.status == "SUCCEEDED"


def test_wait_for_instance_of_an_unknown_workflow_times_out(baton: Baton, unique: str) -> None:
    with pytest.raises(WaitTimeout) as caught:
        baton.wait_for_instance(f"no-such-{unique}", 1, timeout=1)
    assert "404" in str(caught.value)
