"""AsyncBaton runs the same protocol over httpx.AsyncClient."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from baton_client import AsyncBaton, AuthError, RetryPolicy, Signal, WaitTimeout
from proxy import Proxy
from servers import TOKENS, BatonServer, signal_instances


def test_async_publish_wait_and_errors(server: BatonServer, unique: str) -> None:
    name = f"async/{unique}"

    async def scenario() -> None:
        async with AsyncBaton(server.url, token=TOKENS["admin"]) as client:
            one = await client.publish(name, {"d": 1})
            many = await client.publish_batch([Signal(name, {"d": i}) for i in range(2, 12)])
            assert [r.seq_id for r in many] == list(range(2, 12)) and one.seq_id == 1
            got = await client.wait_for_signal(name, {"d": 11}, timeout=5)
            assert got.seq_id == 11
            t0 = time.monotonic()
            with pytest.raises(WaitTimeout):
                await client.wait_for_signal(name, {"d": 99}, timeout=1)
            assert time.monotonic() - t0 < 6.0  # timed out at 1 s, did not hang
        async with AsyncBaton(server.url, token=TOKENS["reader"]) as reader:
            with pytest.raises(AuthError):
                await reader.publish(name, {"d": 0})

    asyncio.run(scenario())


def test_async_dropped_connections_never_duplicate(server: BatonServer, unique: str) -> None:
    name = f"async-drop/{unique}"
    proxy = Proxy(("127.0.0.1", server.port), drop_rate=0.3, seed=5)

    async def scenario() -> None:
        policy = RetryPolicy(deadline=30, backoff_initial=0.01, backoff_max=0.2)
        async with AsyncBaton(proxy.url, token=TOKENS["publisher"], retry=policy) as client:
            # 20 concurrent publishers, 10 signals each.
            async def worker(w: int) -> None:
                for i in range(10):
                    res = await client.publish(name, {"w": w, "i": i})
                    assert not res.duplicate

            await asyncio.gather(*(worker(w) for w in range(20)))

    try:
        asyncio.run(scenario())
    finally:
        proxy.close()
    assert proxy.dropped >= 20
    stored = Counter((int(s["params"]["w"]), int(s["params"]["i"])) for s in signal_instances(server, name))  # type: ignore[index]
    assert len(stored) == 200 and max(stored.values()) == 1
