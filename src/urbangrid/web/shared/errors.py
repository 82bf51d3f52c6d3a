"""The one mapping of workflow errors onto a form (web and phone): field errors land on their
fields, everything else becomes the form's message."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.utils.translation import gettext as _

from urbangrid.workflow.errors import Conflict, WorkflowError

#: names the engine and the actions use for inputs that forms call otherwise
DEFAULT_ALIASES: Mapping[str, str | None] = {"file": "photos"}


def message_of(exc: WorkflowError) -> str:
    """What people read: a stale page is explained without internal version numbers."""
    if isinstance(exc, Conflict):
        return _("This case was changed by someone else since you opened it. Reload the page and try again.")
    return exc.message


def apply_error(
    form: forms.Form,
    exc: WorkflowError,
    aliases: Mapping[str, str | None] | None = None,
    *,
    add_message: bool = True,
) -> str:
    """Put `exc` onto `form`: each field error onto its field (after `aliases`; `None` or an
    unknown field: onto the form as a whole) and return the message for the whole form.

    With `add_message` the message is added as a form error when the error names no field
    (forms without a message of their own); operation forms show it themselves."""
    names = {**DEFAULT_ALIASES, **(aliases or {})}
    placed = False
    for key, msg in exc.fields.items():
        target = names.get(key, key)
        if target is not None and target in form.fields:
            form.add_error(target, msg)
            placed = True
        else:
            form.add_error(None, msg)
    message = message_of(exc)
    if add_message and not placed and not exc.fields:
        form.add_error(None, message)
    return message
