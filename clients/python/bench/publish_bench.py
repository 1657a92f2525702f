"""
Signals/s published with ``Baton.publish_batch`` (1,000 signals a call) against the same batches
sent by a bare ``httpx`` loop, side by side against one server. Each round runs both (in turns,
alternating which goes first); the figures are medians over the rounds. Prints a table and, last,
one JSON line. Run by ``npm run bench:client`` (bench/client.bench.ts starts the server).

    python publish_bench.py URL TOKEN [--rounds 5] [--batches 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from typing import Callable, Dict, List

import httpx

from baton_client import Baton, Signal

BATCH = 1000


def batches(tag: str, count: int) -> List[List[Dict[str, object]]]:
    return [[{"name": f"bench/client/{tag}", "params": {"batch": b, "part": i}} for i in range(BATCH)] for b in range(count)]


def with_client(url: str, token: str, work: List[List[Dict[str, object]]]) -> float:
    with Baton(url, token=token) as client:
        t0 = time.perf_counter()
        for batch in work:
            results = client.publish_batch([Signal(s["name"], s["params"]) for s in batch])  # type: ignore[arg-type]
            assert len(results) == BATCH and not any(r.duplicate for r in results)
        return len(work) * BATCH / (time.perf_counter() - t0)


def bare_httpx(url: str, token: str, work: List[List[Dict[str, object]]]) -> float:
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60) as http:
        t0 = time.perf_counter()
        for batch in work:
            # The same request the client sends: a request id per signal (one random prefix a batch).
            prefix = str(uuid.uuid4())
            body = {"signals": [{**s, "request_id": f"{prefix}-{i}"} for i, s in enumerate(batch)]}
            res = http.post("/api/v3/signals", json=body)
            res.raise_for_status()
            assert len(res.json()["signals"]) == BATCH
        return len(work) * BATCH / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("token")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=10)
    args = ap.parse_args()
    runners: Dict[str, Callable[[str, str, List[List[Dict[str, object]]]], float]] = {"baton_client": with_client, "bare_httpx": bare_httpx}
    # Warm-up: connections, the server's JIT, the signal names' counter rows.
    for name, run in runners.items():
        run(args.url, args.token, batches(f"warmup-{name}", 2))
    rates: Dict[str, List[float]] = {name: [] for name in runners}
    for r in range(args.rounds):
        order = list(runners) if r % 2 == 0 else list(reversed(list(runners)))
        for name in order:
            rates[name].append(runners[name](args.url, args.token, batches(f"{name}-{r}", args.batches)))
    med = {name: statistics.median(v) for name, v in rates.items()}
    ratio = med["baton_client"] / med["bare_httpx"]
    print(f"{'sender':<14} {'median signals/s':>17}   rounds (signals/s)")
    for name, values in rates.items():
        print(f"{name:<14} {med[name]:>17,.0f}   {', '.join(f'{v:,.0f}' for v in values)}")
    print(f"ratio baton_client / bare_httpx: {ratio:.2f} (target >= 0.8); {args.rounds} rounds of {args.batches} batches of {BATCH}")
    print(
        json.dumps(
            {
                "bench": "client",
                "batch": BATCH,
                "rounds": args.rounds,
                "batches_per_round": args.batches,
                "baton_client_signals_per_s": round(med["baton_client"]),
                "bare_httpx_signals_per_s": round(med["bare_httpx"]),
                "ratio": round(ratio, 3),
                "target_ratio": 0.8,
            }
        )
    )


if __name__ == "__main__":
    main()
