"""API request schemas generated from a transition's declared inputs (one schema per operation).

Pydantic models (django-ninja `Schema`) with the operation's inputs plus `version`, extra
fields refused; the engine still cleans and validates the values (the schema gives clients and
the OpenAPI document the types, choices, labels and help)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils import translation
from ninja import Schema
from pydantic import ConfigDict, Field, create_model

from .definition import Input, InputType, Transition, Workflow

_TYPES: dict[InputType, Any] = {
    InputType.TEXT: str,
    InputType.TEXTAREA: str,
    InputType.INT: int,
    InputType.DECIMAL: Decimal,
    InputType.BOOL: bool,
    InputType.DATE: date,
    InputType.DATETIME: datetime,
    InputType.PHOTOS: list[str],
    InputType.REF: str | int,
}


class OperationBase(Schema):
    model_config = ConfigDict(extra="forbid")


def _annotation(inp: Input) -> Any:
    if inp.type is InputType.CHOICE and inp.choices is not None and not callable(inp.choices):
        values = tuple(str(v) for v, _label in inp.choice_list())
        return Literal[values]  # type: ignore[valid-type]
    return _TYPES[inp.type]


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def request_schema(wf: Workflow, t: Transition) -> type[Schema]:
    """The request body of operation `t` of `wf`."""
    with translation.override("en"):
        fields: dict[str, Any] = {
            "version": (int, Field(..., description="The version of the record you read (optimistic locking).")),
        }
        for inp in t.inputs:
            description = str(inp.label) + (f". {inp.help}" if inp.help else "")
            if inp.type is InputType.REF and inp.choices is not None:
                description += " (one of the ids listed by the operation's choices)"
            kwargs: dict[str, Any] = {"description": description}
            if inp.max_length and inp.type in (InputType.TEXT, InputType.TEXTAREA):
                kwargs["max_length"] = inp.max_length
            annotation = _annotation(inp)
            if inp.required:
                fields[inp.name] = (annotation, Field(..., **kwargs))
            else:
                fields[inp.name] = (annotation | None, Field(None, **kwargs))
        name = f"{_camel(wf.name)}{_camel(t.name)}In"
        return create_model(name, __base__=OperationBase, **fields)  # type: ignore[call-overload]
