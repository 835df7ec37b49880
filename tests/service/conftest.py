"""A small real bundle in a temporary registry, and a test client over the app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from models.registry import CHAMPION, Registry
from models.routing_types import Responder
from models.settings import Settings
from service.app import create_app
from tests.conftest import make_cases
from training.train import fit_bundle


@pytest.fixture(scope="session")
def trained_bundle():
    bundle = fit_bundle(make_cases(400)).bundle
    bundle.metadata["version"] = "v1"
    return bundle


@pytest.fixture
def service_settings(tmp_path: Path, trained_bundle) -> Settings:
    settings = Settings(data_dir=tmp_path / "var", max_batch=20)
    registry = Registry(settings.registry_path)
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    return settings


ROSTER = (
    Responder(
        id="ana",
        tiers=(2, 3, 4, 5),
        online=True,
        shift_start_hour=0,
        shift_end_hour=24,
        skills=("complaint",),
        languages=("en", "es"),
    ),
    Responder(id="bo", tiers=(2, 3), online=True, shift_start_hour=0, shift_end_hour=24),
)


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    with TestClient(app=create_app(service_settings, ROSTER)) as c:
        yield c
