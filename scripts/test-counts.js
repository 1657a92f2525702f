// Prints what CI reads last: the failed tests, each with the start of its error (vitest's JSON report
// and pytest's JUnit XML report; either may be missing when its step did not run), then the closing
// line `tests: N passed, N failed, N skipped`, adding both reports up. CI shows only the end of a
// run's output, so the failures' names go right above the counts.
//   node scripts/test-counts.js <vitest-results.json> <pytest-results.xml>
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [vitestFile, pytestFile] = process.argv.slice(2);
const total = { passed: 0, failed: 0, skipped: 0 };
/** Each failure: where it is and the first lines of what it said. */
const failures = [];
let any = false;

/**
 * What an error says, in a few lines without colour codes: its first line, the changed lines of its
 * diff (vitest's `- Expected` / `+ Received`), and where in a test file it was thrown.
 */
function gist(message) {
  const lines = String(message ?? '')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const cut = (l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l);
  const diff = lines.slice(1).filter((l) => /^\s*[-+] /.test(l) && !/^\s*[-+] (Expected|Received)/.test(l));
  const at = lines.find((l) => /\.test\.[jt]s:\d+/.test(l) && !l.includes('node_modules'));
  return [lines[0] ?? '', ...diff.slice(0, 6), ...(at ? [at.trim()] : [])].filter((l) => l !== '').map(cut);
}

if (vitestFile && existsSync(vitestFile)) {
  const r = JSON.parse(readFileSync(vitestFile, 'utf8'));
  total.passed += r.numPassedTests;
  total.failed += r.numFailedTests;
  total.skipped += r.numPendingTests + r.numTodoTests;
  for (const file of r.testResults ?? []) {
    const where = relative(process.cwd(), file.name);
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed) failures.push({ where: `${where} > ${a.fullName ?? a.title}`, lines: gist(a.failureMessages?.[0]) });
    // A file that failed outside its tests (an import, a beforeAll) has a message and maybe no failed test.
    if (file.status === 'failed' && failed.length === 0) failures.push({ where: `${where} (the file itself)`, lines: gist(file.message) });
  }
  if (process.env.VITEST_FAILED === '1' && !failures.length) {
    failures.push({ where: 'vitest failed with every test passing', lines: ['an error outside the tests (vitest prints it above as "Unhandled Error", with the test file it came from)'] });
  }
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
  // <testcase classname="tests.test_wait" name="test_x" ...><failure message="...">: its class and name.
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = m[2] ?? '';
    const bad = /<(failure|error)\b([^>]*)>/.exec(body);
    if (!bad) continue;
    const message = /\bmessage="([^"]*)"/.exec(bad[2])?.[1] ?? '';
    const attr = (name) => new RegExp(`\\b${name}="([^"]*)"`).exec(m[1])?.[1] ?? '?';
    const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#10;/g, '\n').replace(/&amp;/g, '&');
    failures.push({ where: `pytest ${attr('classname')}::${attr('name')} (${bad[1]})`, lines: gist(unescape(message)) });
  }
}

if (failures.length > 0) {
  console.log(`\nfailed tests (${failures.length}):`);
  for (const f of failures) {
    console.log(`- ${f.where}`);
    for (const l of f.lines) console.log(`    ${l}`);
  }
}
if (any) console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
