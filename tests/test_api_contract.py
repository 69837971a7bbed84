"""The OpenAPI schema is the contract: generated requests never meet a server error.

Each operation gets a knowledge base with the sample documents; writes carry the key.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from api_support import auth, fill, make_app
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection

from kb import KnowledgeBase

# The schema is loaded when the module is collected, so its knowledge base is built
# here rather than by the `kb` fixture (schemathesis' `from_fixture` does not run under
# pytest 9); it lives in a temporary folder removed when the module's tests end.
_folder = tempfile.TemporaryDirectory(prefix="kb-contract-")
_kb = fill(KnowledgeBase(Path(_folder.name) / "kb", encoder="tiny"))
schema = schemathesis.openapi.from_asgi("/openapi.json", make_app(_kb))


@pytest.fixture(scope="module", autouse=True)
def _close_contract_kb():
    yield
    _kb.close()
    _folder.cleanup()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_meets_its_openapi_contract(case):
    # Every multipart field arrives as text, so a "wrong type" there (e.g. the text "{}"
    # as a theme id) is ordinary data the API may accept: skip that one check for uploads.
    excluded = [negative_data_rejection] if case.media_type == "multipart/form-data" else []
    case.call_and_validate(headers=auth(), excluded_checks=excluded)


def test_every_route_is_in_the_schema(kb):
    paths = make_app(kb).openapi()["paths"]
    for path in (
        "/api/search",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/documents/{doc_id}/file",
        "/api/documents/{doc_id}/similar",
        "/api/facets",
        "/api/health",
        "/api/stats",
        "/",
        "/documents/{doc_id}",
    ):
        assert path in paths, path
    assert set(paths["/api/documents"]) == {"get", "post"}
    assert set(paths["/api/documents/{doc_id}"]) == {"get", "delete"}
    search = paths["/api/search"]["get"]
    assert search["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SearchOut"
    }
    assert "ErrorOut" in str(search["responses"]["422"])
