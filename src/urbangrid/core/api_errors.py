"""The API's one error format: {"error": {"code", "message", "fields"}}.

Used by every router (they live in the apps) and by the request middleware; `urbangrid.api`
re-exports it for the edge code."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ApiError(Exception):
    """Raised by API code to answer with a 4xx in the project's error format."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def raise_workflow_error(exc: Exception) -> None:
    """The one mapping of workflow errors to API errors (status, code, message, fields)."""
    raise ApiError(exc.status, exc.code, exc.message, exc.fields) from exc  # type: ignore[attr-defined]


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, Any] = {}


class ErrorOut(Schema):
    """Every 4xx answer: {"error": {"code", "message", "fields"}}."""

    error: ErrorDetail


#: the error responses every endpoint may give, for `response={...}` (declared in the OpenAPI)
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}
