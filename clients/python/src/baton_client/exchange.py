"""
The sans-IO core: operations are generators that yield what to do next (send a ``Request``, or
``Sleep``) and receive the outcome of a request (a ``Response`` or a ``TransportFailure``). The
sync and async clients only run these generators with their own HTTP client and sleep, so the
protocol, its retries and its waits exist once.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Generator, Mapping, Optional, TypeVar, Union

from .errors import ApiError, RateLimitedError, UnavailableError, error_for_status

T = TypeVar("T")


@dataclass(frozen=True)
class Request:
    method: str
    #: path below the base URL, segments already encoded
    path: str
    query: Optional[Mapping[str, str]]
    #: JSON body, or None
    body: Optional[bytes]
    #: seconds this attempt may take
    timeout: float


@dataclass(frozen=True)
class Response:
    status: int
    #: header names in lower case
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class TransportFailure:
    """The request got no answer: refused, reset, timed out, closed before the response."""

    error: BaseException


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = Union[Request, Sleep]
Outcome = Union[Response, TransportFailure, None]
Operation = Generator[Step, Outcome, T]

#: Answers worth trying again: the server is overloaded, restarting or behind a failing proxy.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """
    How a call retries connection errors, 5xx and 429: exponential backoff from ``backoff_initial``
    doubling up to ``backoff_max`` with jitter (each wait is uniform between half and all of the
    step), at least the server's ``Retry-After``, all within ``deadline`` seconds for the whole call
    (every attempt's timeout included). ``max_attempts`` (None: unlimited) bounds the attempts.
    """

    deadline: float = 60.0
    attempt_timeout: float = 30.0
    backoff_initial: float = 0.1
    backoff_max: float = 5.0
    max_attempts: Optional[int] = None

    def backoff(self, attempt: int, rng: random.Random) -> float:
        step = min(self.backoff_max, self.backoff_initial * (2 ** (attempt - 1)))
        return rng.uniform(step / 2, step)


_rng = random.Random()


def retry_after(headers: Mapping[str, str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), or None."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def decode_json(body: bytes) -> Any:
    return json.loads(body) if body else None


def api_error(res: Response, method: str, path: str) -> ApiError:
    problem: Optional[Mapping[str, Any]] = None
    try:
        parsed = decode_json(res.body)
        if isinstance(parsed, dict):
            problem = parsed
    except ValueError:
        pass
    title = (problem or {}).get("title") or f"HTTP {res.status}"
    detail = (problem or {}).get("detail") or res.body[:200].decode("utf-8", "replace")
    return error_for_status(res.status, problem, f"{method} {path}: {res.status} {title}: {detail}")


def exchange(
    policy: RetryPolicy,
    method: str,
    path: str,
    *,
    query: Optional[Mapping[str, str]] = None,
    body: Any = None,
    deadline: Optional[float] = None,
) -> Operation[Response]:
    """
    Sends one request until it gets a success answer, retrying as ``policy`` says; the same bytes
    go out on every attempt, so a request id in the body makes the retries idempotent. Returns the
    answer; ``attempts_of`` tells how many attempts it took.
    """
    payload = None if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    end = time.monotonic() + (policy.deadline if deadline is None else deadline)
    attempt = 0
    while True:
        attempt += 1
        remaining = end - time.monotonic()
        outcome = yield Request(method, path, query, payload, max(0.05, min(policy.attempt_timeout, remaining)))
        hint: Optional[float] = None
        if isinstance(outcome, Response):
            if outcome.status < 400:
                return _Answer(outcome.status, outcome.headers, outcome.body, attempt)
            error: BaseException = api_error(outcome, method, path)
            if outcome.status not in RETRY_STATUSES:
                raise error
            hint = retry_after(outcome.headers)
        elif isinstance(outcome, TransportFailure):
            error = outcome.error
        else:  # pragma: no cover - a driver bug
            raise TypeError(f"unexpected outcome {outcome!r}")
        wait = policy.backoff(attempt, _rng)
        if hint is not None:
            wait = max(wait, hint)
        out_of_attempts = policy.max_attempts is not None and attempt >= policy.max_attempts
        if out_of_attempts or time.monotonic() + wait >= end:
            raise _exhausted(error, attempt, method, path, hint) from error
        yield Sleep(wait)


@dataclass(frozen=True)
class _Answer(Response):
    #: how many attempts the exchange made (1: no retry)
    attempts: int = 1


def _exhausted(error: BaseException, attempts: int, method: str, path: str, hint: Optional[float]) -> UnavailableError:
    why = str(error) or type(error).__name__
    message = f"{method} {path}: gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {why}"
    if isinstance(error, ApiError) and error.status == 429:
        return RateLimitedError(message, attempts=attempts, last_error=error, retry_after=hint)
    status = error.status if isinstance(error, ApiError) else None
    return UnavailableError(message, attempts=attempts, last_error=error, status=status)


def attempts_of(res: Response) -> int:
    return res.attempts if isinstance(res, _Answer) else 1
