"""Property-based run of the OpenAPI document (schemathesis) as an admin: no 5xx, no response that
breaks the schema. Requests are rolled back (the dry client), so the fuzzing leaves no data behind."""

from __future__ import annotations

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [response_schema_conformance, content_type_conformance, status_code_conformance]
# Found by this run in routes owned elsewhere, reported to their owners; printed, not failed. Remove
# an entry once fixed (a fixed entry is reported as such).
KNOWN: dict[str, str] = {}  # findings accepted for now, with the reason; keep empty
MAX_EXAMPLES = int(os.environ.get("GRIDMAP_FUZZ_EXAMPLES", "4"))  # per operation: keeps the suite fast


def test_openapi_fuzz_finds_no_5xx_and_no_schema_violation(dry_api, world_admin_token) -> None:
    app = dry_api.app_under_test
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {world_admin_token}"}
    figures, failures = Counter(), []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            where = f"{case.operation.method.upper()} {case.operation.path}"
            response = case.call(headers=headers)
            figures["cases"] += 1
            figures[f"{response.status_code // 100}xx"] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together below
                titles = [line.strip() for line in str(exc).splitlines() if line.strip().startswith("- ")]
                failures.append(f"{where} [{response.status_code}]: {'; '.join(titles)[:200]}")
            if response.status_code >= 500:
                failures.append(f"{where}: {response.status_code}")

        run()
    print(f"\nFIGURES schemathesis: {figures['cases']} cases over {len(list(schema.get_all_operations()))} "
          f"operations; 5xx seen: {figures['5xx']}; statuses {dict(sorted(figures.items()))}")
    unique = sorted(set(failures) - set(KNOWN))
    for known in sorted(set(KNOWN) & set(failures)):
        print(f"KNOWN (not failed): {known} -- {KNOWN[known]}")
    assert not unique, f"{len(unique)} problems:\n" + "\n".join(unique[:60])
