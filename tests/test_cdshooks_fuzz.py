"""schemathesis over the service's OpenAPI document, against the real server under uvicorn on loopback:
whatever it sends, the service never answers 5xx (issue 10, "Robustness"). The budget is bounded (a few
examples per operation, no deadline) so this runs in seconds. The server runs unsigned here so the fuzzer
reaches the request handling; authentication has its own attack tests (test_cdshooks_service.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from interpreter import load
from interpreter.ext.cdshooks import ServiceConfig, Storage, create_app
from interpreter.ext.fhir import bindings_for
from tests.cds_harness import GCSF, run_app

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Any:
    storage = Storage(str(tmp_path_factory.mktemp("fuzz") / "cds.sqlite"), b"f" * 32)
    sets = (bindings_for(load(str(GCSF))),)
    with run_app(lambda url: create_app(ServiceConfig(sets, storage, url, allow_unsigned=True))) as url:
        yield url


def test_the_openapi_document_declares_the_cds_hooks_endpoints(base: str) -> None:
    doc = httpx.get(base + "/openapi.json").json()
    assert set(doc["paths"]) == {"/cds-services", "/cds-services/{service_id}",
                                 "/cds-services/{service_id}/feedback"}
    body = doc["paths"]["/cds-services/{service_id}"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["required"] == ["hook", "hookInstance", "context"]


def test_fuzz_no_5xx(base: str) -> None:
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            if case.path_parameters is not None and "service_id" in case.path_parameters:
                case.path_parameters["service_id"] = "gcsf-demo-patient-view"
            response = case.call(base_url=base)
            if response.status_code >= 500:
                failures.append((case.operation.label, response.status_code, response.text[:200]))
            case.validate_response(response, checks=[not_a_server_error])

        run()
    assert failures == []
