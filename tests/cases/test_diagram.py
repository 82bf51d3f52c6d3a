"""The committed state diagrams are generated from the definitions and must not be stale."""

from pathlib import Path

from urbangrid.workflow import registry
from urbangrid.workflow.diagram import document

DOCS = Path(__file__).resolve().parents[2] / "docs" / "workflows"


def test_committed_diagrams_match_the_definitions():
    from urbangrid.cases.models import Case

    stale = []
    for wf in registry.workflows(Case):
        path = DOCS / f"{wf.name}.md"
        if not path.exists() or path.read_text(encoding="utf-8") != document(wf):
            stale.append(wf.name)
    assert not stale, f"run `urbangrid workflow_diagrams` and commit docs/workflows/: stale {stale}"


def test_every_transition_of_the_loop_is_drawn():
    from urbangrid.cases.loop import URBAN_LOOP

    text = document(URBAN_LOOP)
    for t in URBAN_LOOP.transitions:
        assert f": {t.name} (" in text, t.name
