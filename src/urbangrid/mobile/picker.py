"""The data of the phone's category picker (类别选择): every active minor class with what it is
searched by (name, code, synonyms 别名, pinyin initials 首字母 and full pinyin), and the
collector's recent choices first."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pypinyin import Style, lazy_pinyin

from urbangrid.cases.models import Case
from urbangrid.catalog.models import Category, CategorySynonym
from urbangrid.core.cache import ProcessCache
from urbangrid.core.models import User

#: how many recent choices the picker offers first
RECENT = 6
#: how many of the user's last reports are read for them
RECENT_REPORTS = 60


def initials(text: str) -> str:
    """Pinyin initials, lower case: 暴露垃圾 → bllj (other characters are kept: LED灯 → ledd)."""
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).replace(" ", "").lower()


def full_pinyin(text: str) -> str:
    """Full pinyin without tones or spaces: 暴露垃圾 → baolulaji."""
    return "".join(lazy_pinyin(text)).replace(" ", "").lower()


def _build() -> list[dict[str, Any]]:
    synonyms: dict[int, list[str]] = defaultdict(list)
    for category_id, name in CategorySynonym.objects.order_by("name").values_list("category_id", "name"):
        synonyms[category_id].append(name)
    rows = []
    minors = (
        Category.objects.filter(parent__isnull=False, active=True)
        .select_related("parent")
        .order_by("kind", "code", "pk")
    )
    for c in minors:
        names = synonyms.get(c.pk, [])
        rows.append(
            {
                "id": c.pk,
                "kind": c.kind,
                "code": c.code,
                "name": c.name,
                "major": {"id": c.parent_id, "code": c.parent.code, "name": c.parent.name},
                "synonyms": names,
                "initials": initials(c.name),
                "pinyin": full_pinyin(c.name),
                "synonym_initials": [initials(s) for s in names],
            }
        )
    return rows


#: the whole list, rebuilt when a category or synonym changes (and every 10 minutes elsewhere)
categories_cache: ProcessCache[list[dict[str, Any]]] = ProcessCache(
    "mobile.categories", _build, ttl=600, models=(Category, CategorySynonym)
)


def recent_ids(user: User, limit: int = RECENT) -> list[int]:
    """The categories of the user's last reports, most recent first, each once."""
    seen: list[int] = []
    rows = Case.objects.filter(reported_by=user).order_by("-pk").values_list("category_id", flat=True)
    for category_id in rows[:RECENT_REPORTS]:
        if category_id not in seen:
            seen.append(category_id)
            if len(seen) >= limit:
                break
    return seen


def picker_data(user: User) -> dict[str, Any]:
    """All active minor classes, the user's recent choices first (flagged `recent`)."""
    rows = categories_cache()
    recent = [i for i in recent_ids(user) if any(r["id"] == i for r in rows)]
    rank = {category_id: n for n, category_id in enumerate(recent)}
    ordered = sorted(rows, key=lambda r: (0, rank[r["id"]]) if r["id"] in rank else (1, 0))  # stable
    return {
        "recent": recent,
        "categories": [{**r, "recent": r["id"] in rank} for r in ordered],
    }
