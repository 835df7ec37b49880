"""The API contract: bounded integers, and an OpenAPI document that says what the service does."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar.testing import TestClient

from switchboard import __version__
from switchboard.service.app import create_app
from switchboard.service.schemas import INT_MAX
from switchboard.settings import Settings

HUGE = 2**64 + 1  # past every database's integer, and past SQLite's 64-bit binding


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("GET", f"/v1/review/queue?offset={HUGE}", None, "offset"),
        ("GET", "/v1/review/queue?offset=-1", None, "offset"),
        ("GET", f"/v1/review/{HUGE}", None, "prediction_id"),
        ("POST", f"/v1/review/{HUGE}", {"verdict": "accept"}, "prediction_id"),
        (
            "PUT",
            "/v1/responders/ana/presence",
            {"online": True, "open_cases": HUGE},
            "$.open_cases",
        ),
        (
            "POST",
            "/v1/score",
            {"id": "1", "text": "hi", "author": {"followers": HUGE}},
            "$.author.followers",
        ),
        (
            "POST",
            "/v1/score/batch",
            {"mentions": [{"id": "1", "text": "hi", "author": {"followers": HUGE}}]},
            "$.mentions[0].author.followers",
        ),
        ("PUT", "/v1/responders/zed", {"capacity": HUGE}, "$.capacity"),
        ("PUT", "/v1/responders/zed", {"tiers": [HUGE]}, "$.tiers[0]"),
    ],
)
def test_huge_integer_is_a_400_naming_the_field(
    client: TestClient, method: str, url: str, body: Any, field: str
) -> None:
    """Check an integer past the database's range, in a query, path or body, is a 400 naming
    the field (query and path values by name, body fields by JSON path), never a 500."""
    r = client.request(method, url, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_input" and r.json()["field"] == field
    assert client.get("/health").status_code == 200


def test_huge_offset_is_a_400_naming_offset(client: TestClient) -> None:
    """Check the issue's own case: `offset` past 64 bits on the review queue."""
    r = client.get("/v1/review/queue", params={"offset": str(HUGE)})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_input", "detail": r.json()["detail"], "field": "offset"}


def test_largest_accepted_integers_are_served(client: TestClient) -> None:
    """Check the bound is one the database can hold: INT_MAX itself is answered, not a 500."""
    queue = client.get("/v1/review/queue", params={"offset": INT_MAX})
    assert queue.status_code == 200 and queue.json()["items"] == []
    assert client.get(f"/v1/review/{INT_MAX}").status_code == 404
    presence = client.put(
        "/v1/responders/ana/presence", json={"online": True, "open_cases": INT_MAX}
    )
    assert presence.status_code == 200 and presence.json()["open_cases"] == INT_MAX


# --- the OpenAPI document -------------------------------------------------------------------


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    return client.get("/schema/openapi.json").json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def test_every_error_status_documents_the_service_error_body(doc: dict[str, Any]) -> None:
    """Check each 4xx/5xx response of each operation is `ErrorOut`, not Litestar's default."""
    error_out = doc["components"]["schemas"]["ErrorOut"]
    assert set(error_out["properties"]) == {"error", "detail", "field"}
    for path, method, op in operations(doc):
        errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
        assert "500" in errors, f"{method} {path}"
        for status, response in errors.items():
            if (path, status) == ("/ready", "503"):
                continue  # readiness answers its own {status, reason} body
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, f"{method} {path} {status}"


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/v1/score", "post", {"400", "401", "403", "413", "415", "503"}),
        ("/v1/score/batch", "post", {"400", "401", "403", "413", "415", "503"}),
        ("/v1/model", "get", {"401", "403", "503"}),
        ("/v1/model/reload", "post", {"401", "403", "409"}),
        ("/v1/responders/{rid}", "get", {"401", "403", "404"}),
        ("/v1/responders/{rid}/presence", "put", {"400", "401", "403", "404"}),
        ("/v1/mentions/{mention_id}/claim", "post", {"400", "404", "409"}),
        ("/v1/review/queue", "get", {"400", "401", "403"}),
        ("/v1/review/{prediction_id}", "get", {"400", "401", "403", "404"}),
        ("/v1/review/{prediction_id}", "post", {"400", "401", "403", "404", "415"}),
        ("/ready", "get", {"503"}),
    ],
)
def test_operation_documents_the_statuses_it_answers_with(
    doc: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    """Check the statuses the handlers and guards raise are in the document."""
    assert statuses <= set(doc["paths"][path][method]["responses"])


def test_guarded_operations_require_the_bearer_scheme(doc: dict[str, Any]) -> None:
    """Check the bearer scheme is declared and every /v1 operation (all behind a key) uses it,
    while the public ones (health, readiness, metrics) do not."""
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    for path, method, op in operations(doc):
        if path.startswith("/v1/"):
            assert op.get("security") == [{"bearer": []}], f"{method} {path}"
            assert {"401", "403"} <= set(op["responses"]), f"{method} {path}"
        else:
            assert not op.get("security"), f"{method} {path}"


def test_limits_in_the_document_are_the_enforced_ones(client: TestClient, doc: dict) -> None:
    """Check the text and batch limits come from the app's settings: maxLength is the
    10,000 characters check_text enforces, and a batch is 1 to max_batch mentions."""
    settings = client.app.state.settings
    schemas = doc["components"]["schemas"]
    text = schemas["MentionIn"]["properties"]["text"]
    assert text["maxLength"] == settings.max_text_chars == 10_000
    mentions = schemas["BatchIn"]["properties"]["mentions"]
    assert mentions["minItems"] == 1 and mentions["maxItems"] == settings.max_batch
    assert client.post("/v1/score/batch", json={"mentions": []}).status_code == 400
    over = {"id": "1", "text": "x" * (settings.max_text_chars + 1)}
    assert client.post("/v1/score", json=over).status_code == 400
    at = {"id": "1", "text": "x" * settings.max_text_chars}
    assert client.post("/v1/score", json=at).status_code == 200


def test_changed_limits_change_the_document(service_settings: Settings) -> None:
    """Check an operator's limits are what the document says (one source, not two)."""
    settings = Settings(
        data_dir=service_settings.data_dir, max_text_chars=500, max_batch=7, api_keys="k:score"
    )
    with TestClient(app=create_app(settings)) as c:
        schemas = c.get("/schema/openapi.json").json()["components"]["schemas"]
        assert schemas["MentionIn"]["properties"]["text"]["maxLength"] == 500
        assert schemas["BatchIn"]["properties"]["mentions"]["maxItems"] == 7


def test_integer_inputs_are_bounded_in_the_document(doc: dict[str, Any]) -> None:
    """Check every integer a client sends, in a body, query or path, has a documented maximum."""

    def integers(schema: Any, where: str) -> list[tuple[str, dict]]:
        found: list[tuple[str, dict]] = []
        if isinstance(schema, dict):
            if schema.get("type") == "integer":
                found.append((where, schema))
            for key, value in schema.items():
                found += integers(value, f"{where}.{key}")
        elif isinstance(schema, list):
            for i, value in enumerate(schema):
                found += integers(value, f"{where}[{i}]")
        return found

    inputs = [name for name in doc["components"]["schemas"] if name.endswith("In")]
    found = [f for name in inputs for f in integers(doc["components"]["schemas"][name], name)]
    for path, method, op in operations(doc):
        for p in op.get("parameters", []):
            found += integers(p["schema"], f"{method} {path} {p['name']}")
    assert len(found) >= 8
    for where, schema in found:
        assert "maximum" in schema and schema["maximum"] <= INT_MAX, where


def test_document_has_title_version_description_and_human_summaries(
    client: TestClient, doc: dict[str, Any]
) -> None:
    """Check the document's info, and that no operation keeps Litestar's function-name summary."""
    assert doc["info"]["title"] == "Switchboard" and doc["info"]["version"] == __version__
    assert "Bearer" in doc["info"]["description"]
    handler_names = {  # what Litestar would write without a summary
        re.sub(r"[_\W]", "", h.handler_name.title())
        for route in client.app.routes
        for h in getattr(route, "route_handlers", [])
    }
    for path, method, op in operations(doc):
        assert op.get("summary") and op["summary"] not in handler_names, f"{method} {path}"


def test_request_bodies_carry_a_valid_example(client: TestClient, doc: dict[str, Any]) -> None:
    """Check each JSON body has an example, and the mention example is scored as it is."""
    for path, method, op in operations(doc):
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert schema.get("examples"), f"{method} {path}"
    example = doc["paths"]["/v1/score"]["post"]["requestBody"]["content"]["application/json"]
    r = client.post("/v1/score", json=example["schema"]["examples"][0])
    assert r.status_code == 200, r.text


# --- the docs page ----------------------------------------------------------------------------


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in {"src", "href"} and v]


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
def test_docs_page_loads_only_local_assets_and_they_are_served(
    client: TestClient, page: str
) -> None:
    """Check the docs page works offline: every script, style and icon it references is a
    path on this service, and each one is served."""
    r = client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    parser = _Assets()
    parser.feed(r.text)
    assert len(parser.urls) >= 3
    head = r.text.split("<body>")[0]
    assert "http://" not in head and "https://" not in head
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url


def test_request_bodies_document_that_unknown_fields_are_refused(doc: dict[str, Any]) -> None:
    """Check each body Struct (forbid_unknown_fields) says additionalProperties: false."""
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]["allOf"][0]["$ref"]
        for _, _, op in operations(doc)
        if "requestBody" in op
    ]
    assert len(set(bodies)) >= 7
    for ref in bodies:
        name = ref.rsplit("/", 1)[1]
        assert doc["components"]["schemas"][name]["additionalProperties"] is False, name


def test_posted_time_may_be_unix_seconds_and_is_documented_so(client: TestClient) -> None:
    r = client.post("/v1/score", json={"id": "u1", "text": "hello", "created_at": 1_795_000_000})
    assert r.status_code == 200, r.text
    bad = client.post("/v1/score", json={"id": "u2", "text": "hello", "created_at": -1})
    assert bad.status_code == 400 and bad.json()["field"] == "$.created_at"
    schema = client.get("/schema/openapi.json").json()["components"]["schemas"]["MentionIn"]
    kinds = {k.get("type") for k in schema["properties"]["created_at"]["anyOf"]}
    assert {"string", "number", "null"} <= kinds
