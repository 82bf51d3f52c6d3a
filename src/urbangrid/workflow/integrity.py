"""Checking the history's hash chains (完整性校验): every entry's hash must match its content and
the previous entry's hash, and sequence numbers must run 1, 2, 3… without gaps."""

from __future__ import annotations

from dataclasses import dataclass

from .models import History, entry_hash


@dataclass
class Broken:
    pk: int
    content_type_id: int
    object_id: int
    seq: int
    problem: str


@dataclass
class Result:
    checked: int = 0
    objects: int = 0
    broken: Broken | None = None


def verify_chains(batch: int = 5000) -> Result:
    """Walk all history in chain order; stop at the first broken link."""
    result = Result()
    key, prev_hash, expected_seq = None, "", 1
    for e in History.objects.order_by("content_type_id", "object_id", "seq").iterator(chunk_size=batch):
        if (e.content_type_id, e.object_id) != key:
            key, prev_hash, expected_seq = (e.content_type_id, e.object_id), "", 1
            result.objects += 1
        problem = ""
        if e.seq != expected_seq:
            problem = f"sequence {e.seq} where {expected_seq} was expected (an entry is missing)"
        elif e.prev_hash != prev_hash:
            problem = "it does not link to the previous entry"
        elif entry_hash(e) != e.hash:
            problem = "its content does not match its hash (changed after it was written)"
        if problem:
            result.broken = Broken(e.pk, e.content_type_id, e.object_id, e.seq, problem)
            return result
        prev_hash, expected_seq = e.hash, e.seq + 1
        result.checked += 1
    return result
