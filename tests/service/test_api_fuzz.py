"""Property-based requests from the app's own OpenAPI document (schemathesis, in-process).

For every operation schemathesis generates requests, valid and invalid, from the document the
app publishes, sends them to the app over ASGI with the admin key, and checks each answer: no
5xx, a status the operation documents, a body that matches the documented schema, invalid data
refused, missing auth refused. The app has a real (small) model and a seeded roster, so the
scoring and roster paths run for real. Bounded: a fixed number of examples per operation and a
per-example deadline; `SWITCHBOARD_FUZZ_EXAMPLES=500` digs deeper.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY, ROSTER

EXAMPLES = int(os.environ.get("SWITCHBOARD_FUZZ_EXAMPLES", "25"))

# Schema-valid data should be accepted, except where acceptance depends on data no schema can
# state: which intents the loaded model knows and which responders exist (review.record), and
# that `accept` names no labels. Those verdicts are a 400 naming the field.
CONFIG = SchemathesisConfig.from_str(
    f"""
[auth.openapi.bearer]
bearer = "{ADMIN_KEY}"

[[operations]]
include-operation-id = "review_verdict"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]
"""
)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, trained_bundle) -> Iterator:
    """The app's schema, loaded from the app itself; schemathesis runs its lifespan once."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "var"
    service_settings = Settings(
        data_dir=data_dir, max_batch=20, api_keys=f"{ADMIN_KEY}:admin", database_url=""
    )
    registry = Registry(service_settings.registry_path)
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    app = create_app(service_settings)
    # Loading the schema starts the app's lifespan (database, model), once for the module.
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app, config=CONFIG)
    store.seed_roster(app.state.engine, ROSTER)
    yield schema
    asgi.shutdown_lifespans()  # the prediction log is flushed and the engine disposed


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_every_generated_request_as_documented(api_schema, mode) -> None:
    """Check no generated request, valid or invalid, gets a 5xx, and every answer conforms to
    the document; each operation is fuzzed in turn and every failing one is reported."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=timedelta(seconds=2),
            database=None,  # no .hypothesis/ directory; a failure prints its reproduction
            derandomize=True,  # the same requests every run: a CI failure reproduces locally
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case) -> None:
            case.call_and_validate()  # as admin, through the document's `bearer` scheme

        try:
            answers_as_documented()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue  # nothing to make invalid: no parameters and no body (GET /health)
        except Exception as exc:  # collected, then reported all together
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
