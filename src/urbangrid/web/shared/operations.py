"""Operations on a workflow object as forms, built from the declared inputs of its transitions.

The operations a user sees are exactly `engine.available(obj, user)`; each becomes a form
whose fields are the transition's `inputs`, through one mapping of input types to widgets
(`field_for`). Fields carry what was typed to the engine as it is: the engine cleans and
validates the inputs and its errors land on the fields (`errors.apply_error`). `required` is
shown (HTML attribute) but not enforced here: the engine decides. Photos are uploaded first
and passed to the engine as tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from urbangrid.cases import actions
from urbangrid.web.models import CommonPhrase
from urbangrid.workflow import engine
from urbangrid.workflow.definition import Input, InputType, Transition
from urbangrid.workflow.errors import WorkflowError

from .errors import apply_error
from .widgets import FastSelect, PhotoField

#: textarea inputs that common phrases (常用语) fill
REASON_LIKE = ("reason", "note", "comment")
MAX_PHRASES = 12
BOOL_CHOICES = [("true", _("yes")), ("false", _("no"))]


class RawField(forms.Field):
    """Carries the submitted value to the engine unchanged (text stripped): the engine cleans it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


def _attrs(inp: Input) -> dict[str, Any]:
    return {"required": True, "aria-required": "true"} if inp.required else {}


def _number_attrs(inp: Input, step: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"step": step}
    if inp.min_value is not None:
        attrs["min"] = str(inp.min_value)
    if inp.max_value is not None:
        attrs["max"] = str(inp.max_value)
    return attrs


def _text_attrs(inp: Input) -> dict[str, Any]:
    return {"maxlength": str(inp.max_length)} if inp.max_length else {}


def _widget(inp: Input, choices: list[tuple[str, Any]], initial: Any) -> forms.Widget:
    """The one mapping of input types to widgets."""
    attrs = _attrs(inp)
    t = inp.type
    if t is InputType.BOOL:
        if inp.required:  # "no" must be an answer of its own, not an unticked box
            return forms.RadioSelect(attrs=attrs, choices=BOOL_CHOICES)
        return forms.CheckboxInput()
    if choices:
        options = [(str(v), label) for v, label in choices]
        if not inp.required or initial in (None, ""):
            options.insert(0, ("", "—"))
        return FastSelect(attrs=attrs, choices=options)
    if t is InputType.TEXTAREA:
        return forms.Textarea(attrs={"rows": 3, **_text_attrs(inp), **attrs})
    if t is InputType.INT:
        return forms.NumberInput(attrs={**_number_attrs(inp, "1"), **attrs})
    if t is InputType.DECIMAL:
        return forms.NumberInput(attrs={**_number_attrs(inp, "any"), **attrs})
    if t is InputType.DATE:
        return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")
    if t is InputType.DATETIME:
        return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format="%Y-%m-%dT%H:%M")
    return forms.TextInput(attrs={**_text_attrs(inp), **attrs})  # TEXT, CHOICE without choices, REF


def field_for(inp: Input, obj: Any) -> forms.Field:
    """The form field of one declared input, for object `obj` (choices and initial value)."""
    label, help_text = inp.label, inp.help
    if inp.type is InputType.PHOTOS:
        photos = PhotoField(label=label, required=False)  # the help of PHOTOS speaks of API tokens
        photos.widget.attrs.update(_attrs(inp))
        return photos
    choices = inp.choice_list(obj) if inp.type is not InputType.BOOL else []
    initial = inp.initial_for(obj)
    if isinstance(initial, bool) and inp.type is InputType.BOOL and inp.required:
        initial = "true" if initial else "false"
    elif choices and initial is not None:
        initial = str(initial)
    if isinstance(initial, datetime) and inp.type is InputType.DATETIME:
        initial = timezone.localtime(initial) if timezone.is_aware(initial) else initial
    return RawField(label=label, help_text=help_text, initial=initial, widget=_widget(inp, choices, initial))


def _engine_value(inp: Input, value: Any) -> Any:
    """What a browser sends, as the engine reads it (a datetime-local field has no offset: the
    current time zone is meant)."""
    if inp.type is InputType.DATETIME and isinstance(value, str) and value:
        parsed = parse_datetime(value) if "T" in value or " " in value else None
        if parsed is not None and timezone.is_naive(parsed):
            return timezone.make_aware(parsed).isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


class OperationForm(forms.Form):
    """The inputs of one operation, as declared by its transition; the engine decides what is valid."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, t: Transition, obj: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", t.name)
        kwargs.setdefault("initial", {"version": obj.version})
        super().__init__(*args, **kwargs)
        self.transition = t
        self.obj = obj
        for inp in t.inputs:
            self.fields[inp.name] = field_for(inp, obj)
        self.phrase_field = next(
            (i.name for i in t.inputs if i.type is InputType.TEXTAREA and i.name in REASON_LIKE), None
        )
        self.phrases: list[str] = []
        if self.phrase_field:
            self.phrases = list(
                CommonPhrase.objects.filter(active=True, operation__in=["", t.name]).values_list("text", flat=True)[
                    :MAX_PHRASES
                ]
            )
        self.message = ""

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def label(self) -> str:
        return str(self.transition.label)

    @property
    def help(self) -> str:
        return str(self.transition.help or "")

    @property
    def has_inputs(self) -> bool:
        return bool(self.transition.inputs)

    @property
    def has_files(self) -> bool:
        return any(i.type is InputType.PHOTOS for i in self.transition.inputs)

    @property
    def phrase_target(self) -> str:
        """The id of the field common phrases fill."""
        return self[self.phrase_field].auto_id if self.phrase_field else ""

    def engine_data(self, actor: Any, upload: bool) -> dict[str, Any]:
        """The input for the engine; photos are stored first (tokens) when `upload`."""
        data: dict[str, Any] = {}
        for inp in self.transition.inputs:
            value = self.cleaned_data.get(inp.name)
            if inp.type is InputType.PHOTOS:
                if upload and value:
                    data[inp.name] = [actions.upload_attachment(actor, f.read(), f.name or "").token for f in value]
                continue
            if value is None or value == "":
                continue
            data[inp.name] = _engine_value(inp, value)
        return data


@dataclass
class Outcome:
    ok: bool
    form: OperationForm | None
    message: str = ""
    status: int = 200
    entry: Any = None
    errors: dict[str, str] = field(default_factory=dict)


def forms_for(obj: Any, user: Any) -> list[OperationForm]:
    """One unbound form per operation the user may perform now."""
    return [OperationForm(t, obj) for t in engine.available(obj, user)]


def replace_form(forms_: list[OperationForm], bound: OperationForm) -> list[OperationForm]:
    """The forms of a page with `bound` (a form sent back with its errors) in its place."""
    if any(f.name == bound.name for f in forms_):
        return [bound if f.name == bound.name else f for f in forms_]
    return [*forms_, bound]


def run(request: HttpRequest, obj: Any, name: str) -> Outcome:
    """Perform operation `name` on `obj` from a POSTed form."""
    wf = obj.get_workflow()
    t = wf.by_name.get(name)
    if t is None or t.is_creation or t.system:
        return Outcome(False, None, str(_("Unknown operation.")), 404)
    form = OperationForm(t, obj, request.POST, request.FILES)
    if not form.is_valid():
        if "version" in form.errors:
            form.message = str(_("The page is incomplete; reload it."))
        else:
            form.message = str(_("Check the marked fields."))
        return Outcome(False, form, form.message, 400)
    # files of someone who may not perform the operation are not even stored
    allowed = any(a.name == name for a in engine.available(obj, request.user))
    try:
        with transaction.atomic():  # an upload is rolled back (file too) when the step fails
            data = form.engine_data(request.user, upload=allowed)
            entry = engine.transition(obj, name, request.user, version=form.cleaned_data["version"], data=data)
    except WorkflowError as exc:
        form.message = apply_error(form, exc, add_message=False)
        return Outcome(False, form, form.message, exc.status, errors=dict(exc.fields))
    return Outcome(True, form, str(_("Done: %(op)s.") % {"op": t.label}), 200, entry)
