"""Which models run which workflows (流程注册). A model registers one or more definitions; the
definition is chosen per object when it is created (e.g. the simple or the general procedure
of a penalty case) and kept in the object's `workflow` field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .definition import Workflow


@dataclass
class Registration:
    model: type
    workflows: dict[str, Workflow]
    #: obj -> the name of its definition (default: the first registered)
    choose: Callable[[Any], str] | None = None
    #: user -> the queryset of objects the user may see (scope); used for attachments and links
    visible: Callable[[Any], Any] | None = None

    @property
    def default(self) -> Workflow:
        return next(iter(self.workflows.values()))


_BY_MODEL: dict[type, Registration] = {}
_BY_NAME: dict[str, tuple[type, Workflow]] = {}


def register(
    model: type,
    *workflows: Workflow,
    choose: Callable[[Any], str] | None = None,
    visible: Callable[[Any], Any] | None = None,
) -> None:
    """Let `model` (a WorkflowObject) run `workflows`; `choose(obj)` names the one a new object
    follows; `visible(user)` is the queryset of objects a user may see. Called from the app's
    `ready()`; registering again replaces the registration."""
    if not workflows:
        raise ValueError("register at least one workflow")
    old = _BY_MODEL.pop(model, None)
    for wf in old.workflows.values() if old else ():
        _BY_NAME.pop(wf.name, None)
    for wf in workflows:
        if wf.name in _BY_NAME:
            raise ValueError(f"workflow {wf.name} is already registered for {_BY_NAME[wf.name][0].__name__}")
        _BY_NAME[wf.name] = (model, wf)
    _BY_MODEL[model] = Registration(model, {wf.name: wf for wf in workflows}, choose, visible)


def unregister(model: type) -> None:
    reg = _BY_MODEL.pop(model, None)
    for wf in reg.workflows.values() if reg else ():
        _BY_NAME.pop(wf.name, None)


def registration(model: type) -> Registration:
    try:
        return _BY_MODEL[model]
    except KeyError:
        raise LookupError(f"{model.__name__} runs no registered workflow") from None


def models() -> list[type]:
    return list(_BY_MODEL)


def workflows(model: type) -> list[Workflow]:
    return list(registration(model).workflows.values())


def get(name: str) -> Workflow:
    return _BY_NAME[name][1]


def choose(obj: Any) -> Workflow:
    """The definition a new object follows."""
    reg = registration(type(obj))
    if obj.workflow:
        name = obj.workflow
    elif reg.choose is not None:
        name = reg.choose(obj)
    else:
        return reg.default
    try:
        return reg.workflows[name]
    except KeyError:
        raise LookupError(f"{type(obj).__name__} has no workflow {name!r}") from None


def workflow_for(obj: Any) -> Workflow:
    """The definition an existing object follows."""
    reg = registration(type(obj))
    return reg.workflows.get(obj.workflow) or reg.default


def visible_objects(model: type, user: Any):
    """The objects of `model` that `user` may see (none when the model declares no scope)."""
    reg = registration(model)
    if reg.visible is None:
        return model._default_manager.none()
    return reg.visible(user)
