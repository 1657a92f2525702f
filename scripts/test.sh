#!/usr/bin/env bash
# The full test run (`npm test`): prepares PostgreSQL, the Kafka broker jars and the moto
# virtualenv (each cached under .cache/) and Debian's chromium for the web page tests, then
# typecheck, lint, the structure check (scripts/check-structure.js) and every vitest test with all components started. The Python client's pytest
# suite (scripts/test-python-client.ts) runs beside them from the start, mostly waiting on its own
# servers, with its output in test-artifacts/pytest.log, printed once vitest is done; a failure of
# either fails the run. Extra arguments go to `vitest run` (e.g. a path filter).
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

# The compiled bins, which pytest's servers and vitest's run, are brought up to date once here
# (`npm ci` built them; an edited source rebuilds), so that no server starts while they are rebuilt.
step "build (if a source changed)" node scripts/build.js --if-stale

# The Python client's tests (clients/python) against real servers (its own PostgreSQL, Baton on
# PORT=0, so nothing collides with vitest's); a run with no test fails the step.
mkdir -p test-artifacts
pytest_results=test-artifacts/pytest-results.xml
pytest_log=test-artifacts/pytest.log
rm -f "$pytest_results" "$pytest_log"
pytest_t0=$SECONDS
echo
echo "==> pytest (clients/python): started in the background, output in ${pytest_log}"
npx --no-install tsx scripts/test-python-client.ts >"$pytest_log" 2>&1 &
pytest_pid=$!
# An interrupted run does not leave it behind.
trap 'kill "$pytest_pid" 2>/dev/null || true' EXIT

step typecheck npx --no-install tsc -p tsconfig.json --noEmit
step lint npx --no-install eslint .
step "structure (import circles, long files)" node scripts/check-structure.js
results=test-artifacts/vitest-results.json
rm -f "$results"
step "vitest (components: ${BATON_TEST_COMPONENTS})" npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@"

echo
echo "==> pytest (clients/python): waiting for it to finish"
pytest_status=0
wait "$pytest_pid" || pytest_status=$?
trap - EXIT
cat "$pytest_log"
if ((pytest_status == 0)); then
  echo "==> pytest (clients/python): ok ($((SECONDS - pytest_t0)) s since it started, beside the steps above)"
else
  echo "==> pytest (clients/python): FAILED, exit ${pytest_status} ($((SECONDS - pytest_t0)) s since it started, beside the steps above)"
  failed+=("pytest (clients/python)")
fi

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
# (VITEST_FAILED tells it that vitest's step failed, which with every test passing means an error
# outside the tests, one its JSON report does not hold.)
vitest_failed=0
for f in "${failed[@]}"; do [[ $f == vitest* ]] && vitest_failed=1; done
VITEST_FAILED=$vitest_failed node scripts/test-counts.js "$results" "$pytest_results"
exit $status
