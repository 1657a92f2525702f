/**
 * Hostile SEL programs found by probing (issue 15), each with how it must end. Used by
 * sel-catalogue.test.ts (SEL alone), bad-input.test.ts (as workflow params in the service) and
 * the fuzzer (sel-fuzz.ts seeds its mutations with them).
 */
export interface HostileSel {
  name: string;
  source: string;
  /** `ok`, or the kind of SelError the program must end with. */
  outcome: 'ok' | 'limit' | 'syntax' | 'runtime';
  /** What the result or the error message must match. */
  matches: RegExp;
  /** Caught when compiled (a push refuses it) rather than when run. */
  atCheck?: boolean;
}

const A30 = "String s = 'a'; for (int i = 0; i < 29; i = i + 1) { s = s + 'a'; } s = s + '!'; ";
const K16 = "String s = 'a'; for (int i = 0; i < 14; i = i + 1) { s = s + s; } ";
const MEG = "String s = 'a'; while (s.length() < 1000000) { s = s + s; } ";

export const HOSTILE_SEL: readonly HostileSel[] = [
  { name: 'overlapping alternation under a star, anchored: (a|a)*$', source: `${A30}return s.replaceAll('(a|a)*$', 'x');`, outcome: 'ok', matches: /^a{30}!x$/ },
  { name: 'alternation of overlapping lengths: (a|aa)*$ in split', source: `${A30}return String.join('|', s.split('(a|aa)*$'));`, outcome: 'ok', matches: /^a{30}!$/ },
  { name: 'overlapping classes: (\\w|\\d)+$', source: `${A30}return s.replaceAll('(\\\\w|\\\\d)+$', 'x');`, outcome: 'ok', matches: /^a{30}!$/ },
  { name: 'nested quantifiers: (a+)+b', source: `${A30}return s.replaceAll('(a+)+b', 'x');`, outcome: 'ok', matches: /^a{30}!$/ },
  { name: 'stacked wildcards: .*.*.*= over 16K characters', source: `${K16}return String.valueOf(s.replaceAll('.*.*.*=', 'x').length());`, outcome: 'ok', matches: /^16384$/ },
  { name: 'counted repetition of a wildcard: (.*a){20}b', source: `${K16}return String.valueOf(s.split('(.*a){20}b').length);`, outcome: 'ok', matches: /^1$/ },
  { name: 'a*b over 1M characters (replaceAll)', source: `${MEG}return String.valueOf(s.replaceAll('a*b', 'x').length());`, outcome: 'ok', matches: /^1048576$/ },
  { name: 'a*b over 1M characters (split)', source: `${MEG}return String.valueOf(s.split('a*b').length);`, outcome: 'ok', matches: /^1$/ },
  {
    name: '25,000 contains over an 8 MB string',
    source: "String s = 'a'; while (s.length() < 8000000) { s = s + s; } int n = 0; for (int i = 0; i < 25000; i = i + 1) { if (s.contains('b')) n = n + 1; } return String.valueOf(n);",
    outcome: 'limit',
    matches: /steps limit of \d+ exceeded: counting the work done inside library calls/,
  },
  { name: 'a 4,000-term sum', source: `return String.valueOf(${Array(4000).fill('1').join('+')});`, outcome: 'limit', matches: /expression too deeply nested at line 1, column \d+/, atCheck: true },
  { name: 'format precision of 10^9', source: "return String.format('%.1000000000f', 1.0);", outcome: 'runtime', matches: /format precision 1000000000 exceeds the limit \d+$/ },
  { name: '2^63 as a literal', source: 'return String.valueOf(9223372036854775808);', outcome: 'syntax', matches: /integer literal out of range/, atCheck: true },
  { name: 'a back reference', source: "return 'aa'.replaceAll('(a)\\\\1', 'x');", outcome: 'syntax', matches: /back reference \(\\1\) at index 3/, atCheck: true },
  { name: 'a lookahead', source: "return 'ab'.replaceAll('a(?=b)', 'x');", outcome: 'syntax', matches: /lookahead \(\?=\.\.\.\) at index 1/, atCheck: true },
  {
    name: 'Double.parseDouble of 32,768 digits and an x (its own check backtracked quadratically)',
    source: "String s = '1'; for (int i = 0; i < 15; i = i + 1) { s = s + s; } return String.valueOf(Double.parseDouble(s + 'x'));",
    outcome: 'runtime',
    matches: /NumberFormatException: For input string/,
  },
  { name: 'a counted repetition that compiles to 12,000 instructions (found by the fuzzer)', source: "return 'ab'.replaceAll('(.*.*.*.*.*){1000}', '$0');", outcome: 'syntax', matches: /is too large: its repetitions expand it to 6000 parts/, atCheck: true },
  { name: 'a lookbehind built at run time', source: "p = '(?<=a)'; return 'ab'.replaceAll(p + 'b', 'x');", outcome: 'runtime', matches: /lookbehind \(\?<=\.\.\.\) at index 0/ },
];
