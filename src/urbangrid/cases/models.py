"""Urban-management cases (案卷): the record that travels the seven-step loop."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from urbangrid.workflow.models import Attachment, AttachmentKind, Light, Notification, WorkflowObject  # noqa: F401


class State(models.TextChoices):
    REPORTED = "reported", _("reported")  # 已上报 / 待受理
    VERIFYING = "verifying", _("verifying")  # 核实中
    ACCEPTED = "accepted", _("accepted, awaiting registration")  # 已受理 / 待立案
    REGISTERED = "registered", _("registered, awaiting dispatch")  # 已立案 / 待派遣
    HANDLING = "handling", _("handling")  # 处置中
    RETURN_REQUESTED = "return_requested", _("return requested")  # 回退待审
    SUSPENDED = "suspended", _("suspended")  # 挂账
    FEEDBACK = "feedback", _("handled, awaiting check")  # 已处置 / 待发核查
    CHECKING = "checking", _("checking on site")  # 核查中
    PENDING_CLOSE = "pending_close", _("awaiting closing")  # 待结案
    CLOSED = "closed", _("closed")  # 已结案
    NOT_ACCEPTED = "not_accepted", _("not accepted")  # 不予受理 (operator)
    REJECTED = "rejected", _("not registered")  # 不予立案 (shift leader)
    VOIDED = "voided", _("voided")  # 作废
    MERGED = "merged", _("merged into another case")  # 重复件合并
    RECHECKING = "rechecking", _("re-checking a disputed fix")  # 复核中 (市民称未解决)
    SELF_HANDLED = "self_handled", _("fixed by the collector, awaiting confirmation")  # 自处置待审核


FINAL_STATES = [State.CLOSED, State.NOT_ACCEPTED, State.REJECTED, State.VOIDED, State.MERGED]
OPEN_STATES = [s for s in State.values if s not in FINAL_STATES]


class Source(models.TextChoices):
    COLLECTOR = "collector", _("collector patrol")  # 监督员上报
    HOTLINE = "hotline", _("hotline")  # 12345 / 12319 热线
    CITIZEN = "citizen", _("citizen (web / app)")  # 公众举报
    PARTNER = "partner", _("partner system (Open311)")  # 第三方系统
    LEADER = "leader", _("leader or superior assignment")  # 领导交办 / 上级交办
    MEDIA = "media", _("media exposure")  # 媒体曝光
    VIDEO = "video", _("video alarm")  # 视频发现
    SENSOR = "sensor", _("sensor alarm")  # 物联网感知
    SYSTEM = "system", _("other system")  # 部门转办 / 其他系统


class PendingRequest(models.TextChoices):
    NONE = "", _("none")
    EXTENSION = "extension", _("extension requested")  # 延期申请
    SUSPENSION = "suspension", _("suspension requested")  # 挂账申请
    VOID = "void", _("void requested")  # 作废申请


class DispatchRule(models.Model):
    """An automatic dispatch rule (自动派遣规则): a registered case whose category, street and
    component owner match goes to `department` without a dispatcher, when exactly one active
    rule (the most specific) matches. Otherwise the dispatcher decides, as usual."""

    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("category"), on_delete=models.CASCADE, related_name="+"
    )
    street = models.ForeignKey(
        "geo.AdminDivision",
        verbose_name=_("street (empty: any)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    component_owner = models.ForeignKey(
        "core.Department",
        verbose_name=_("component owner (empty: any)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("dispatch to"), on_delete=models.CASCADE, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("automatic dispatch rule")
        verbose_name_plural = _("automatic dispatch rules")
        constraints = [
            models.UniqueConstraint(fields=["category", "street", "component_owner"], name="dispatch_rule_unique")
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.department}"

    @property
    def specificity(self) -> int:
        return (self.street_id is not None) + (self.component_owner_id is not None)


class Case(WorkflowObject):
    """An urban-management case (案卷 / 案件)."""

    number = models.CharField(_("case number"), max_length=24)  # unique: see Meta.constraints
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    channel = models.JSONField(_("channel data"), default=dict, blank=True)
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by case_category_created
    )
    component = models.ForeignKey(
        "catalog.Component",
        verbose_name=_("component"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        db_index=False,  # partial index in Meta: most cases are events, without a component
    )
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    lon = models.FloatField(_("longitude (WGS-84)"))
    lat = models.FloatField(_("latitude (WGS-84)"))
    unit_grid = models.ForeignKey(
        "geo.UnitGrid",
        verbose_name=_("unit grid"),
        on_delete=models.PROTECT,
        related_name="cases",
    )
    work_grid = models.ForeignKey(
        "geo.WorkGrid",
        verbose_name=_("work grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    community = models.ForeignKey(
        "geo.AdminDivision", verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "geo.AdminDivision", verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=16, default="normal")
    # --- reporter: personal data, never shown to the public ------------------------------
    reporter_name = models.CharField(_("reporter name"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=32, blank=True)
    reporter_email = models.CharField(_("reporter e-mail"), max_length=254, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # reports by person are read from the history
    )
    # --- responsibility ---------------------------------------------------------------
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,  # covered by case_dept_todo
    )
    suggested_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("suggested department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # never filtered on
    )
    # --- flags (not states) -------------------------------------------------------------
    verified = models.BooleanField(_("verified on site"), null=True, blank=True)
    supervised = models.BooleanField(_("supervised (督办)"), default=False)
    urged_count = models.PositiveIntegerField(_("urged"), default=0)
    rework_count = models.PositiveIntegerField(_("rework"), default=0)
    return_count = models.PositiveIntegerField(_("returns"), default=0)
    extension_count = models.PositiveIntegerField(_("extensions"), default=0)
    self_handled = models.BooleanField(_("fixed by the collector"), default=False)
    #: when the department signed for the task (签收) since it was last dispatched to it
    signed_at = models.DateTimeField(_("signed for"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,  # partial index in Meta: few cases are merged
    )
    # --- milestones -----------------------------------------------------------------------
    created_at = models.DateTimeField(_("reported at"))
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["department", "state", "deadline"], name="case_dept_todo"),
            models.Index(fields=["state", "deadline"], name="case_state_deadline"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["source", "created_at"], name="case_source_created"),
            models.Index(fields=["created_at"], name="case_created"),
            # pending requests are few: the dispatcher's and leaders' approval lists read this
            models.Index(fields=["pending_request", "state"], condition=~Q(pending_request=""), name="case_pending"),
            # Partial indexes where most rows hold NULL: every insert and every change of state
            # (a new row version) would otherwise add an entry to each of them.
            models.Index(fields=["component"], condition=Q(component__isnull=False), name="case_component"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="case_merged_into"),
        ]
        constraints = [
            # a constraint, not unique=True: on PostgreSQL that adds a second (pattern) index,
            # and numbers are only ever looked up whole
            models.UniqueConstraint(fields=["number"], name="case_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number

    #: joined when the engine locks the row: what guards, effects and timers read
    workflow_related = ("category", "work_grid", "department", "community")


class CaseCounter(models.Model):
    """Daily sequence for case numbers on SQLite (PostgreSQL uses a native sequence per day)."""

    day = models.CharField(max_length=8, unique=True)
    value = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")

    def __str__(self) -> str:
        return f"{self.day}: {self.value}"


class StageLimit(models.Model):
    """Time limit for a center stage (环节时限), editable by administrators."""

    class Stage(models.TextChoices):
        ACCEPT = "accept", _("acceptance")  # 受理
        VERIFY = "verify", _("verification")  # 核实
        REGISTER = "register", _("registration")  # 立案
        DISPATCH = "dispatch", _("dispatch")  # 派遣
        SEND_CHECK = "send_check", _("sending the check")  # 发核查
        CHECK = "check", _("on-site check")  # 核查
        CLOSE = "close", _("closing")  # 结案
        APPROVE = "approve", _("approval of a request")  # 审批
        REWORK = "rework", _("rework")  # 返工

    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    urgency = models.CharField(_("urgency"), max_length=16, blank=True, help_text=_("Empty: any urgency."))
    area = models.CharField(
        _("area"),
        max_length=8,
        blank=True,
        choices=[("urban", _("urban area")), ("rural", _("rural area"))],
        help_text=_("Empty: any area. Verification and check limits often differ between urban and rural areas."),
    )
    amount = models.DecimalField(_("limit"), max_digits=7, decimal_places=2)
    unit = models.CharField(
        _("unit"),
        max_length=16,
        choices=[
            ("working_hours", _("working hours")),
            ("working_days", _("working days")),
            ("hours", _("natural hours")),
            ("days", _("calendar days (紧急工作日)")),
        ],
    )

    class Meta:
        verbose_name = _("stage time limit")
        verbose_name_plural = _("stage time limits")
        constraints = [models.UniqueConstraint(fields=["stage", "urgency", "area"], name="stage_limit_unique_area")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.urgency or '*'} {self.area or '*'}: {self.amount} {self.unit}"


# --- the public's side of the loop: return visits, ratings and disputed fixes -------------


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")  # 基本满意
    DISSATISFIED = "dissatisfied", _("dissatisfied")  # 不满意


class ReturnVisit(models.Model):
    """An operator's call back to the reporter of a closed case (回访), recorded by the loop."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="return_visits")
    outcome = models.CharField(_("outcome"), max_length=24, choices=Satisfaction.choices)
    not_fixed = models.BooleanField(_("reporter says not fixed"), default=False)
    note = models.TextField(_("note"), blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visited by"), on_delete=models.PROTECT, related_name="+"
    )
    visited_at = models.DateTimeField(_("visited at"))
    history_seq = models.PositiveIntegerField(_("history entry"))

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.case} {self.outcome}"


class CitizenRating(models.Model):
    """The reporter's own rating of a closed case (市民评价); one per closing."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="ratings")
    rating = models.CharField(_("rating"), max_length=24, choices=Satisfaction.choices)
    comment = models.TextField(_("comment"), blank=True)
    closed_at = models.DateTimeField(_("closing rated"))
    rated_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("citizen rating")
        verbose_name_plural = _("citizen ratings")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["case", "closed_at"], name="rating_once_per_closing")]

    def __str__(self) -> str:
        return f"{self.case} {self.rating}"


class Dispute(models.Model):
    """The reporter says a closed case is not fixed (市民称未解决): the grid's collector re-checks."""

    class Outcome(models.TextChoices):
        PENDING = "", _("re-check pending")
        CONFIRMED = "confirmed", _("not fixed: rework")
        REJECTED = "rejected", _("fixed: closed again")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="disputes")
    channel = models.CharField(_("channel"), max_length=16)  # portal, return_visit, api
    reason = models.TextField(_("reason"))
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("department that reported the fix"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("disputed fix")
        verbose_name_plural = _("disputed fixes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.case} {self.outcome or 'pending'}"


def _attachment_path(instance, filename: str) -> str:  # referenced by migration 0001 only
    return f"cases/{instance.uploaded_at:%Y/%m}/{instance.token}{instance.extension}"
