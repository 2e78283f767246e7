"""Services layer: the one error hierarchy; the API maps each class to an HTTP status once."""
from __future__ import annotations


class ImdemoError(Exception):
    """A failure to report to the caller, with a snake_case code and a sentence for a person."""

    code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class BadInput(ImdemoError):
    code = "bad_input"


class Unauthorized(ImdemoError):
    code = "unauthorized"


class Forbidden(ImdemoError):
    code = "forbidden"


class NotFound(ImdemoError):
    code = "not_found"


class Conflict(ImdemoError):
    code = "conflict"


class TooLarge(ImdemoError):
    code = "too_large"


class Unprocessable(ImdemoError):
    """Well-formed, but what it carries cannot be taken (a file whose bytes do not match their sha256)."""

    code = "unprocessable"


class RateLimited(ImdemoError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float, code: str | None = None):
        super().__init__(message, code)
        self.retry_after = retry_after


class Unavailable(ImdemoError):
    code = "unavailable"


def unavailable_causes() -> tuple[type[BaseException], ...]:
    """The failures of the store that mean "try again soon"; the API answers them with 503."""
    from ..store.errors import transient_errors

    return transient_errors()
