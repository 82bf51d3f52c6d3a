"""Case operations as forms, built from the workflow definition.

The operations a user sees are exactly `Workflow.available(case, user)`; each becomes a
form whose fields come from the transition's `needs` (plus the optional inputs its
validators and effects read). New transitions therefore appear without changes here; an
input this module does not know is rendered as a text field of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from urbangrid.cases import actions
from urbangrid.cases.models import Case
from urbangrid.core.models import Department
from urbangrid.workflow.engine import Transition
from urbangrid.workflow.errors import WorkflowError

from .models import CommonPhrase
from .widgets import FastSelect

#: Optional inputs read by a validator or effect (by function name), beyond `needs`.
EXTRA_INPUTS: dict[str, tuple[str, ...]] = {
    "verify_result_given": ("exists",),
    "register": ("urgency",),
    "valid_extension": ("unit",),
}
#: Inputs that must be given although they are not in `needs` (checked by a validator).
REQUIRED_EXTRAS = {"exists"}
UNITS = [("working_days", _("working days")), ("working_hours", _("working hours")), ("hours", _("natural hours"))]
URGENCIES = [("normal", _("normal")), ("urgent", _("urgent"))]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotoField(forms.FileField):
    """Several photos; on phones the camera opens directly."""

    widget = MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"})

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotoField, self).clean(f, initial) for f in files]


def inputs_for(t: Transition) -> list[str]:
    """The inputs of an operation, in order: its needs, then optional extras."""
    names = list(t.needs)
    for fn in (*t.validate, *t.effects):
        names += [n for n in EXTRA_INPUTS.get(getattr(fn, "__name__", ""), ()) if n not in names]
    if "amount" in names and "unit" not in names:
        names.insert(names.index("amount") + 1, "unit")
    return names


def _field(name: str, required: bool, case: Case) -> forms.Field:
    attrs = {"required": "required"} if required else {}
    if name in ("reason", "result"):
        label = _("Reason") if name == "reason" else _("Result of the handling")
        return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3, **attrs}))
    if name == "photos":
        f = PhotoField(label=_("Photos"), required=False)
        f.widget.attrs.update(attrs)
        return f
    if name == "department":
        choices = [(d.pk, d.name) for d in Department.objects.filter(is_active=True).order_by("code")]
        initial = case.department_id if case.department_id else case.suggested_department_id
        return forms.TypedChoiceField(
            label=_("Department"), choices=choices, coerce=int, initial=initial, required=False, widget=FastSelect
        )
    if name == "amount":
        return forms.DecimalField(
            label=_("Extension"),
            min_value=0,
            max_digits=7,
            decimal_places=2,
            required=False,
            widget=forms.NumberInput(attrs={"step": "0.5", **attrs}),
        )
    if name == "unit":
        return forms.ChoiceField(
            label=_("Unit"), choices=UNITS, initial=case.stage_limit_unit or "working_days", required=False
        )
    if name == "exists":
        return forms.ChoiceField(
            label=_("Does the problem exist on site?"),
            choices=[("true", _("yes, it exists")), ("false", _("no, not found"))],
            widget=forms.RadioSelect(attrs=attrs),
            required=False,
        )
    if name == "urgency":
        return forms.ChoiceField(label=_("Urgency"), choices=URGENCIES, initial=case.urgency, required=False)
    if name == "target":
        return forms.CharField(
            label=_("Merge into case number"), max_length=24, required=False, widget=forms.TextInput(attrs=attrs)
        )
    label = name.replace("_", " ").capitalize()
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


class OperationForm(forms.Form):
    """The inputs of one operation; the engine decides what is valid (errors land on fields)."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, t: Transition, case: Case, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", t.name)
        kwargs.setdefault("initial", {"version": case.version})
        super().__init__(*args, **kwargs)
        self.transition = t
        self.inputs = inputs_for(t)
        needs = set(t.needs) | REQUIRED_EXTRAS
        for name in self.inputs:
            self.fields[name] = _field(name, name in needs, case)
        self.phrases: list[str] = []
        if "reason" in self.inputs:
            self.phrases = list(
                CommonPhrase.objects.filter(active=True, operation__in=["", t.name]).values_list("text", flat=True)[:12]
            )
        self.message = ""

    @property
    def name(self) -> str:
        return self.transition.name

    @property
    def label(self) -> str:
        return str(self.transition.label)

    @property
    def has_inputs(self) -> bool:
        return bool(self.inputs)

    @property
    def has_files(self) -> bool:
        return "photos" in self.inputs

    def engine_data(self, actor, upload: bool) -> dict[str, Any]:
        """Cleaned input for `actions.perform`; photos are stored first (tokens) when `upload`."""
        data: dict[str, Any] = {}
        for name in self.inputs:
            value = self.cleaned_data.get(name)
            if name == "photos":
                if upload and value:
                    data["photos"] = [actions.upload_attachment(actor, f.read(), f.name or "").token for f in value]
                continue
            if value not in (None, ""):
                data[name] = value
        return data


@dataclass
class Outcome:
    ok: bool
    form: OperationForm | None
    message: str = ""
    status: int = 200
    entry: Any = None
    errors: dict[str, str] = field(default_factory=dict)


def forms_for(case: Case, user) -> list[OperationForm]:
    """One unbound form per operation the user may perform now."""
    return [OperationForm(t, case) for t in actions.available_operations(case, user)]


def run(request: HttpRequest, case: Case, name: str) -> Outcome:
    """Perform operation `name` from a POSTed form through `actions.perform`."""
    wf = case.get_workflow()
    t = wf.by_name.get(name)
    if t is None:
        return Outcome(False, None, str(_("Unknown operation.")), 404)
    form = OperationForm(t, case, request.POST, request.FILES)
    if not form.is_valid():
        if "version" in form.errors:
            return Outcome(False, form, str(_("The page is incomplete; reload it.")), 400)
        form.message = str(_("Check the marked fields."))
        return Outcome(False, form, form.message, 400)
    allowed = any(a.name == name for a in actions.available_operations(case, request.user))
    try:
        data = form.engine_data(request.user, upload=allowed)
        entry = actions.perform(case, name, request.user, version=form.cleaned_data["version"], data=data)
    except WorkflowError as exc:
        for key, msg in exc.fields.items():
            key = "photos" if key == "file" else key
            form.add_error(key if key in form.fields else None, msg)
        form.message = exc.message
        return Outcome(False, form, exc.message, exc.status, errors=dict(exc.fields))
    return Outcome(True, form, str(_("Done: %(op)s.") % {"op": t.label}), 200, entry)
