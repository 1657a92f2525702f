import { RE2JS } from 're2js';
import { runtimeError } from '../errors.js';
import type { HostContext } from '../host-context.js';
import { MAX_REGEX_PARTS, RegexSize } from './regex-size.js';

/**
 * Java regex → RE2 (re2js), a linear-time engine: no pattern can make a match backtrack.
 * Java syntax RE2 reads differently is rewritten (`\Q..\E`, `\Z`, `.`, `\s`, `\h`, `\v`, `\R`, `\e`,
 * `\uXXXX`, octal, POSIX `\p{Alpha}`, `\p{IsGreek}`, named groups, leading `(?ims)`). Constructs that
 * need backtracking (back references, lookahead and lookbehind, possessive quantifiers, atomic
 * groups) and the few RE2 cannot express (`\G`, inner flag groups, class intersections, nested
 * classes) are refused with an error naming the construct and its index in the pattern.
 */
const MAX_PATTERN_LENGTH = 2000;
const MAX_CACHED = 512;

const LINE_TERM = '\\n\\r\\x{85}\\x{2028}\\x{2029}';
const SPACE = ' \\t\\n\\x0B\\f\\r';
const HSPACE = ' \\t\\xA0\\x{1680}\\x{180e}\\x{2000}-\\x{200a}\\x{202f}\\x{205f}\\x{3000}';
const VSPACE = '\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}';

const POSIX: Record<string, string> = {
  Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~', Graph: '!-~', Print: ' -~', Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F', Space: SPACE,
};
const CATEGORIES = new Set(['L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'S', 'Sm', 'Sc', 'Sk', 'So', 'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf', 'Co', 'Cn']);
const SYNTAX = new Set('^$\\.*+?()[]{}|-'.split(''));

/** A Java regex compiled for RE2, with what split and replaceAll need to know about it. */
export interface JavaPattern {
  readonly pattern: string;
  readonly re2: ReturnType<RE2JS['re2']>;
  readonly groupCount: number;
  readonly groupNames: ReadonlyMap<string, number>;
  /** Whether a whole string matches (Bean Validation's @Pattern, Java's String.matches); linear time. */
  readonly matchesWhole: (s: string) => boolean;
  /** How much one engine step over one character costs: the compiled program's instructions. */
  readonly weight: number;
}

const cache = new Map<string, JavaPattern>();

function needsBacktracking(pattern: string, what: string, at: number): never {
  throw runtimeError(`regex '${pattern}': ${what} at index ${at} is not supported (SEL regexes run in linear time, without backtracking)`);
}

function unsupported(pattern: string, what: string, at: number): never {
  throw runtimeError(`regex '${pattern}': ${what} at index ${at} is not supported`);
}

function invalid(pattern: string, what: string, at: number): never {
  throw runtimeError(`regex '${pattern}' is invalid: ${what} near index ${at}`);
}

function literal(ch: string): string {
  return SYNTAX.has(ch) ? '\\' + ch : ch;
}

const codePoint = (n: number): string => `\\x{${n.toString(16)}}`;

/** Translates one `\p{...}` / `\P{...}` body into class content (without brackets) or an RE2 escape. */
function property(pattern: string, name: string, negated: boolean, inClass: boolean, at: number): string {
  const bare = name.startsWith('Is') ? name.slice(2) : name;
  const posix = POSIX[bare];
  if (posix !== undefined) {
    if (negated) return inClass ? unsupported(pattern, `\\P{${name}} inside a character class`, at) : `[^${posix}]`;
    return inClass ? posix : `[${posix}]`;
  }
  const cat = bare.startsWith('general_category=') ? bare.slice(17) : bare;
  if (CATEGORIES.has(cat) || cat === 'Alphabetic') return `\\${negated ? 'P' : 'p'}{${cat}}`;
  if (/^[A-Z][a-z]+$/.test(bare) && name.startsWith('Is')) return `\\${negated ? 'P' : 'p'}{${bare}}`;
  return unsupported(pattern, `character property \\p{${name}}`, at);
}

interface Translated {
  source: string;
  flags: number;
}

/** `\uXXXX`, joining a surrogate pair written as two escapes into one code point. */
function unicodeEscape(pattern: string, i: number): { text: string; next: number } {
  const hex = pattern.slice(i, i + 4);
  if (!/^[0-9a-fA-F]{4}$/.test(hex)) invalid(pattern, 'bad \\u escape', i - 2);
  const hi = parseInt(hex, 16);
  if (hi >= 0xd800 && hi <= 0xdbff && pattern.startsWith('\\u', i + 4)) {
    const lo = parseInt(pattern.slice(i + 6, i + 10), 16);
    if (lo >= 0xdc00 && lo <= 0xdfff) return { text: codePoint(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)), next: i + 10 };
  }
  return { text: codePoint(hi), next: i + 4 };
}

function translate(pattern: string): Translated {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw runtimeError(`regex is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let i = 0;
  let flags = 0;
  let dotAll = false;
  let multiline = false;
  const lead = /^\(\?([imsu]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i') flags |= RE2JS.CASE_INSENSITIVE;
      if (f === 's') dotAll = true;
      if (f === 'm') multiline = true;
    }
    i = lead[0].length;
  }
  if (multiline) flags |= RE2JS.MULTILINE;
  let out = '';
  let inClass = false;
  let classStart = false;
  let depth = 0;
  const size = new RegexSize();

  while (i < pattern.length) {
    const at = i;
    const c = pattern[i]!;
    // A ']' right after '[' or '[^' is a literal; an escape there counts as the first member too.
    const classFirst = classStart;
    classStart = false;
    if (!inClass && c !== '(' && c !== ')' && c !== '*' && c !== '+' && c !== '?' && c !== '{') size.atom();
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) invalid(pattern, 'unexpected trailing backslash', at);
      i += 2;
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i);
        const text = end < 0 ? pattern.slice(i) : pattern.slice(i, end);
        for (const ch of text) out += inClass && ch === ']' ? '\\]' : literal(ch);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      switch (n) {
        case 'd': case 'D': case 'w': case 'W': case 'b': case 'B': case 't': case 'n': case 'r': case 'f': case 'A': case 'z':
          if (inClass && 'bBAz'.includes(n)) invalid(pattern, `\\${n} inside a character class`, at);
          out += '\\' + n;
          break;
        case 's':
          out += inClass ? SPACE : `[${SPACE}]`;
          break;
        case 'S':
          out += inClass ? '\\S' : `[^${SPACE}]`;
          break;
        case 'h':
          out += inClass ? HSPACE : `[${HSPACE}]`;
          break;
        case 'H':
          if (inClass) unsupported(pattern, '\\H inside a character class', at);
          out += `[^${HSPACE}]`;
          break;
        case 'v':
          out += inClass ? VSPACE : `[${VSPACE}]`;
          break;
        case 'V':
          if (inClass) unsupported(pattern, '\\V inside a character class', at);
          out += `[^${VSPACE}]`;
          break;
        case 'R':
          if (inClass) invalid(pattern, '\\R inside a character class', at);
          out += `(?:\\r\\n|[${VSPACE}])`;
          break;
        case 'a':
          out += '\\x07';
          break;
        case 'e':
          out += '\\x1B';
          break;
        case 'Z':
          if (inClass) invalid(pattern, '\\Z inside a character class', at);
          out += '\\z';
          break;
        case 'G':
          unsupported(pattern, '\\G (end of the previous match)', at);
          break;
        case 'c': {
          const x = pattern[i];
          if (x === undefined) invalid(pattern, 'missing control character after \\c', at);
          out += codePoint(x.charCodeAt(0) ^ 64);
          i++;
          break;
        }
        case 'x': {
          if (pattern[i] === '{') {
            const end = pattern.indexOf('}', i);
            const hex = end < 0 ? '' : pattern.slice(i + 1, end);
            if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) invalid(pattern, 'bad \\x{...} escape', at);
            out += codePoint(parseInt(hex, 16));
            i = end + 1;
          } else {
            const hex = pattern.slice(i, i + 2);
            if (!/^[0-9a-fA-F]{2}$/.test(hex)) invalid(pattern, 'bad \\x escape', at);
            out += '\\x' + hex;
            i += 2;
          }
          break;
        }
        case 'u': {
          const u = unicodeEscape(pattern, i);
          out += u.text;
          i = u.next;
          break;
        }
        case '0': {
          const oct = /^[0-7]{1,3}/.exec(pattern.slice(i));
          if (!oct) invalid(pattern, 'bad octal escape', at);
          let digits = oct[0];
          if (digits.length === 3 && digits[0]! > '3') digits = digits.slice(0, 2);
          out += codePoint(parseInt(digits, 8));
          i += digits.length;
          break;
        }
        case 'p': case 'P': {
          let name: string;
          if (pattern[i] === '{') {
            const end = pattern.indexOf('}', i);
            if (end < 0) invalid(pattern, 'unclosed character property', at);
            name = pattern.slice(i + 1, end);
            i = end + 1;
          } else {
            name = pattern[i] ?? '';
            i++;
          }
          out += property(pattern, name, n === 'P', inClass, at);
          break;
        }
        case 'k':
          needsBacktracking(pattern, `a back reference (\\k${/^<[A-Za-z0-9]*>/.exec(pattern.slice(i))?.[0] ?? ''})`, at);
          break;
        default:
          if (n >= '1' && n <= '9') {
            if (inClass) invalid(pattern, 'back reference inside a character class', at);
            needsBacktracking(pattern, `a back reference (\\${n})`, at);
          } else if (/[A-Za-z]/.test(n)) {
            invalid(pattern, `illegal/unsupported escape sequence \\${n}`, at);
          } else {
            out += inClass && n === ']' ? '\\]' : literal(n);
          }
      }
      continue;
    }
    if (inClass) {
      if (c === '[') unsupported(pattern, 'a nested character class', at);
      if (c === '&' && pattern[i + 1] === '&') unsupported(pattern, 'character class intersection (&&)', at);
      if (c === ']' && !classFirst) {
        inClass = false;
        out += ']';
      } else if (c === ']') {
        out += '\\]';
      } else {
        out += c === '-' || c === '^' ? c : literal(c);
      }
      i++;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        out += '[';
        i++;
        if (pattern[i] === '^') {
          out += '^';
          i++;
        }
        classStart = true;
        continue;
      case '(': {
        if (pattern[i + 1] === '?') {
          const rest = pattern.slice(i + 2);
          if (rest.startsWith(':')) {
            out += '(?:';
            i += 3;
          } else if (rest.startsWith('=') || rest.startsWith('!')) {
            needsBacktracking(pattern, `a lookahead (?${rest[0]}...)`, at);
          } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
            needsBacktracking(pattern, `a lookbehind (?${rest.slice(0, 2)}...)`, at);
          } else if (rest.startsWith('<')) {
            const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(rest);
            if (!m) invalid(pattern, 'bad group name', at);
            out += `(?P<${m[1]}>`;
            i += 2 + m[0].length;
          } else if (rest.startsWith('>')) {
            needsBacktracking(pattern, 'an atomic group (?>...)', at);
          } else {
            unsupported(pattern, 'an inline flag group other than a leading (?i), (?s), (?m)', at);
          }
        } else {
          out += '(';
          i++;
        }
        depth++;
        size.open();
        continue;
      }
      case ')':
        if (depth === 0) invalid(pattern, "unmatched ')'", at);
        depth--;
        size.close();
        out += ')';
        i++;
        continue;
      case '*': case '+': case '?': case '{': {
        let q: string = c;
        if (c === '{') {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
          if (!m) invalid(pattern, "bad '{' quantifier", at);
          if (Number(m[1]) > 1000 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 1000)) {
            unsupported(pattern, `a repetition count over 1000 (${m[0]})`, at);
          }
          const times = m[3] === undefined ? Number(m[1]) : m[3] === '' ? Number(m[1]) + 1 : Number(m[3]);
          const parts = size.repeat(times);
          if (parts > MAX_REGEX_PARTS) {
            throw runtimeError(`regex '${pattern}' is too large: its repetitions expand it to ${parts} parts at index ${at} (at most ${MAX_REGEX_PARTS})`);
          }
          q = m[0];
        }
        i += q.length;
        if (pattern[i] === '+') needsBacktracking(pattern, `a possessive quantifier (${q}+)`, at);
        if (pattern[i] === '?') {
          q += '?';
          i++;
        }
        out += q;
        continue;
      }
      case '.':
        out += dotAll ? '(?s:.)' : `[^${LINE_TERM}]`;
        break;
      case ']': case '}':
        out += '\\' + c;
        break;
      default:
        out += c;
    }
    i++;
  }
  if (inClass) invalid(pattern, 'unclosed character class', pattern.length);
  if (depth > 0) invalid(pattern, 'unclosed group', pattern.length);
  return { source: out, flags };
}

/** Work units compiling costs per instruction of the compiled program (some hundreds of ns). */
const COMPILE_UNITS = 256;

/**
 * The compiled (cached) pattern for a Java regex; throws a SEL runtime error naming what is wrong.
 * Compiling charges `ctx` (a pattern of 2,000 characters can compile to over 10,000 instructions).
 */
export function javaRegex(pattern: string, ctx?: HostContext): JavaPattern {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const { source, flags } = translate(pattern);
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, flags);
  } catch (e) {
    const why = (e as Error).message.replace(/^error parsing regexp: /, '');
    throw runtimeError(`regex '${pattern}' is invalid: ${why}`);
  }
  const re2 = compiled.re2();
  const p: JavaPattern = {
    pattern,
    re2,
    groupCount: compiled.groupCount(),
    groupNames: new Map(Object.entries(compiled.namedGroups())),
    matchesWhole: (text) => compiled.testExact(text),
    weight: Math.max(1, re2.numberOfInstructions() as number),
  };
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(pattern, p);
  ctx?.chargeWork(p.weight * COMPILE_UNITS);
  return p;
}
