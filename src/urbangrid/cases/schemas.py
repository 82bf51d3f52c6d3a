"""API schemas for cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ReporterIn(Schema):
    name: str = ""
    phone: str = ""
    email: str = ""


class CaseIn(Schema):
    source: str | None = Field(
        None,
        description="Follows from who reports: citizen accounts report as citizen, collectors as collector; "
        "center staff choose hotline, leader, media, video, sensor, system or partner (default hotline).",
    )
    category: str = Field(..., description='Category id, "event:0102", "component:0101" or an unambiguous code')
    description: str
    lon: float
    lat: float
    crs: str = Field("WGS84", description="WGS84, GCJ02 or CGCS2000")
    address: str = ""
    component: str | None = Field(None, description="Component identifier (部件标识码) when known")
    urgency: str | None = None
    reporter: ReporterIn | None = None
    channel: dict[str, Any] = Field(default_factory=dict)
    photos: list[str] = Field(default_factory=list, description="Tokens of uploaded photos (POST /attachments)")


class Ref(Schema):
    id: str
    code: str = ""
    name: str


class HistoryOut(Schema):
    seq: int
    action: str
    from_state: str
    to_state: str
    actor: str | None
    role: str
    reason: str
    payload: dict[str, Any]
    attachments: list[Any]
    stage: str
    stage_limit: str
    time_used_minutes: int | None
    overdue: bool
    deadline_before: datetime | None
    deadline_after: datetime | None
    created_at: datetime


class CaseOut(Schema):
    id: str
    number: str
    version: int
    state: str
    state_label: str
    source: str
    category: Ref
    kind: str
    description: str
    address: str
    lon: float
    lat: float
    unit_grid: str
    work_grid: str | None
    community: str
    street: str
    urgency: str
    department: Ref | None
    suggested_department: Ref | None
    stage: str
    deadline: datetime | None
    deadline_provisional: bool
    light: str
    supervised: bool
    urged_count: int
    rework_count: int
    return_count: int
    extension_count: int
    pending_request: str
    verified: bool | None
    self_handled: bool
    merged_into: str | None
    created_at: datetime
    registered_at: datetime | None
    dispatched_at: datetime | None
    closed_at: datetime | None
    reporter: ReporterIn | None = None


class LinkOut(Schema):
    kind: str
    direction: str
    type: str
    id: str


class CaseDetailOut(CaseOut):
    history: list[HistoryOut]
    operations: list[str]
    attachments: list[dict[str, Any]]
    links: list[LinkOut]


class CaseListOut(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: str
    type: str
    size: int
