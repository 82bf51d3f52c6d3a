"""The REST API under /api/v1/ (django-ninja); each app contributes a router."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth

from .auth import TokenAuth
from .errors import ApiError, error_body

api = NinjaAPI(
    title="urbangrid API",
    version="1",
    urls_namespace="api-v1",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
)


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return api.create_response(request, error_body(exc.code, exc.message, exc.fields), status=exc.status)


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    fields: dict[str, str] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query", "path")]
        fields[".".join(loc) or "_"] = err.get("msg", "invalid")
    return api.create_response(
        request,
        error_body("invalid", "The request is not valid; see fields.", fields),
        status=400,
    )


@api.exception_handler(ValidationError)
def _django_validation_error(request, exc: ValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"_": exc.messages}
    fields = {k: "; ".join(v) for k, v in fields.items()}
    return api.create_response(request, error_body("invalid", "; ".join(exc.messages), fields), status=400)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return api.create_response(request, error_body("unauthenticated", "Sign in or send a valid API token."), status=401)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, error_body("forbidden", str(exc) or "Not allowed."), status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", str(exc) or "Not found."), status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, error_body("error", str(exc)), status=exc.status_code)


def _register_routers() -> None:
    from urbangrid.cases.api import router as cases_router
    from urbangrid.geo.api import router as geo_router

    api.add_router("/geo", geo_router)
    api.add_router("/cases", cases_router)
    api.add_router("/return-visits", "urbangrid.portal.api.router")
    api.add_router("/evaluation", "urbangrid.evaluation.api.router")


_register_routers()
