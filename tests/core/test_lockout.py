"""Sign-in lock-out per username and address, and per address across usernames (Hardening item 3)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories

PASSWORD = "Demo-pass-2026"


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


@pytest.fixture
def staff(db):
    return [factories.user("operator") for _ in range(2)]


def test_five_wrong_passwords_lock_that_user_at_that_address(staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    victim, colleague = staff
    c = Client()
    for attempt in range(1, 6):
        r = sign_in(c, victim.username, "wrong-password")
        assert r.status_code == (429 if attempt == 5 else 200), attempt
    r = sign_in(c, victim.username, PASSWORD)
    assert r.status_code == 429 and b'data-testid="locked"' in r.content
    assert "_auth_user_id" not in c.session
    # the address is not locked: another user signs in from it, and the victim from elsewhere
    assert sign_in(Client(), colleague.username, PASSWORD).status_code == 302
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), victim.username, PASSWORD).status_code == 302


def test_one_guess_on_each_of_many_accounts_locks_the_address(staff, settings):
    assert settings.URBANGRID_ADDRESS_FAILURE_LIMIT == 20
    real = staff[0]
    c = Client()
    for attempt in range(1, 21):  # one guess on each of 20 usernames (most do not exist)
        r = sign_in(c, f"guess{attempt}", "123456")
        assert r.status_code == (429 if attempt == 20 else 200), attempt
    assert b"network address" in r.content
    # now even a correct password from that address is refused ...
    r = sign_in(c, real.username, PASSWORD)
    assert r.status_code == 429 and "_auth_user_id" not in c.session
    # ... while other addresses are not affected
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), real.username, PASSWORD).status_code == 302


def test_address_limit_is_configurable_and_below_it_sign_in_works(staff, settings):
    settings.URBANGRID_ADDRESS_FAILURE_LIMIT = 3
    real = staff[0]
    c = Client()
    for attempt in range(1, 3):
        assert sign_in(c, f"guess{attempt}", "123456").status_code == 200
    assert sign_in(c, real.username, PASSWORD).status_code == 302  # 2 failures < 3
    c = Client()
    assert sign_in(c, "guess3", "123456").status_code == 429  # the third failure locks the address
    assert sign_in(c, real.username, PASSWORD).status_code == 429


def test_address_limit_counts_the_client_address_header_behind_a_proxy(staff, settings):
    settings.URBANGRID = {**settings.URBANGRID, "CLIENT_ADDRESS_HEADER": "HTTP_X_REAL_IP"}
    settings.URBANGRID_ADDRESS_FAILURE_LIMIT = 3
    real = staff[0]
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    for attempt in range(1, 4):
        r = sign_in(proxy, f"guess{attempt}", "123456", HTTP_X_REAL_IP="203.0.113.7")
    assert r.status_code == 429
    # the proxy's other clients still sign in
    assert sign_in(proxy, real.username, PASSWORD, HTTP_X_REAL_IP="203.0.113.8").status_code == 302
