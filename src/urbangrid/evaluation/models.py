"""Evaluation's own tables: the snapshot taken when a case is reported and registered, the
per-case facts derived from history, and daily counters (pre-aggregates) derived from history.

`CaseFact` and `DailyCount` are a function of (history, snapshot): `facts.derive` computes them,
the History post_save hook keeps them current, `urbangrid rebuild_facts` recomputes them and
`urbangrid check_facts` proves the stored rows equal a recomputation. They hold no foreign key
constraints (ids only): they are rebuilt in bulk and must not block deleting test data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseSnapshot(models.Model):
    """What the case was when it was reported (location, source, category) and the dictionary
    entry it was registered under (立案 category). Written by the hook at `report` and `register`;
    never changed by anything else. Location and source never change after the report."""

    case_id = models.BigIntegerField(primary_key=True)
    source = models.CharField(_("source"), max_length=16)
    reported_category_id = models.IntegerField(_("category reported"))
    registered_category_id = models.IntegerField(_("category at registration"), null=True)
    category_code = models.CharField(_("category code"), max_length=32, blank=True)
    category_kind = models.CharField(_("category kind"), max_length=16, blank=True)
    urgency = models.CharField(_("urgency reported"), max_length=16, blank=True)
    unit_grid_id = models.IntegerField(_("unit grid"))
    work_grid_id = models.IntegerField(_("work grid"), null=True)
    community_id = models.IntegerField(_("community"))
    street_id = models.IntegerField(_("street"))

    class Meta:
        verbose_name = _("case snapshot")
        verbose_name_plural = _("case snapshots")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"snapshot {self.case_id}"


#: the columns the area families group by (location snapshot, category, public or not)
AREA_COLUMNS = ["public", "street_id", "unit_grid_id", "category_id"]
#: the columns the "should handle" family filters, groups and counts by
SHOULD_COLUMNS = [
    "department_id",
    "voided_at",
    "street_id",
    "unit_grid_id",
    "category_id",
    "closed_at",
    "handled_late",
    "extensions",
    "suspensions",
    "reworks",
]


class CaseFact(models.Model):
    """One row per case: everything the department and region indicators count, derived from
    the case's history and snapshot (`facts.derive`). "Assignment" fields describe the current
    (last) dispatch to a department: the department charged with the case."""

    case_id = models.BigIntegerField(primary_key=True)
    last_seq = models.IntegerField()
    state = models.CharField(max_length=32)
    source = models.CharField(max_length=16)
    public = models.BooleanField()  # not from a collector's patrol
    reporter_id = models.IntegerField(null=True)
    category_id = models.IntegerField()  # at registration (else as reported)
    urgency = models.CharField(max_length=16, blank=True)
    unit_grid_id = models.IntegerField()
    work_grid_id = models.IntegerField(null=True)
    community_id = models.IntegerField()
    street_id = models.IntegerField()
    reported_at = models.DateTimeField()
    registered_at = models.DateTimeField(null=True)  # the standing registration
    self_fixed_at = models.DateTimeField(null=True)  # a collector's fix confirmed (快速处置)
    voided_at = models.DateTimeField(null=True)
    department_id = models.IntegerField(null=True)  # charged department (current assignment)
    dispatched_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True)  # effective handling deadline of the last round
    handled_at = models.DateTimeField(null=True)  # last feedback of the assignment
    handled_late = models.BooleanField(default=False)  # some feedback of the assignment was overdue
    closed_at = models.DateTimeField(null=True)
    reworks = models.SmallIntegerField(default=0)
    extensions = models.SmallIntegerField(default=0)
    suspensions = models.SmallIntegerField(default=0)
    returns = models.SmallIntegerField(default=0)

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        default_permissions = ("view",)
        # Each evaluation family reads one of these ranges, and each index holds every column
        # that family groups and counts by, so the database reads the index alone (the
        # "should handle" family: due in the period, carried over and handled since, carried
        # over and unhandled; reported; registered; self-fixed). See indicators.Counts.
        indexes = [
            models.Index(fields=["due_at", *SHOULD_COLUMNS, "handled_at"], name="fact_due_cover"),
            models.Index(fields=["handled_at", "due_at", *SHOULD_COLUMNS], name="fact_handled_cover"),
            models.Index(
                fields=["due_at", *SHOULD_COLUMNS],
                condition=models.Q(handled_at__isnull=True),
                name="fact_unhandled_cover",
            ),
            models.Index(fields=["reported_at", *AREA_COLUMNS], name="fact_reported_cover"),
            models.Index(fields=["registered_at", "voided_at", *AREA_COLUMNS], name="fact_registered_cover"),
            models.Index(fields=["self_fixed_at", *AREA_COLUMNS], name="fact_self_fixed_cover"),
            models.Index(fields=["dispatched_at"], name="fact_dispatched"),
            # the dashboards of a work grid or a unit grid read its cases directly (cohorts.py
            # keeps the counts of the larger areas)
            models.Index(fields=["work_grid_id", "reported_at"], name="fact_work_grid_reported"),
            models.Index(fields=["unit_grid_id", "reported_at"], name="fact_unit_grid_reported"),
        ]

    def __str__(self) -> str:
        return f"fact {self.case_id}"


class DailyCount(models.Model):
    """A counter per day (local date), dimension and key, summed over all cases' histories:
    dim "u" user (posts), "g" work grid, "d" department, "s" street, "c" community.
    Each case contributes `facts.contributions(history, snapshot)`; the hook applies the
    difference a new entry makes."""

    day = models.DateField()
    dim = models.CharField(max_length=1)
    key = models.BigIntegerField()
    counter = models.CharField(max_length=40)
    value = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        default_permissions = ("view",)
        constraints = [models.UniqueConstraint(fields=["day", "dim", "key", "counter"], name="dailycount_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.dim}{self.key} {self.counter}={self.value}"


#: the counters of a cohort count, in this order (cohorts.counters)
COHORT_COUNTERS = (
    "collected",
    "self_fixed",
    "dispatched",
    "closed",
    "closed_dispatched",
    "closed_on_time",
    "closed_on_time_strict",
)


class CohortCount(models.Model):
    """What became of the cases reported on a day (按上报日的批次计数), per street, community, work
    grid (0: none) and charged department (0: none), in total (dim "t", key "") and per source
    ("o"), category ("k") and reporting collector ("r"). A function of the case facts, kept by
    the hook (see cohorts.py). `closed_on_time` counts closed cases handled on time;
    `closed_on_time_strict` those of them never extended (the EXTENDED = "late" rule)."""

    dim = models.CharField(max_length=1)
    day = models.DateField()
    street_id = models.IntegerField()
    community_id = models.IntegerField()
    work_grid_id = models.IntegerField()
    department_id = models.IntegerField()
    key = models.CharField(max_length=32)
    collected = models.IntegerField(default=0)
    self_fixed = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    closed_dispatched = models.IntegerField(default=0)
    closed_on_time = models.IntegerField(default=0)
    closed_on_time_strict = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("cohort count")
        verbose_name_plural = _("cohort counts")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["dim", "day", "street_id", "community_id", "work_grid_id", "department_id", "key"],
                name="cohortcount_unique",
            )
        ]
        indexes = [
            # PostgreSQL: every column a period's sums read, so they are index-only scans (150 →
            # 40 ms for a month's 149,000 category rows). SQLite has no INCLUDE: there this is an
            # index on (dim, day) (check W040 silenced in settings for this reason).
            models.Index(
                fields=["dim", "day"],
                include=["street_id", "community_id", "work_grid_id", "department_id", "key", *COHORT_COUNTERS],
                name="cohortcount_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.dim} {self.key}: {self.collected}"


class StoredEvaluation(models.Model):
    """The indicator values of one object type, period and scope as computed at `computed_at`
    (存储的考评结果): what the dashboards show of the evaluation, recomputed when older than
    URBANGRID_EVALUATION_MAX_AGE and by the worker for the current month (see stored.py)."""

    object_type = models.CharField(max_length=16)
    period = models.CharField(max_length=32)
    first = models.DateField()
    last = models.DateField()
    scope = models.CharField(max_length=64)
    counting_rules = models.JSONField()
    rows = models.JSONField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        verbose_name = _("stored evaluation")
        verbose_name_plural = _("stored evaluations")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["object_type", "first", "last", "scope"], name="storedevaluation_unique")
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.period} {self.scope} @ {self.computed_at}"


# --- scoring rules, published months, bulletin templates (evaluation/scoring.py, publish.py) --------

#: object types a scoring rule can rank (the API's {object_type}s)
SCORED_TYPES = [
    ("street", _("streets")),
    ("district", _("districts")),
    ("community", _("communities")),
    ("work_grid", _("work grids")),
    ("unit_grid", _("unit grids")),
    ("department", _("departments")),
    ("collector", _("collectors")),
    ("operator", _("operators")),
    ("shift_leader", _("shift leaders")),
    ("dispatcher", _("dispatchers")),
]


def default_levels() -> list[list]:
    """§8.6: score threshold and level name, highest first."""
    return [[90, "优秀"], [80, "良好"], [60, "合格"], [0, "不合格"]]


class ScoringRule(models.Model):
    """One dated version of a bureau's scoring rule (考核办法) for an object type. The version
    with the latest `valid_from` on or before a month's first day (then the highest version)
    applies to that month. A version used by a published month is locked: change the rule by
    adding a new version."""

    object_type = models.CharField(_("object type"), max_length=16, choices=SCORED_TYPES)
    name = models.CharField(_("name"), max_length=120)
    version = models.PositiveIntegerField(_("version"), editable=False)
    valid_from = models.DateField(_("valid from"), help_text=_("Applies to months whose first day is on or after."))
    active = models.BooleanField(_("active"), default=True)
    base_points = models.DecimalField(
        _("base points"), max_digits=9, decimal_places=3, default=0, help_text=_("Points before the terms are added.")
    )
    levels = models.JSONField(
        _("levels"),
        default=default_levels,
        help_text=_("[[threshold, name], …], highest first: a score at or above a threshold gets its level."),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["object_type", "-valid_from", "-version"]
        constraints = [models.UniqueConstraint(fields=["object_type", "version"], name="scoringrule_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.get_object_type_display()}, {self.valid_from})"

    def save(self, *args, **kwargs) -> None:
        if not self.version:
            last = ScoringRule.objects.filter(object_type=self.object_type).aggregate(m=models.Max("version"))["m"]
            self.version = (last or 0) + 1
        super().save(*args, **kwargs)

    @property
    def locked(self) -> bool:
        return bool(self.pk) and self.published_months.exists()


class TermKind(models.TextChoices):
    WEIGHTED = "weighted", _("weighted: value × weight")
    BAND = "band", _("band table: points by value range")
    DEDUCTION = "deduction", _("deduction: points off per count")
    TARGET = "target", _("target: full points at the target, points per percentage point above / below")
    MONEY = "money", _("money: yuan per percentage point above / below the target")


class ScoringTerm(models.Model):
    """One term of a rule. Indicator values come from the registry (docs/indicators.md); the
    indicator "score" in a money term is the rule's total score."""

    rule = models.ForeignKey(ScoringRule, on_delete=models.CASCADE, related_name="terms", verbose_name=_("rule"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=12, choices=TermKind.choices, default=TermKind.WEIGHTED)
    indicator = models.CharField(_("indicator"), max_length=64)
    label = models.CharField(_("label"), max_length=120, blank=True)
    weight = models.DecimalField(_("weight"), max_digits=9, decimal_places=4, default=1)
    invert = models.BooleanField(_("use 100 − value"), default=False)
    missing_value = models.DecimalField(
        _("value when missing"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("A rate without denominator; empty: the term gives 0 (money: nothing)."),
    )
    bands = models.JSONField(
        _("bands"), default=list, blank=True, help_text=_("[[bound, points], …] for band terms, in any order.")
    )
    band_mode = models.CharField(
        _("band mode"),
        max_length=8,
        choices=[("at_least", _("value ≥ bound")), ("at_most", _("value ≤ bound"))],
        default="at_least",
    )
    per_unit = models.DecimalField(
        _("points per count"), max_digits=9, decimal_places=3, default=0, help_text=_("Deduction terms.")
    )
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=3, null=True, blank=True)
    full_points = models.DecimalField(_("points at target"), max_digits=9, decimal_places=3, default=0)
    above = models.DecimalField(
        _("per point above"),
        max_digits=9,
        decimal_places=3,
        default=0,
        help_text=_("Points (target terms) or yuan (money terms) per percentage point above the target."),
    )
    below = models.DecimalField(
        _("per point below"),
        max_digits=9,
        decimal_places=3,
        default=0,
        help_text=_("Points (target terms) or yuan (money terms) per percentage point below the target."),
    )
    cap = models.DecimalField(
        _("limit"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Target terms: at most these points; deductions: at most this much off; money: at most this much."),
    )

    class Meta:
        verbose_name = _("scoring term")
        verbose_name_plural = _("scoring terms")
        ordering = ["rule", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.indicator}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .scoring import validate_term

        try:
            object_type = self.rule.object_type or None
        except ScoringRule.DoesNotExist:
            object_type = None
        errors = validate_term(self.as_dict(), object_type)
        if errors:
            raise ValidationError(errors)

    def as_dict(self) -> dict:
        def d(x):
            return None if x is None else str(x)

        return {
            "kind": self.kind,
            "indicator": self.indicator,
            "label": self.label,
            "weight": d(self.weight),
            "invert": self.invert,
            "missing_value": d(self.missing_value),
            "bands": self.bands or [],
            "band_mode": self.band_mode,
            "per_unit": d(self.per_unit),
            "target": d(self.target),
            "full_points": d(self.full_points),
            "above": d(self.above),
            "below": d(self.below),
            "cap": d(self.cap),
        }


class PublishedMonth(models.Model):
    """A frozen month (发布): the rule version and its definition, the input indicator values,
    the scores, ranks, levels and money. Read, never recomputed. A correction is a new version
    with a reason; the newest version is the current one."""

    period = models.CharField(_("month"), max_length=7)  # 2026-11
    object_type = models.CharField(_("object type"), max_length=16, choices=SCORED_TYPES)
    scope = models.CharField(_("scope"), max_length=64, default="city")
    version = models.PositiveIntegerField(_("version"))
    rule = models.ForeignKey(
        ScoringRule, on_delete=models.PROTECT, related_name="published_months", verbose_name=_("rule version")
    )
    rule_definition = models.JSONField(_("rule definition"))
    counting_rules = models.JSONField(_("counting rules"))
    inputs = models.JSONField(_("input values"))
    results = models.JSONField(_("results"))
    adjustments = models.JSONField(_("adjustments"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    published_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("published by")
    )
    published_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        verbose_name = _("published month")
        verbose_name_plural = _("published months")
        ordering = ["-period", "object_type", "scope", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "object_type", "scope", "version"], name="publishedmonth_unique")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.object_type} {self.scope} v{self.version}"


class BulletinTemplate(models.Model):
    """The monthly bulletin (《数字城管》通报) as a Django template the bureau edits; the newest
    active one is used. It sees only plain figures (see docs/evaluation.md)."""

    name = models.CharField(_("name"), max_length=120)
    body = models.TextField(_("template"))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("bulletin template")
        verbose_name_plural = _("bulletin templates")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .reports import check_template

        error = check_template(self.body)
        if error:
            raise ValidationError({"body": error})
