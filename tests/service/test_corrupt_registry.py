"""A corrupt registry.json: the service still starts, says why it is not ready, refuses reloads."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from switchboard.service.app import create_app
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY

CORRUPTIONS = {
    "truncated": '{"versions": {"v1": {"path": "bundles/v1"',
    "wrong_shape": '["v1"]',
}


@pytest.mark.parametrize("content", CORRUPTIONS.values(), ids=list(CORRUPTIONS))
def test_corrupt_registry_at_start_up_is_ready_503_with_reason(
    service_settings: Settings, content: str
) -> None:
    """Check the app starts (/health 200) and /ready is 503 naming registry.json."""
    (service_settings.registry_path / "registry.json").write_text(content)
    with TestClient(app=create_app(service_settings)) as c:
        assert c.get("/health").status_code == 200
        r = c.get("/ready")
        assert r.status_code == 503
        assert r.json()["status"] == "not_ready"
        assert "registry.json" in r.json()["reason"]


def test_reload_with_corrupt_registry_is_409_and_the_old_model_keeps_serving(
    client: TestClient, service_settings: Settings
) -> None:
    """Check a reload against a broken index is refused (409 model_refused), never a 500."""
    (service_settings.registry_path / "registry.json").write_text("{not json")
    r = client.post("/v1/model/reload", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "model_refused"
    assert "still serving v1" in body["detail"]
    assert "registry.json: not valid JSON" in body["detail"]
    assert client.get("/ready").json()["status"] == "ready"
