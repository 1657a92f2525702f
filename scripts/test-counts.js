// Prints the closing line CI reads: `tests: N passed, N failed, N skipped`, adding up vitest's JSON
// report and pytest's JUnit XML report (either may be missing when its step did not run).
//   node scripts/test-counts.js <vitest-results.json> <pytest-results.xml>
import { existsSync, readFileSync } from 'node:fs';

const [vitestFile, pytestFile] = process.argv.slice(2);
const total = { passed: 0, failed: 0, skipped: 0 };
let any = false;

if (vitestFile && existsSync(vitestFile)) {
  const r = JSON.parse(readFileSync(vitestFile, 'utf8'));
  total.passed += r.numPassedTests;
  total.failed += r.numFailedTests;
  total.skipped += r.numPendingTests + r.numTodoTests;
  any = true;
}

if (pytestFile && existsSync(pytestFile)) {
  // <testsuite name="pytest" errors="0" failures="1" skipped="0" tests="38" ...>: errors and failures
  // both count as failed; tests includes them all.
  const xml = readFileSync(pytestFile, 'utf8');
  for (const m of xml.matchAll(/<testsuite\b([^>]*)>/g)) {
    const attr = (name) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(m[1])?.[1] ?? 0);
    const failed = attr('failures') + attr('errors');
    total.failed += failed;
    total.skipped += attr('skipped');
    total.passed += attr('tests') - failed - attr('skipped');
    any = true;
  }
}

if (any) console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
