"""The service's errors: a small hierarchy, each class one HTTP status, mapped in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every error a client can be told about.

    ``code`` is a stable snake_case identifier; ``message`` says what went wrong and what to do.
    """

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def body(self) -> dict[str, Any]:
        """The JSON error body every route returns: ``{"error": {"code", "message"}}``."""
        return error_body(self.code, self.message)


class BadRequest(ServiceError):
    status = 400
    default_code = "bad_request"


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    default_code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    default_code = "unsupported_media_type"


class UnprocessableImage(ServiceError):
    status = 422
    default_code = "unprocessable_image"


class ServiceUnavailable(ServiceError):
    status = 503
    default_code = "service_unavailable"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
