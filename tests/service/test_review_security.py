"""Review sign-in, sessions and CSRF tokens; API keys only in the header; JSON-only bodies."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select, update

from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.auth import check_name, create_key, hash_key, parse_keys
from switchboard.service.db import make_engine, migrate, review_sessions
from switchboard.service.sessions import COOKIE, SqlStore
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY, REVIEW_KEY, REVIEWER, ROSTER

CRISIS = "my child was injured by your product, calling my lawyer"
ACCEPT = {"verdict": "accept"}
TOKEN = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture
def page(client: TestClient) -> TestClient:
    """The admin client with one prediction in the queue, then without its bearer key."""
    r = client.post("/v1/score", json={"id": "hot", "text": CRISIS, "author": {"id": "u1"}})
    assert r.status_code == 200, r.text
    client.app.state.log.flush()
    client.headers.pop("Authorization")
    return client


def _token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, html
    return match.group(1)


def sign_in(client: TestClient, key: str = REVIEW_KEY) -> str:
    """Sign in through the form as a browser does; the signed-in page's CSRF token."""
    token = _token(client.get("/review/login").text)
    r = client.post("/review/login", data={"key": key, "_csrf": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return _token(client.get("/review").text)


def _pid(client: TestClient) -> int:
    r = client.get("/v1/review/queue", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    return r.json()["items"][0]["prediction_id"]


def _verdicts(client: TestClient, pid: int) -> list[dict]:
    r = client.get(f"/v1/review/{pid}", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    return r.json()["reviews"]


def test_cross_origin_form_post_is_refused(page: TestClient) -> None:
    """Check that posts without the session's CSRF token, or from another site, are 403."""
    good = sign_in(page)
    pid = _pid(page)
    url = f"/review/api/{pid}"
    refused = [
        {},  # no token (what a page elsewhere can send)
        {"x-csrf-token": "guessed"},
        {"x-csrf-token": good, "sec-fetch-site": "same-site"},  # another port of this host
        {"x-csrf-token": good, "sec-fetch-site": "cross-site"},
    ]
    for headers in refused:
        r = page.post(url, json={"verdict": "accept"}, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert r.json()["error"] == "forbidden"
    r = page.post("/review/logout", data={"_csrf": "guessed"}, follow_redirects=False)
    assert r.status_code == 403
    assert _verdicts(page, pid) == []
    r = page.post(url, json={"verdict": "accept"}, headers={"x-csrf-token": good})
    assert r.status_code == 201, r.text
    assert page.get("/review", follow_redirects=False).status_code == 200  # still signed in


def test_sign_in_form_without_its_token_is_refused(page: TestClient) -> None:
    """Check that a sign-in posted from elsewhere (no token, wrong token) signs nobody in."""
    page.get("/review/login")
    for form in ({"key": REVIEW_KEY}, {"key": REVIEW_KEY, "_csrf": "guessed"}):
        r = page.post("/review/login", data=form, follow_redirects=False)
        assert r.status_code == 403 and "expired" in r.text
        assert page.get("/review", follow_redirects=False).status_code == 302


def test_key_cookie_does_not_authorise_the_api(page: TestClient) -> None:
    """Check that neither the old `sb_key` cookie nor a review session opens `/v1`: 401."""
    sign_in(page)
    session = page.cookies.get(COOKIE)
    for cookies in ({"sb_key": ADMIN_KEY}, {COOKIE: session}):
        fresh = TestClient(app=page.app)
        fresh.cookies.update(cookies)
        for method, path in [("get", "/v1/review/queue"), ("get", "/v1/responders")]:
            assert getattr(fresh, method)(path).status_code == 401, (cookies, path)
        r = fresh.post(f"/v1/review/{_pid(page)}", json={"verdict": "accept"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("kwargs", "media"),
    [
        ({"content": b'{"verdict": "accept"}', "headers": {"content-type": "text/plain"}}, "text"),
        ({"data": {"verdict": "accept"}}, "form"),
        ({"files": {"verdict": ("v.json", b'{"verdict": "accept"}')}}, "multipart"),
        ({"content": b'{"verdict": "accept"}'}, "none"),
    ],
)
@pytest.mark.parametrize("door", ["/v1/review/{pid}", "/v1/score", "/review/api/{pid}"])
def test_non_json_bodies_to_json_endpoints_are_415(
    page: TestClient, kwargs: dict, media: str, door: str
) -> None:
    """Check that text/plain, form and multipart bodies get a 415 in the service's error shape."""
    token = sign_in(page)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "x-csrf-token": token}
    url = door.format(pid=_pid(page))
    r = page.post(url, **{**kwargs, "headers": {**headers, **kwargs.get("headers", {})}})
    assert r.status_code == 415, (media, r.text)
    body = r.json()
    assert body["error"] == "unsupported_media_type" and body["field"] is None
    assert "application/json" in body["detail"]


def test_json_and_bodyless_requests_still_pass(page: TestClient) -> None:
    """Check that JSON with a charset, and a POST without a body, are not refused."""
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    r = page.post(
        f"/v1/review/{_pid(page)}",
        content=b'{"verdict": "accept"}',
        headers={**auth, "content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201, r.text
    assert page.post("/v1/model/reload", headers=auth).status_code != 415


def _expire_sessions(client: TestClient) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    with client.app.state.engine.begin() as conn:
        conn.execute(update(review_sessions).values(expires_at=past))


def test_session_expires_after_the_idle_time(page: TestClient) -> None:
    """Check that an idle session ends: the page goes back to sign-in, verdicts are 401."""
    token = sign_in(page)
    r = page.get("/review", follow_redirects=False)
    assert f"Max-Age={8 * 60 * 60}" in r.headers["set-cookie"]  # the default idle time
    _expire_sessions(page)
    r = page.get("/review", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/review/login"
    r = page.post(f"/review/api/{_pid(page)}", json=ACCEPT, headers={"x-csrf-token": token})
    assert r.status_code == 401


def test_sign_out_invalidates_the_session_server_side(page: TestClient) -> None:
    """Check that sign-out deletes the stored session, so replaying the old cookie fails."""
    token = sign_in(page)
    old = page.cookies.get(COOKIE)
    r = page.post("/review/logout", data={"_csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/review/login"
    with page.app.state.engine.connect() as conn:
        stored = select(func.count()).select_from(review_sessions)
        assert conn.execute(stored).scalar() == 0
    replay = TestClient(app=page.app)
    replay.cookies.set(COOKIE, old, path="/review")
    r = replay.get("/review", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/review/login"
    r = replay.post(f"/review/api/{_pid(page)}", json=ACCEPT, headers={"x-csrf-token": token})
    assert r.status_code == 401


def test_sign_in_gets_a_fresh_session_id(page: TestClient) -> None:
    """Check that an id known before sign-in (e.g. planted by another port) is not the session."""
    page.get("/review/login")
    before = page.cookies.get(COOKIE)
    sign_in(page)
    after = page.cookies.get(COOKIE)
    assert before and after and before != after
    planted = TestClient(app=page.app)
    planted.cookies.set(COOKIE, before, path="/review")
    assert planted.get("/review", follow_redirects=False).status_code == 302


def test_session_keeps_the_identity_never_the_key(page: TestClient) -> None:
    """Check that the stored session names the reviewer and holds no key, raw or hashed."""
    sign_in(page)
    with page.app.state.engine.connect() as conn:
        rows = conn.execute(select(review_sessions)).all()
    assert len(rows) == 1
    data = bytes(rows[0].data)
    assert REVIEWER.encode() in data
    assert REVIEW_KEY.encode() not in data and hash_key(REVIEW_KEY).encode() not in data
    assert rows[0].id_hash != page.cookies.get(COOKIE)  # the table alone is no cookie


@pytest.mark.parametrize("secure", [True, False])
def test_session_cookie_is_secure_when_the_setting_is_on(
    service_settings: Settings, secure: bool
) -> None:
    """Check the cookie's flags: Secure by the setting; HttpOnly, SameSite=Strict, /review."""
    settings = Settings(**{**_fields(service_settings), "secure_cookies": secure})
    with TestClient(app=create_app(settings)) as client:
        r = client.get("/review/login")
        cookie = r.headers["set-cookie"]
    assert ("Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "Path=/review" in cookie
    assert f"{COOKIE}=" in cookie


def _fields(settings: Settings) -> dict:
    return {f: getattr(settings, f) for f in Settings.__dataclass_fields__}


def test_verdicts_record_the_signed_in_identity_whatever_the_client_sends(
    page: TestClient,
) -> None:
    """Check that the page's and the API's verdicts are stored under who signed in."""
    pid = _pid(page)
    token = sign_in(page)
    body = {"verdict": "correct", "tier": 4, "reviewer": "somebody-else"}
    r = page.post(f"/review/api/{pid}", json=body, headers={"x-csrf-token": token})
    assert r.status_code == 201 and r.json()["reviewer"] == REVIEWER
    named = create_key(page.app.state.engine, frozenset({"review"}), name="alice")
    r = page.post(
        f"/v1/review/{pid}",
        json={"verdict": "accept", "reviewer": "mallory"},
        headers={"Authorization": f"Bearer {named}"},
    )
    assert r.status_code == 201 and r.json()["reviewer"] == "alice"
    assert [v["reviewer"] for v in _verdicts(page, pid)] == [REVIEWER, "alice"]


def test_sessions_survive_a_restart_and_are_shared_across_processes(
    service_settings: Settings,
) -> None:
    """Check that a session made by one app instance is honoured by another on the database."""
    with TestClient(app=create_app(service_settings)) as first:
        store.seed_roster(first.app.state.engine, ROSTER)
        sign_in(first)
        cookie = first.cookies.get(COOKIE)
    with TestClient(app=create_app(service_settings)) as second:
        second.cookies.set(COOKIE, cookie, path="/review")
        r = second.get("/review", follow_redirects=False)
        assert r.status_code == 200 and REVIEWER in r.text


def test_sql_store_expires_renews_and_deletes(service_settings: Settings) -> None:
    """Check the Store contract the session middleware relies on."""
    engine = make_engine(service_settings.db_url)
    migrate(engine)
    kv = SqlStore(engine)

    async def run() -> None:
        await kv.set("a", b"1", expires_in=60)
        await kv.set("a", "2", expires_in=60)  # an upsert, not a second row
        await kv.set("b", b"3", expires_in=-1)  # already expired
        assert await kv.get("a") == b"2" and await kv.get("b") is None
        assert 55 <= (await kv.expires_in("a") or 0) <= 60
        await kv.get("a", renew_for=3600)
        assert (await kv.expires_in("a") or 0) > 3500
        await kv.delete("a")
        assert not await kv.exists("a")
        await kv.set("c", b"4")
        await kv.delete_all()
        assert await kv.get("c") is None

    asyncio.run(run())
    engine.dispose()


@pytest.mark.parametrize(
    ("spec", "identity", "scopes"),
    [
        ("k1:review", "key:" + hash_key("k1")[:8], {"review"}),
        ("k1:review,score:alice", "alice", {"review", "score"}),
        ("k1:admin:Dr. Who: QA", "Dr. Who: QA", {"admin"}),
    ],
)
def test_env_keys_may_carry_an_owner_name(spec: str, identity: str, scopes: set[str]) -> None:
    """Check `key:scopes[:name]`: the name after the second colon, else `key:<hash>`."""
    principal = parse_keys(spec)[hash_key("k1")]
    assert principal.identity == identity and principal.scopes == scopes


@pytest.mark.parametrize("name", ["", "key:12345678", "a" * 101, "tab\there"])
def test_a_key_name_cannot_pass_for_another_key(name: str) -> None:
    """Check that empty, overlong, control-character and `key:` names are refused."""
    with pytest.raises(ValueError, match="name must be"):
        check_name(name)
    with pytest.raises(ValueError, match="name must be"):
        parse_keys(f"k1:review:{name}" if name else "k1:review:")


def test_keys_create_names_the_owner(service_settings: Settings) -> None:
    """Check `switchboard keys create --scopes review --name alice` stores the owner."""
    from contextlib import redirect_stdout
    from io import StringIO

    from switchboard.cli import main
    from switchboard.service.auth import principal_of

    out = StringIO()
    with redirect_stdout(out):
        assert (
            main(["keys", "create", "--scopes", "review", "--name", "alice"], service_settings) == 0
        )
    key = out.getvalue().strip()
    engine = make_engine(service_settings.db_url)
    assert principal_of(key, {}, engine).identity == "alice"
    engine.dispose()


def test_secure_cookies_setting_reads_true_or_false_only() -> None:
    """Check the flag parser: a typo must not silently turn the Secure flag off."""
    assert Settings.from_env({"SWITCHBOARD_SECURE_COOKIES": "true"}).secure_cookies is True
    assert Settings.from_env({}).secure_cookies is False
    with pytest.raises(ValueError, match="SWITCHBOARD_SECURE_COOKIES must be true or false"):
        Settings.from_env({"SWITCHBOARD_SECURE_COOKIES": "ture"})


def test_revoking_a_key_ends_its_review_sessions(
    page: TestClient, service_settings: Settings
) -> None:
    """Check a page session signed in with a stored key ends once `keys revoke` withdraws it."""
    from switchboard.cli import main

    key = create_key(page.app.state.engine, frozenset({"review"}), "alice")
    token = sign_in(page, key)
    assert page.get("/review", follow_redirects=False).status_code == 200
    assert main(["keys", "revoke", "1"], service_settings) == 0
    r = page.get("/review", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/review/login"
    r = page.post(f"/review/api/{_pid(page)}", json=ACCEPT, headers={"x-csrf-token": token})
    assert r.status_code == 401
    with page.app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(review_sessions)).scalar() == 0
