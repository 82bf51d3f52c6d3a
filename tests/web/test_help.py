"""Staff help: workflow diagrams and operations drawn from the definitions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from urbangrid.cases.loop import URBAN_LOOP
from urbangrid.workflow.diagram import svg


def test_the_svg_has_every_state_and_every_operation():
    root = ET.fromstring(svg(URBAN_LOOP))
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for state in URBAN_LOOP.states:
        assert state in texts, state
    moving = [t for t in URBAN_LOOP.transitions if t.target and any(s != t.target for s in t.sources)]
    for t in moving:  # every operation that changes the state labels an arrow
        assert t.name in texts, t.name
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert len(rects) == len(URBAN_LOOP.states)
    assert all("style" not in el.attrib for el in root.iter())  # shown under a strict CSP


@pytest.mark.django_db
def test_help_page_lists_the_loop_for_staff_only(client):
    from tests.factories import user

    res = client.get("/help/workflows/")
    assert res.status_code == 302  # sign in first
    client.force_login(user("operator"))
    res = client.get("/help/workflows/")
    assert res.status_code == 200
    body = res.content.decode()
    assert 'data-testid="workflow-urban_case"' in body and "return_to_shift" in body
    pic = client.get("/help/workflows/urban_case.svg")
    assert pic.status_code == 200 and pic["Content-Type"].startswith("image/svg+xml")
    assert client.get("/help/workflows/nothing.svg").status_code == 404
    client.force_login(user("citizen"))
    assert client.get("/help/workflows/").status_code == 403
