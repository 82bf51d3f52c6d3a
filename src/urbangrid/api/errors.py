"""The API's one error format: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any


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
