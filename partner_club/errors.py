"""Domain errors: a machine-readable code and a message a person can act on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every business rule refusal raised by a service.

    `code` is stable and machine-readable (APIs return it as `reason`);
    `message` is already translated for the person who caused it, so services
    build it with `lazy_gettext` or `gettext` while a locale is active.
    """

    code = "domain_error"
    status = 400

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        **details: Any,
    ) -> None:
        self.message = str(message) if message is not None else self.code
        if code:
            self.code = code
        if status:
            self.status = status
        self.details = details
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Invalid(DomainError):
    code = "invalid"
    status = 422


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str | None = None, *, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after
