"""Open311 and portal intake: applications and keys, turning a valid submission into a case
(or a queued request for batch services), idempotent replays."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from urbangrid.cases.actions import create_case, upload_attachment
from urbangrid.cases.models import Source
from urbangrid.core import files
from urbangrid.core.cache import ProcessCache
from urbangrid.core.models import Role, User
from urbangrid.core.roles import RoleCode
from urbangrid.workflow.errors import WorkflowError

from .errors import Open311Error
from .models import Application, RequestStatus, ServiceRequest, ServiceType, hash_key
from .validation import Submission

PORTAL_USERNAME = "citizen-portal"
#: Seconds an application found by its key stays cached in a worker process.
def _active_applications() -> dict[str, Application]:
    apps = Application.objects.select_related("user").filter(is_active=True, user__is_active=True)
    found = {}
    for app in apps:
        app.user.role_codes  # noqa: B018 - load the roles once with the cached account
        found[app.key_hash] = app
    return found


#: Active applications by key hash, per process: cleared on changes here, re-read every 5 s.
_key_cache = ProcessCache("open311_keys", _active_applications, ttl=5.0, models=[Application])


def _service_account(username: str, name: str) -> User:
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": name})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        role, _created = Role.objects.get_or_create(code=RoleCode.CITIZEN, defaults={"name": RoleCode.CITIZEN.label})
        user.roles.add(role)
    return user


def portal_user() -> User:
    """The account the citizen portal reports under (role citizen, cannot sign in)."""
    return _service_account(PORTAL_USERNAME, "市民门户")


@transaction.atomic
def issue_application(
    name: str, *, contact: str = "", key: str | None = None, **limits: int
) -> tuple[Application, str]:
    """Register a partner application; returns it with its key in clear text (shown once)."""
    app = Application(name=name, contact=contact, **limits)
    clear = app.set_new_key() if key is None else key
    if key is not None:
        app.key_prefix, app.key_hash = key[:8], hash_key(key)
    app.user = _service_account(f"open311-{get_random_string(10).lower()}", f"Open311: {name}"[:64])
    app.save()
    return app, clear


def rotate_key(app: Application) -> str:
    key = app.set_new_key()
    app.save(update_fields=["key_prefix", "key_hash"])
    _key_cache.clear()
    return key


def application_for(key: str) -> Application | None:
    """The active application with this key (cached briefly per process), or None."""
    return _key_cache().get(hash_key(key))


def fingerprint(data, files_, ignore: tuple[str, ...] = ("api_key",)) -> str:
    """SHA-256 of a submission's content, stored with its idempotency key: form fields (all
    values, in order, by field name; not the key) and the SHA-256 of every uploaded file.
    Independent of the multipart boundary and of the order of the fields."""
    digest = hashlib.sha256()
    for name in sorted(k for k in data if k not in ignore):
        digest.update(json.dumps(["field", name, data.getlist(name)], ensure_ascii=False).encode())
    for name in sorted(files_):
        for upload in files_.getlist(name):
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            digest.update(json.dumps(["file", name, content.hexdigest()]).encode())
    return digest.hexdigest()


def replay(application: Application | None, idempotency_key: str, fingerprint: str = "") -> ServiceRequest | None:
    """The request already sent with this idempotency key by the same client, or None. A
    different content under the same key is a client error: 409 (as payment APIs answer)."""
    if not idempotency_key:
        return None
    req = (
        ServiceRequest.objects.select_related("case")
        .filter(application=application, idempotency_key=idempotency_key)
        .first()
    )
    if req is not None and fingerprint and req.request_hash and req.request_hash != fingerprint:
        raise Open311Error(
            409,
            _(
                "The Idempotency-Key “%(key)s” was already used for a different request; "
                "send a new key with a new request."
            )
            % {"key": idempotency_key},
        )
    return req


def submit(
    sub: Submission,
    *,
    actor: User,
    application: Application | None,
    idempotency_key: str = "",
    fingerprint: str = "",
    now: datetime | None = None,
) -> ServiceRequest:
    """Create the case (realtime services) or queue the request (batch services). With an
    idempotency key already used by the same client, return the original request instead
    (409 Open311Error when its `fingerprint` differs). Photos stored here are deleted again
    when the transaction rolls back."""
    source = Source.PARTNER if application else Source.CITIZEN
    batch = sub.service is not None and sub.service.type == ServiceType.BATCH
    try:
        with files.atomic():
            photos = [upload_attachment(actor, data, f"media{i}.jpg").token for i, data in enumerate(sub.photos)]
            req = ServiceRequest(
                application=application,
                idempotency_key=idempotency_key,
                request_hash=fingerprint if idempotency_key else "",
                device_id=sub.device_id,
                account_id=sub.account_id,
                address_id=sub.address_id,
                media_url=sub.media_url,
                attributes=sub.attributes,
                photos=photos,
            )
            case_input = _case_input(sub, source, application, photos)
            if batch:
                req.status, req.token, req.pending = RequestStatus.PENDING, secrets.token_hex(16), case_input
                req.save()
                transaction.on_commit(lambda: _enqueue(req.pk))
            else:
                req.case = _create(actor, case_input, now)
                req.save()
    except IntegrityError:
        original = replay(application, idempotency_key, fingerprint)
        if original is None:
            raise
        return original
    return req


def _case_input(sub: Submission, source: str, application: Application | None, photos: list[str]) -> dict[str, Any]:
    channel: dict[str, Any] = {"channel": "open311" if application else "portal"}
    if application:
        channel["application"] = application.name
    if sub.attributes:
        channel["attributes"] = sub.attributes
    return {
        "source": source,
        "category": sub.category.pk,
        "description": sub.description,
        "lon": sub.lon,
        "lat": sub.lat,
        "address": sub.address,
        "reporter": sub.reporter,
        "channel": channel,
        "photos": photos,
    }


def _create(actor: User, case_input: dict[str, Any], now: datetime | None = None):
    from . import public

    category = public.public_categories().get(case_input["category"], case_input["category"])
    try:
        return create_case(actor, now=now, **{**case_input, "category": category})
    except WorkflowError as exc:
        raise Open311Error(400, exc.message) from None


def _enqueue(request_id: int) -> None:
    from .tasks import create_pending_case

    create_pending_case.enqueue(request_id)


def create_pending(request_id: int) -> ServiceRequest:
    """Create the case of a queued (batch) request; the worker runs this."""
    with transaction.atomic():
        req = (
            ServiceRequest.objects.select_for_update(of=("self",))
            .select_related("application__user")
            .get(pk=request_id)
        )
        if req.status != RequestStatus.PENDING:
            return req
        actor = req.application.user if req.application else portal_user()
        try:
            with transaction.atomic():
                req.case = _create(actor, req.pending)
        except Open311Error as exc:
            req.status, req.error = RequestStatus.FAILED, str(exc)[:300]
        else:
            req.status, req.pending = RequestStatus.CREATED, {}
        req.save(update_fields=["case", "status", "pending", "error"])
    return req


def service_notice(req: ServiceRequest) -> str:
    if req.status == RequestStatus.PENDING:
        return _("Received; the request id becomes available through the token shortly.")
    return _("Received. A grid collector checks reports from the public on site before they are registered.")
