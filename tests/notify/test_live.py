"""The live badge's endpoint, the to-do fragment, and notifications read on opening the case."""

from __future__ import annotations

from tests.cases.test_loop import op, report, to_handling
from tests.factories import user
from urbangrid.workflow.models import Notification

URL = "/live/counts.json"


def test_staff_only_as_json(world, client, as_user):
    response = client.get(URL)
    assert response.status_code == 401 and response.json()["error"]
    citizen = user("citizen", username="citizen1")
    response = as_user(citizen).get(URL)
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert as_user(world.operator).post(URL).status_code == 405


def test_counts_per_bucket_and_unread(world, as_user):
    a = report(world)
    report(world, i=1)
    data = as_user(world.operator).get(URL).json()
    assert data["total"] == 2
    assert data["buckets"] == [{"key": "reported", "label": "reported", "count": 2, "url": "/todo/?state=reported"}]
    assert data["unread"] == 2 and data["latest_id"] == max(n["id"] for n in data["notifications"])
    newest = data["notifications"][0]
    assert newest["kind"] == "assigned" and newest["urgent"] is False
    assert newest["url"] in (f"/cases/{a.pk}/", f"/cases/{a.pk + 1}/")
    assert data["urgent"] is False


def test_collector_buckets_and_the_approvals_bucket(world, as_user):
    case = to_handling(world, report(world))
    op(case, "request_extension", world.handler, reason="需协调", amount="1", unit="working_days")
    data = as_user(world.dispatcher).get(URL).json()
    assert [(b["key"], b["count"]) for b in data["buckets"]] == [("approvals", 1)]
    collector_case = report(world, i=1)
    op(collector_case, "send_verify", world.operator)
    assert as_user(world.collector).get(URL).json()["buckets"][0]["key"] == "verifying"


def test_urgent_new_work_since_the_last_poll(world, as_user):
    client = as_user(world.operator)
    report(world)
    seen = client.get(URL).json()["latest_id"]
    assert client.get(URL, {"since": seen}).json()["urgent"] is False
    report(world, category=world.cover)  # an urgent category
    data = client.get(URL, {"since": seen}).json()
    assert data["urgent"] is True and data["notifications"][0]["urgent"] is True
    assert client.get(URL, {"since": data["latest_id"]}).json()["urgent"] is False
    assert client.get(URL, {"since": "x"}).status_code == 200


def test_opening_the_case_marks_its_notifications_read(world, as_user):
    case = report(world)
    other = report(world, i=1)
    client = as_user(world.operator)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    mine = Notification.objects.filter(user=world.operator)
    assert mine.get(object_id=case.pk).read_at is not None
    assert mine.get(object_id=other.pk).read_at is None
    assert client.get(URL).json()["unread"] == 1


def test_the_todo_fragment_has_the_rows_and_counts_only(world, as_user):
    case = report(world)
    client = as_user(world.operator)
    page = client.get("/todo/").content.decode()
    assert "data-live-rows" in page and "<html" in page
    fragment = client.get("/todo/", {"fragment": "1", "state": "reported"})
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    assert "data-live-rows" in body and case.number in body and 'data-testid="count-total">1<' in body
    assert "data-live-rows" not in client.get("/done/").content.decode()
    assert "data-live-rows" not in client.get("/todo/", {"cursor": "x"}).content.decode()


def test_pages_load_the_live_script_and_badge(world, as_user):
    page = as_user(world.operator).get("/todo/").content.decode()
    assert 'src="/static/web/live.js" data-live-url="/live/counts.json"' in page
    assert 'data-chime="/static/web/chime.wav"' in page and 'data-testid="live-count"' in page
    phone = as_user(world.collector).get("/m/").content.decode()
    assert 'src="/static/web/live.js" data-live-url="/live/counts.json"' in phone
    assert 'data-testid="live-badge"' in phone


def test_the_static_files_exist():
    import wave
    from pathlib import Path

    static = Path(__import__("urbangrid.web", fromlist=["x"]).__file__).parent / "static" / "web"
    with wave.open(str(static / "chime.wav")) as w:
        assert w.getnchannels() == 1 and 0.2 < w.getnframes() / w.getframerate() < 1
    assert (static / "chime.wav").stat().st_size < 20_000
    js = (static / "live.js").read_text()
    assert "innerHTML" not in js and "eval(" not in js  # text only, CSP-safe
