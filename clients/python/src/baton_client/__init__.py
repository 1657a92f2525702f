"""Baton's Python client: publish signals exactly once, wait for upstream data, start workflows, read lineage."""

from ._version import __version__
from .aio import AsyncBaton
from .client import Baton
from .errors import (
    ApiError,
    AuthError,
    BatonError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
    ValidationError,
    WaitTimeout,
)
from .exchange import RetryPolicy
from .protocol import MAX_BATCH
from .types import (
    TERMINAL_STATUSES,
    FieldError,
    InstanceStatus,
    Lineage,
    LineageEdge,
    PublishResult,
    Signal,
    SignalInstance,
    StartResult,
    StepStatus,
)

__all__ = [
    "__version__",
    "Baton",
    "AsyncBaton",
    "RetryPolicy",
    "MAX_BATCH",
    "BatonError",
    "ApiError",
    "ValidationError",
    "AuthError",
    "NotFoundError",
    "ConflictError",
    "UnavailableError",
    "RateLimitedError",
    "WaitTimeout",
    "Signal",
    "PublishResult",
    "SignalInstance",
    "StartResult",
    "InstanceStatus",
    "StepStatus",
    "Lineage",
    "LineageEdge",
    "FieldError",
    "TERMINAL_STATUSES",
]
