"""The REST API under /api/v1/ (django-ninja); each app contributes a router."""

from __future__ import annotations

from functools import wraps
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import SessionAuth

from .auth import TokenAuth
from .errors import ERRORS, ApiError, ErrorOut, error_body


class UrbanGridAPI(NinjaAPI):
    """django-ninja's API, with every answer under /api/v1/ in the error format: a JSON 404 for
    any other path under the API's root and a JSON 405 for a method a path does not offer
    (instead of Django's HTML page and django-ninja's plain text). The OpenAPI document declares
    the error responses (`ERRORS`) of every operation, also of routers that do not list them."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        declared = False
        for methods in schema.get("paths", {}).values():
            for op in methods.values():
                responses = op.setdefault("responses", {})
                for status in ERRORS:
                    if status not in responses and str(status) not in responses:
                        responses[status] = {
                            "description": HTTPStatus(status).phrase,
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
                        }
                        declared = True
        if declared:
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            if "ErrorOut" not in components:
                defs = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(defs.pop("$defs", {}))
                components["ErrorOut"] = defs
        return schema

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _json_not_allowed(pattern.callback)
        return [*urls, re_path(r"^.*$", _unknown_path, name="unknown-path")]


def _json_not_allowed(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            message = _("This path does not accept %(method)s; it accepts %(allowed)s.") % {
                "method": request.method,
                "allowed": allowed,
            }
            response = JsonResponse(error_body("method_not_allowed", message), status=405)
            response["Allow"] = allowed
        return response

    return wrapper


@csrf_exempt
def _unknown_path(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    return JsonResponse(error_body("not_found", _("There is no such API path.")), status=404)


api = UrbanGridAPI(
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
        error_body("invalid", _("The request is not valid; see fields."), fields),
        status=400,
    )


@api.exception_handler(ValidationError)
def _django_validation_error(request, exc: ValidationError):
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"_": exc.messages}
    fields = {k: "; ".join(v) for k, v in fields.items()}
    return api.create_response(request, error_body("invalid", "; ".join(exc.messages), fields), status=400)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    message = _("Sign in or send a valid API token.")
    return api.create_response(request, error_body("unauthenticated", message), status=401)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, error_body("forbidden", str(exc) or _("Not allowed.")), status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", str(exc) or _("Not found.")), status=404)


@api.exception_handler(RequestDataTooBig)
def _too_large(request, exc):
    return api.create_response(request, error_body("too_large", _("The request body is too large.")), status=413)


@api.exception_handler(SuspiciousOperation)
def _unreadable(request, exc):
    message = _("The request could not be read.")
    return api.create_response(request, error_body("invalid", message), status=400)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if exc.status_code == 400:  # django-ninja could not parse the body (its message is not translated)
        message = _("The request body could not be read: send JSON (or a form for file uploads).")
        return api.create_response(request, error_body("invalid", message), status=400)
    return api.create_response(request, error_body("error", str(exc)), status=exc.status_code)


def _register_routers() -> None:
    from urbangrid.cases.api import router as cases_router
    from urbangrid.geo.api import router as geo_router

    api.add_router("/geo", geo_router)
    api.add_router("/cases", cases_router)
    api.add_router("/return-visits", "urbangrid.portal.api.router")
    api.add_router("/evaluation", "urbangrid.evaluation.api.router")


_register_routers()
