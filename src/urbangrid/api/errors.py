"""The API's error format, defined in `urbangrid.core.api_errors` (so that apps' routers, which
live in lower layers, need not import this edge package); re-exported here for the edge code."""

from urbangrid.core.api_errors import ERRORS, ApiError, ErrorDetail, ErrorOut, error_body, raise_workflow_error

__all__ = ["ERRORS", "ApiError", "ErrorDetail", "ErrorOut", "error_body", "raise_workflow_error"]
