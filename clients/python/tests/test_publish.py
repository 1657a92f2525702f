"""Publishing, reading back, starting and lineage against a real server."""

from __future__ import annotations

import time

import pytest

from baton_client import MAX_BATCH, Baton, PublishResult, Signal, ValidationError
from servers import TOKENS, BatonServer, push_workflow, signal_instances, triggered_workflow, workflow_instances

BIG = 9223372036854775807


def test_publish_reads_back_exact_values(baton: Baton, unique: str) -> None:
    name = f"db/prod/orders-{unique}"
    res = baton.publish(name, {"date": 20240101, "big": BIG, "region": "eu"}, payload={"rows": 12, "path": "s3://b/k"})
    assert isinstance(res, PublishResult)
    assert res.name == name and res.seq_id == 1 and not res.duplicate
    got = baton.wait_for_signal(name, {"big": BIG}, timeout=5)
    assert got.instance_id == res.instance_id
    assert got.params == {"date": 20240101, "big": BIG, "region": "eu"}
    assert got.payload == {"rows": 12, "path": "s3://b/k"}
    assert got.request_id == res.instance_id


def test_explicit_request_id_makes_reruns_publish_nothing_new(baton: Baton, server: BatonServer, unique: str) -> None:
    name = f"db/rerun-{unique}"
    first = baton.publish(name, {"date": 1}, request_id=f"orders/{unique}/1")
    again = baton.publish(name, {"date": 1}, request_id=f"orders/{unique}/1")
    assert not first.duplicate and again.duplicate
    assert again.seq_id == first.seq_id
    # Without an explicit id every call is a new instance.
    other = baton.publish(name, {"date": 1})
    assert not other.duplicate and other.seq_id == 2
    assert len(signal_instances(server, name)) == 2


def test_publish_batch_chunks_and_keeps_order(baton: Baton, server: BatonServer, unique: str) -> None:
    name = f"db/batch-{unique}"
    signals = [Signal(name, {"part": i}) for i in range(MAX_BATCH * 2 + 500)]
    results = baton.publish_batch(signals)
    assert len(results) == len(signals)
    assert [r.seq_id for r in results] == list(range(1, len(signals) + 1))
    assert not any(r.duplicate for r in results)
    stored = signal_instances(server, name)
    assert sorted(int(s["params"]["part"]) for s in stored) == list(range(len(signals)))  # type: ignore[index]


def test_publish_batch_takes_dicts_and_explicit_ids(baton: Baton, unique: str) -> None:
    name = f"db/dicts-{unique}"
    batch = [{"name": name, "params": {"p": 1}, "request_id": f"{unique}-a"}, {"name": name, "params": {"p": 2}, "payload": [1, 2]}]
    first = baton.publish_batch(batch)
    second = baton.publish_batch(batch[:1])
    assert [r.duplicate for r in first] == [False, False]
    assert second[0].duplicate and second[0].seq_id == first[0].seq_id


def test_validation_error_names_the_fields(baton: Baton, unique: str) -> None:
    with pytest.raises(ValidationError) as caught:
        baton.publish_batch([Signal(f"ok/{unique}", {"a": 1}), {"name": "", "params": {"x": [1]}}])
    err = caught.value
    assert err.status == 400
    fields = {e.field for e in err.errors}
    assert fields == {"signals[1].name", "signals[1].params.x"}
    # The batch is atomic: the valid signal was not stored either.
    assert baton.signal_instances(f"ok/{unique}") == []


def test_start_workflow_is_idempotent_and_reports_status(baton: Baton, server: BatonServer, unique: str) -> None:
    wf = f"py-start-{unique}"
    push_workflow(server, {"properties": {"owner": "tester"}, "workflow": {"id": wf, "steps": [{"step": {"id": "only", "type": "NoOp", "transition": {"successors": {}}}}]}})
    first = baton.start_workflow(wf, request_id=f"run-{unique}")
    again = baton.start_workflow(wf, request_id=f"run-{unique}")
    assert not first.duplicate and again.duplicate
    assert again.workflow_instance_id == first.workflow_instance_id
    done = baton.wait_for_instance(wf, first.workflow_instance_id, timeout=60)
    assert done.status == "SUCCEEDED" and done.terminal
    assert [s.step_id for s in done.steps] == ["only"]
    assert baton.instance_status(wf, first.workflow_instance_id).status == "SUCCEEDED"
    assert len(workflow_instances(server, wf)) == 1


def test_lineage_links_a_signal_to_what_it_started(baton: Baton, server: BatonServer, unique: str) -> None:
    name = f"lineage/{unique}"
    wf = f"py-lineage-{unique}"
    push_workflow(server, triggered_workflow(wf, name))
    published = baton.publish(name, {"date": 20240101})
    instance = None
    end = time.monotonic() + 60
    while instance is None and time.monotonic() < end:
        items = workflow_instances(server, wf)
        instance = items[0] if items else None
        time.sleep(0.2)
    assert instance is not None, "the signal started no instance"
    graph = baton.lineage(name, published.seq_id)
    assert f"signal:{name}#{published.seq_id}" in {n["id"] for n in graph.nodes}
    assert any(e.source == f"signal:{name}#{published.seq_id}" for e in graph.edges)
    upstream = baton.instance_lineage(wf, int(instance["workflow_instance_id"]))  # type: ignore[arg-type]
    assert f"signal:{name}#{published.seq_id}" in {n["id"] for n in upstream.nodes}


def test_url_and_token_from_the_environment(server: BatonServer, monkeypatch: pytest.MonkeyPatch, unique: str) -> None:
    monkeypatch.setenv("BATON_URL", server.url)
    monkeypatch.setenv("BATON_TOKEN", TOKENS["publisher"])
    with Baton() as client:
        assert client.url == server.url
        assert not client.publish(f"env/{unique}", {"k": "v"}).duplicate
