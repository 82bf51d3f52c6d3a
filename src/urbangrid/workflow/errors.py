"""Typed errors of the workflow engine; the API maps them to 403 / 409 / 400."""

from __future__ import annotations


class WorkflowError(Exception):
    status = 400
    code = "workflow_error"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        message = str(message)  # lazy translations are rendered in the language active now
        super().__init__(message)
        self.message = message
        self.fields = {k: str(v) for k, v in (fields or {}).items()}


class NotAllowed(WorkflowError):
    """The actor's role or scope does not permit this operation."""

    status = 403
    code = "not_allowed"


class Conflict(WorkflowError):
    """The object changed since the actor read it (stale version)."""

    status = 409
    code = "conflict"


class Invalid(WorkflowError):
    """The operation is unknown, not possible in the current state, or its input is wrong."""

    status = 400
    code = "invalid"


class WrongState(Invalid):
    status = 409
    code = "wrong_state"
