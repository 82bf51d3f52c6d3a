"""API tokens: issued from the admin and from `issue_token`; only the hash is stored, the key is
shown once (Hardening item 4)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests import factories
from urbangrid.core.models import ApiToken, AuditLog

ADD_URL = "/admin/core/apitoken/add/"


def api_status(key: str) -> int:
    return Client().get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {key}").status_code


@pytest.fixture
def admin_client(db) -> Client:
    admin = factories.user(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def add_token(client: Client, user, name: str) -> tuple[object, str]:
    r = client.post(ADD_URL, {"user": user.pk, "name": name}, follow=True)
    assert r.status_code == 200, r.content[:500]
    found = re.search(rb'data-testid="new-token-key">([^<]+)<', r.content)
    assert found, "the key is shown in the message after saving"
    return r, found.group(1).decode()


def test_admin_issues_a_usable_token_and_shows_its_key_once(admin_client):
    owner = factories.user("operator")
    _, key = add_token(admin_client, owner, "video platform")
    token = ApiToken.objects.get(name="video platform")
    assert token.user == owner and token.key_hash == ApiToken.hash(key)
    assert key not in token.key_hash and len(key) >= 40
    assert api_status(key) != 401 and api_status(key + "x") == 401
    # shown once: neither the change page nor the list shows it again
    assert key.encode() not in admin_client.get(f"/admin/core/apitoken/{token.pk}/change/").content
    assert key.encode() not in admin_client.get("/admin/core/apitoken/").content
    assert AuditLog.objects.filter(action="api_token.issue", object_id=str(token.pk)).exists()


def test_admin_second_token_is_not_a_server_error(admin_client):
    owner = factories.user("operator")
    _, first = add_token(admin_client, owner, "first")
    _, second = add_token(admin_client, owner, "second")
    assert first != second and ApiToken.objects.filter(user=owner).count() == 2
    assert api_status(first) != 401 and api_status(second) != 401


def test_admin_revokes_a_token(admin_client):
    owner = factories.user("operator")
    _, key = add_token(admin_client, owner, "to revoke")
    token = ApiToken.objects.get(name="to revoke")
    r = admin_client.post(f"/admin/core/apitoken/{token.pk}/change/", {"name": "to revoke", "revoked": "on"})
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked and token.key_hash == ApiToken.hash(key)  # the key is not replaced on change
    assert api_status(key) == 401


def test_issue_token_command_prints_the_key_once(db):
    owner = factories.user("operator", username="videobot")
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", "videobot", name="video platform", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "\n" not in key and len(key) >= 40  # stdout holds only the key, for scripts
    assert "only this once" in err.getvalue()
    token = ApiToken.objects.get(user=owner)
    assert token.name == "video platform" and token.key_hash == ApiToken.hash(key)
    assert api_status(key) != 401


def test_issue_token_command_errors(db):
    factories.user(username="gone", is_active=False)
    with pytest.raises(CommandError, match="No user"):
        call_command("issue_token", "nobody", name="x", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="inactive"):
        call_command("issue_token", "gone", name="x", stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiToken.objects.exists()
