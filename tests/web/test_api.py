"""What any API client meets: malformed and huge bodies, unknown paths, the OpenAPI document."""

from __future__ import annotations

import pytest

from tests.conftest import BOTH_DATABASES

pytestmark = pytest.mark.parametrize("backend", BOTH_DATABASES, indirect=True)


def test_malformed_json_is_a_400_that_says_so(farm, client):
    grower = farm.grower()
    response = client.post(
        "/api/v1/batches",
        content=b'{"product": "apples",',
        headers={**grower.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"


def test_a_huge_body_is_refused_with_413(farm, client):
    grower = farm.grower()
    response = client.post(
        "/api/v1/batches",
        content=b'{"product": "' + b"x" * 400_000 + b'"}',
        headers={**grower.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_unknown_paths_and_methods_answer_in_the_error_format(client):
    assert client.get("/api/v1/nothing").json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/batches/NOSUCH").status_code == 404
    assert client.delete("/log/checkpoint").json()["error"]["code"] == "method_not_allowed"


def test_openapi_documents_the_api(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/v1/batches/{lot}/events" in spec["paths"]
