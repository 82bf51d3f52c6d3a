"""The collector app's one own action: a report sent from a phone, exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from urbangrid.cases import actions as case_actions
from urbangrid.cases.models import Case, Source
from urbangrid.core.models import User
from urbangrid.workflow.errors import NotAllowed

from .models import MobileSubmission


def submit_report(
    actor: User,
    client_id: uuid.UUID,
    *,
    category: object,
    description: str,
    lon: object,
    lat: object,
    address: str = "",
    photos: Sequence[tuple[bytes, str]] = (),
) -> tuple[Case, bool]:
    """Create the collector's case for `client_id`, or return the one created before.

    The phone generates `client_id` once per report and repeats it on every retry, so a
    report queued offline and sent twice still becomes one case. Returns (case, created).

    A point outside the collector's work grids (责任网格) is accepted (the phone warns): the case
    belongs to the grid where it lies, and its reporter keeps seeing it. A report the phone
    acknowledged is never dropped for where it was made.
    """
    existing = MobileSubmission.objects.filter(client_id=client_id).select_related("case").first()
    if existing is None:
        try:
            with transaction.atomic():
                tokens = [case_actions.upload_attachment(actor, content, name).token for content, name in photos]
                case = case_actions.create_case(
                    actor,
                    source=Source.COLLECTOR,
                    category=category,
                    description=description,
                    lon=lon,
                    lat=lat,
                    address=address,
                    channel={"client_id": str(client_id), "app": "mobile"},
                    photos=tokens,
                )
                MobileSubmission.objects.create(client_id=client_id, case=case, user=actor)
            return case, True
        except IntegrityError:  # the same report arrived twice at the same moment
            existing = MobileSubmission.objects.select_related("case").get(client_id=client_id)
    if existing.user_id != actor.pk:
        raise NotAllowed(_("This report belongs to another user."))
    return existing.case, False
