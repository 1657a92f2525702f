"""One exception type per failure class. Every exception the client raises is a BatonError."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional

from .types import FieldError


class BatonError(Exception):
    """Base class of every error raised by the Baton client."""


class ApiError(BatonError):
    """The server answered with an error status; ``problem`` is its RFC 9457 problem document."""

    def __init__(self, status: int, problem: Optional[Mapping[str, Any]], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.problem: Mapping[str, Any] = problem or {}

    @property
    def title(self) -> Optional[str]:
        return self.problem.get("title")

    @property
    def detail(self) -> Optional[str]:
        return self.problem.get("detail")

    @property
    def type(self) -> Optional[str]:
        return self.problem.get("type")


class ValidationError(ApiError):
    """400: the request was refused; ``errors`` names each field at fault."""

    @property
    def errors(self) -> List[FieldError]:
        return [FieldError(field=str(e.get("field", "")), message=str(e.get("message", ""))) for e in self.problem.get("errors") or []]


class AuthError(ApiError):
    """401 (missing or unknown token) or 403 (the token's role may not call this route)."""


class NotFoundError(ApiError):
    """404: the workflow, instance, signal or route does not exist."""


class ConflictError(ApiError):
    """409: the request conflicts with the stored state."""


class UnavailableError(BatonError):
    """
    The server could not be reached, or kept answering 5xx or 429, until the retries ran out (the
    call's deadline passed or ``max_attempts`` were made). ``last_error`` is the last failure:
    an ApiError for an answer, the transport's exception otherwise.
    """

    def __init__(self, message: str, *, attempts: int, last_error: BaseException, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error
        self.status = status


class RateLimitedError(UnavailableError):
    """429 until the deadline: ``retry_after`` is the server's last Retry-After, in seconds."""

    def __init__(self, message: str, *, attempts: int, last_error: BaseException, retry_after: Optional[float]) -> None:
        super().__init__(message, attempts=attempts, last_error=last_error, status=429)
        self.retry_after = retry_after


class WaitTimeout(BatonError, TimeoutError):
    """A wait helper's timeout passed before what it waited for happened."""


def error_for_status(status: int, problem: Optional[Mapping[str, Any]], message: str) -> ApiError:
    """The ApiError subclass for an error status."""
    if status in (400, 422):
        return ValidationError(status, problem, message)
    if status in (401, 403):
        return AuthError(status, problem, message)
    if status == 404:
        return NotFoundError(status, problem, message)
    if status == 409:
        return ConflictError(status, problem, message)
    return ApiError(status, problem, message)
