"""The OpenAPI document fuzzed by schemathesis against a live server: no 5xx.

A bounded run (a few dozen cases per operation, valid and invalid input) as
a signed-in seller with a bearer token. Every failure is collected so one
run names them all.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from catalog.services import MAX_LINES, MAX_QUANTITY
from codes.api import MAX_RAW_CODE
from partner_club.accounts.models import Role
from partner_club.api.base import issue_token
from partner_club.input_guard import ID_MAX

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

EXAMPLES = 25


def _fuzz(operation, mode, base: str, headers: dict[str, str], seen: Counter, failures: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case) -> None:
        response = case.call(base_url=base, headers=headers, timeout=30)
        seen[(operation.label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=[not_a_server_error], headers=headers)
        except Exception as error:
            failures.append(f"{operation.label} ({mode.value}): {case.as_curl_command()}\n{error}")

    call()


@pytest.mark.timeout(600)
def test_openapi_operations_never_answer_5xx(live_server, make):
    seller = make.user(Role.SELLER)
    make.session.commit()
    headers = {"Authorization": f"Bearer {issue_token(seller)}"}
    make.session.commit()  # the token's session row; the live server writes beside this test
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    seen: Counter = Counter()
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, live_server, headers, seen, failures)
    print(sorted(seen.items()))
    assert not failures, "\n\n".join(failures[:10])


def test_the_document_states_the_limits_the_server_enforces(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    order = spec["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    items = order["properties"]["items"]
    assert items["maxItems"] == MAX_LINES
    assert items["items"]["properties"]["quantity"]["maximum"] == MAX_QUANTITY
    assert items["items"]["properties"]["prize"]["maximum"] == ID_MAX
    registration = spec["paths"]["/api/v1/registrations"]["post"]["requestBody"]["content"]
    assert registration["application/json"]["schema"]["properties"]["code"]["maxLength"] == MAX_RAW_CODE
    order_id = spec["paths"]["/api/v1/orders/{order_id}"]["get"]["parameters"][0]["schema"]
    assert order_id == {"type": "integer", "minimum": 1, "maximum": ID_MAX}
