"""Promote and roll back in the registry, then `/v1/model/reload`: the service serves the result."""

from __future__ import annotations

import copy
import dataclasses

from litestar.testing import TestClient

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.routing.policy import load_policy
from switchboard.settings import Settings
from switchboard.training import lifecycle


def test_rollback_is_served_after_reload(
    client: TestClient, service_settings: Settings, trained_bundle
) -> None:
    """Check promote v2 -> reload serves v2; rollback -> reload serves v1 again."""
    registry = Registry(service_settings.registry_path)
    v2 = dataclasses.replace(
        trained_bundle, metadata={**copy.deepcopy(trained_bundle.metadata), "version": "v2"}
    )
    registry.register(v2, "v2")
    policy = load_policy(service_settings.policy_file)
    lifecycle.promote(service_settings, "v2", policy)
    assert client.get("/v1/model").json()["version"] == "v1"  # nothing changes until a reload
    assert client.post("/v1/model/reload").status_code in (200, 201)
    assert client.get("/v1/model").json()["version"] == "v2"

    assert lifecycle.rollback(service_settings, reason="v2 misroutes")[:2] == ("v2", "v1")
    assert registry.get(CHAMPION).version == "v1"
    assert client.post("/v1/model/reload").status_code in (200, 201)
    assert client.get("/v1/model").json()["version"] == "v1"
    scored = client.post("/v1/score", json={"id": "1", "text": "where is my order #A1234567?"})
    assert scored.status_code == 200 and scored.json()["model_version"] == "v1"
