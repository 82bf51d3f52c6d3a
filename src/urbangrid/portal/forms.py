"""The citizen's report form; the checks themselves are the Open311 ones (open311.validation)."""

from __future__ import annotations

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from urbangrid.open311 import public


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Public categories grouped by major class, for a <select> with optgroups."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for cat in public.public_categories().values():
        groups.setdefault(public.category_name(cat.parent), []).append((cat.code, public.category_name(cat)))
    return list(groups.items())


class ReportForm(forms.Form):
    service_code = forms.ChoiceField(label=_("What kind of problem?"))
    lat = forms.CharField(required=False, widget=forms.HiddenInput)
    long = forms.CharField(required=False, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("Address or place"),
        required=False,
        max_length=200,
        help_text=_("Pin the place on the map, or type a street address or a landmark."),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp", "capture": "environment"}),
    )
    description = forms.CharField(
        label=_("Describe the problem"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    name = forms.CharField(label=_("Your name"), required=False, max_length=64)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=32)
    email = forms.EmailField(label=_("E-mail"), required=False)
    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_code"].choices = [("", "—"), *category_choices()]
        if not self.is_bound:
            self.initial.setdefault("form_token", secrets.token_urlsafe(16))


class RatingForm(forms.Form):
    RATINGS = [
        ("satisfied", _("Satisfied")),
        ("basically_satisfied", _("Basically satisfied")),
        ("dissatisfied", _("Dissatisfied")),
    ]
    code = forms.CharField(label=_("Your personal code"), max_length=16)
    rating = forms.ChoiceField(label=_("How was the result?"), choices=RATINGS, widget=forms.RadioSelect)
    not_fixed = forms.BooleanField(label=_("The problem is not fixed"), required=False)
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
