import { runtimeError } from '../errors.js';

/**
 * Java regex → JavaScript RegExp. Java syntax the JS engine reads differently is rewritten
 * (`\Q..\E`, `\A \z \Z`, `$`, `.`, `\s`, `\h`, `\v`, `\R`, `\e`, `\a`, POSIX `\p{Alpha}`, escaped
 * punctuation, leading `(?ims)`); constructs JS cannot express (possessive quantifiers, atomic
 * groups, inner flag groups, class intersections, nested classes) are refused with an error
 * naming the construct. Nested unbounded quantifiers (`(a+)+`) are refused too: they are the
 * classic catastrophic-backtracking shape and the evaluation cannot interrupt a running regex.
 */
const MAX_PATTERN_LENGTH = 2000;
const cache = new Map<string, RegExp>();
const MAX_CACHED = 512;

const LINE_TERM = '\\n\\r\\u0085\\u2028\\u2029';
const SPACE = ' \\t\\n\\x0B\\f\\r';
const HSPACE = ' \\t\\xA0\\u1680\\u180e\\u2000-\\u200a\\u202f\\u205f\\u3000';
const VSPACE = '\\n\\x0B\\f\\r\\x85\\u2028\\u2029';

const POSIX: Record<string, string> = {
  Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'a-zA-Z', Digit: '0-9', Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~', Graph: '!-~', Print: ' -~', Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F', Space: SPACE,
};
const CATEGORIES = new Set(['L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi', 'Pf', 'Po', 'S', 'Sm', 'Sc', 'Sk', 'So', 'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf', 'Co', 'Cn']);
const SYNTAX = new Set('^$\\.*+?()[]{}|/-'.split(''));

function unsupported(pattern: string, what: string): never {
  throw runtimeError(`regex '${pattern}': ${what} is not supported`);
}

function invalid(pattern: string, what: string): never {
  throw runtimeError(`regex '${pattern}' is invalid: ${what}`);
}

function literal(ch: string, inClass: boolean): string {
  if (SYNTAX.has(ch)) return '\\' + ch;
  if (inClass && ch === ']') return '\\]';
  return ch;
}

/** Translates one `\p{...}` / `\P{...}` body into class content (without brackets) or a JS escape. */
function property(pattern: string, name: string, negated: boolean, inClass: boolean): string {
  const bare = name.startsWith('Is') ? name.slice(2) : name;
  const posix = POSIX[bare];
  if (posix !== undefined) {
    if (negated) return inClass ? unsupported(pattern, `\\P{${name}} inside a character class`) : `[^${posix}]`;
    return inClass ? posix : `[${posix}]`;
  }
  const cat = bare.startsWith('general_category=') ? bare.slice(17) : bare;
  if (CATEGORIES.has(cat)) return `\\${negated ? 'P' : 'p'}{${cat}}`;
  if (bare === 'Alphabetic') return `\\${negated ? 'P' : 'p'}{Alphabetic}`;
  if (/^[A-Z][a-z]+$/.test(bare) && name.startsWith('Is')) return `\\${negated ? 'P' : 'p'}{Script=${bare}}`;
  return unsupported(pattern, `character property \\p{${name}}`);
}

interface Translated {
  source: string;
  flags: string;
}

function translate(pattern: string): Translated {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw runtimeError(`regex is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let i = 0;
  let flags = 'u';
  let dotAll = false;
  let multiline = false;
  const lead = /^\(\?([imsu]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' && !flags.includes('i')) flags += 'i';
      if (f === 's') dotAll = true;
      if (f === 'm') multiline = true;
    }
    i = lead[0].length;
  }
  if (dotAll) flags += 's';
  if (multiline) flags += 'm';
  let out = '';
  let inClass = false;
  let classStart = false;
  // Per open group: whether it contains an unbounded quantifier (for the nesting check).
  const groups: boolean[] = [];
  let lastWasGroupClose = false;
  let lastGroupUnbounded = false;

  const markUnbounded = (): void => {
    if (groups.length > 0) groups[groups.length - 1] = true;
  };

  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) invalid(pattern, 'unexpected trailing backslash');
      i += 2;
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i);
        const text = end < 0 ? pattern.slice(i) : pattern.slice(i, end);
        for (const ch of text) out += literal(ch, inClass);
        i = end < 0 ? pattern.length : end + 2;
        lastWasGroupClose = false;
        continue;
      }
      lastWasGroupClose = false;
      switch (n) {
        case 'd': case 'D': case 'w': case 'W': case 'b': case 'B': case 't': case 'n': case 'r': case 'f':
          if (inClass && (n === 'b' || n === 'B')) invalid(pattern, `\\${n} inside a character class`);
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
          if (inClass) unsupported(pattern, '\\H inside a character class');
          out += `[^${HSPACE}]`;
          break;
        case 'v':
          out += inClass ? VSPACE : `[${VSPACE}]`;
          break;
        case 'V':
          if (inClass) unsupported(pattern, '\\V inside a character class');
          out += `[^${VSPACE}]`;
          break;
        case 'R':
          if (inClass) invalid(pattern, '\\R inside a character class');
          out += `(?:\\r\\n|[${VSPACE}])`;
          break;
        case 'a':
          out += '\\x07';
          break;
        case 'e':
          out += '\\x1B';
          break;
        case 'A':
          out += '(?<![\\s\\S])';
          break;
        case 'z':
          out += '(?![\\s\\S])';
          break;
        case 'Z':
          out += `(?=(?:\\r\\n|[${LINE_TERM}])?(?![\\s\\S]))`;
          break;
        case 'G':
          unsupported(pattern, '\\G');
          break;
        case 'c': {
          const x = pattern[i];
          if (x === undefined) invalid(pattern, 'missing control character after \\c');
          out += '\\x' + (x.charCodeAt(0) ^ 64).toString(16).padStart(2, '0');
          i++;
          break;
        }
        case 'x': {
          if (pattern[i] === '{') {
            const end = pattern.indexOf('}', i);
            const hex = end < 0 ? '' : pattern.slice(i + 1, end);
            if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) invalid(pattern, 'bad \\x{...} escape');
            out += `\\u{${hex}}`;
            i = end + 1;
          } else {
            const hex = pattern.slice(i, i + 2);
            if (!/^[0-9a-fA-F]{2}$/.test(hex)) invalid(pattern, 'bad \\x escape');
            out += '\\x' + hex;
            i += 2;
          }
          break;
        }
        case 'u': {
          const hex = pattern.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) invalid(pattern, 'bad \\u escape');
          out += '\\u' + hex;
          i += 4;
          break;
        }
        case '0': {
          const oct = /^[0-7]{1,3}/.exec(pattern.slice(i));
          if (!oct) invalid(pattern, 'bad octal escape');
          let digits = oct[0];
          if (digits.length === 3 && digits[0]! > '3') digits = digits.slice(0, 2);
          out += '\\u' + parseInt(digits, 8).toString(16).padStart(4, '0');
          i += digits.length;
          break;
        }
        case 'p': case 'P': {
          let name: string;
          if (pattern[i] === '{') {
            const end = pattern.indexOf('}', i);
            if (end < 0) invalid(pattern, 'unclosed character property');
            name = pattern.slice(i + 1, end);
            i = end + 1;
          } else {
            name = pattern[i] ?? '';
            i++;
          }
          out += property(pattern, name, n === 'P', inClass);
          break;
        }
        case 'k': {
          const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(pattern.slice(i));
          if (!m) invalid(pattern, 'bad named back reference');
          out += `\\k<${m[1]}>`;
          i += m[0].length;
          break;
        }
        default:
          if (n >= '1' && n <= '9') {
            if (inClass) invalid(pattern, 'back reference inside a character class');
            out += '\\' + n;
          } else if (/[A-Za-z]/.test(n)) {
            invalid(pattern, `illegal/unsupported escape sequence \\${n}`);
          } else {
            out += literal(n, inClass);
          }
      }
      continue;
    }
    if (inClass) {
      if (c === '[') unsupported(pattern, 'a nested character class');
      if (c === '&' && pattern[i + 1] === '&') unsupported(pattern, 'character class intersection (&&)');
      if (c === ']' && !classStart) {
        inClass = false;
        out += ']';
      } else if (c === ']') {
        out += '\\]';
      } else {
        out += c === '-' || c === '^' ? c : literal(c, true);
      }
      classStart = false;
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
        lastWasGroupClose = false;
        continue;
      case '(': {
        if (pattern[i + 1] === '?') {
          const rest = pattern.slice(i + 2);
          if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
            const len = rest.startsWith('<') ? 4 : 3;
            out += pattern.slice(i, i + len);
            i += len;
          } else if (rest.startsWith('<')) {
            const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(rest);
            if (!m) invalid(pattern, 'bad group name');
            out += `(?<${m[1]}>`;
            i += 2 + m[0].length;
          } else if (rest.startsWith('>')) {
            unsupported(pattern, 'an atomic group (?>...)');
          } else {
            unsupported(pattern, 'an inline flag group other than a leading (?i), (?s), (?m)');
          }
        } else {
          out += '(';
          i++;
        }
        groups.push(false);
        lastWasGroupClose = false;
        continue;
      }
      case ')': {
        if (groups.length === 0) invalid(pattern, "unmatched ')'");
        lastGroupUnbounded = groups.pop()!;
        if (lastGroupUnbounded) markUnbounded();
        out += ')';
        i++;
        lastWasGroupClose = true;
        continue;
      }
      case '*': case '+': case '?': case '{': {
        let q: string = c;
        let unbounded = c !== '?';
        if (c === '{') {
          const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
          if (!m) invalid(pattern, "bad '{' quantifier");
          q = m[0];
          unbounded = m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1000);
        }
        i += q.length;
        if (pattern[i] === '+') unsupported(pattern, 'a possessive quantifier');
        if (pattern[i] === '?') {
          q += '?';
          i++;
        }
        if (unbounded && lastWasGroupClose && lastGroupUnbounded) {
          unsupported(pattern, 'a nested unbounded quantifier (catastrophic backtracking risk)');
        }
        if (unbounded) markUnbounded();
        out += q;
        lastWasGroupClose = false;
        continue;
      }
      case '.':
        out += dotAll ? '.' : `[^${LINE_TERM}]`;
        break;
      case '$':
        out += multiline ? '$' : `(?=(?:\\r\\n|[${LINE_TERM}])?(?![\\s\\S]))`;
        break;
      case '^': case '|':
        out += c;
        break;
      case ']': case '}':
        out += '\\' + c;
        break;
      case '/':
        out += '\\/';
        break;
      default:
        out += c;
    }
    lastWasGroupClose = false;
    i++;
  }
  if (inClass) invalid(pattern, "unclosed character class");
  if (groups.length > 0) invalid(pattern, "unclosed group");
  return { source: out, flags };
}

/** The compiled (cached) global JS RegExp for a Java regex. Callers reset lastIndex. */
export function javaRegex(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  const { source, flags } = translate(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, flags + 'g');
  } catch (e) {
    throw runtimeError(`regex '${pattern}' is invalid: ${(e as Error).message}`);
  }
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Number of capturing groups of a compiled regex. */
export function groupCountOf(re: RegExp): number {
  return new RegExp(`${re.source}|`, re.flags.replace('g', '')).exec('')!.length - 1;
}
