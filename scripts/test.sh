#!/usr/bin/env bash
# The full test run (`npm test`): prepares PostgreSQL, the Kafka broker jars and the moto
# virtualenv (each cached under .cache/) and Debian's chromium for the web page tests, then
# typecheck, lint, the structure check (scripts/check-structure.js) and every vitest test with all components started, then the Python client's pytest
# suite (scripts/test-python-client.ts). Extra arguments go to `vitest run` (e.g. a path filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export BATON_TEST_COMPONENTS="${BATON_TEST_COMPONENTS:-postgres,kafka,sns}"
started=$SECONDS
failed=()

step() {
  local name=$1
  shift
  local t0=$SECONDS
  echo
  echo "==> ${name}"
  if "$@"; then
    echo "==> ${name}: ok ($((SECONDS - t0)) s)"
  else
    echo "==> ${name}: FAILED ($((SECONDS - t0)) s)"
    failed+=("${name}")
  fi
}

# Without the components nothing else can run meaningfully: stop here when preparing fails.
echo "==> prepare test infrastructure (${BATON_TEST_COMPONENTS}, chromium)"
t0=$SECONDS
npx --no-install tsx scripts/infra/prepare.ts "${BATON_TEST_COMPONENTS},chromium"
echo "==> prepare: ok ($((SECONDS - t0)) s)"

step typecheck npx --no-install tsc -p tsconfig.json --noEmit
step lint npx --no-install eslint .
step "structure (import circles, long files)" node scripts/check-structure.js
mkdir -p test-artifacts
results=test-artifacts/vitest-results.json
rm -f "$results"
step "vitest (components: ${BATON_TEST_COMPONENTS})" npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"
# The Python client's tests (clients/python) against real servers; a run with no test fails the step.
pytest_results=test-artifacts/pytest-results.xml
rm -f "$pytest_results"
step "pytest (clients/python)" npx --no-install tsx scripts/test-python-client.ts

echo
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]} (total $((SECONDS - started)) s)"
  status=1
else
  echo "all passed (total $((SECONDS - started)) s)"
  status=0
fi

# CI reads a plain closing line; vitest's own summary is not one it knows, so the counts (vitest's
# and pytest's together) go last.
node scripts/test-counts.js "$results" "$pytest_results"
exit $status
