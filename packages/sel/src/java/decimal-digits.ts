/**
 * Decimal digits of a finite positive double as Java's formatting sees them: the shortest digit
 * string that round-trips (what Double.toString and Formatter start from), and half-up rounding
 * on that string (Formatter's rule, which differs from JS toFixed's rounding of the binary value).
 */
export interface Digits {
  /** Significant digits, no leading zeros (e.g. "12345"). */
  digits: string;
  /** Scientific exponent: value = d.ddd × 10^exp. */
  exp: number;
}

export function shortestDigits(abs: number): Digits {
  const s = abs.toExponential();
  const e = s.indexOf('e');
  const mant = s.slice(0, e);
  const digits = mant.length > 1 ? mant[0]! + mant.slice(2) : mant;
  return { digits: digits.replace(/0+$/, '') || '0', exp: Number(s.slice(e + 1)) };
}

/** Rounds to `keep` significant digits, half-up; may carry into a new leading digit. */
export function roundHalfUp(d: Digits, keep: number): Digits {
  if (keep >= d.digits.length) return d;
  if (keep < 0) return { digits: '0', exp: d.exp };
  const next = d.digits.charCodeAt(keep) - 48;
  let head = d.digits.slice(0, keep);
  if (next < 5) return { digits: head.replace(/0+$/, '') || '0', exp: d.exp };
  // Round up: increment the kept prefix as a decimal string.
  const chars = head.split('');
  let i = chars.length - 1;
  while (i >= 0 && chars[i] === '9') {
    chars[i] = '0';
    i--;
  }
  if (i < 0) {
    head = '1' + chars.join('');
    return { digits: head.replace(/0+$/, '') || '1', exp: d.exp + 1 };
  }
  chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) + 1);
  head = chars.join('');
  return { digits: head.replace(/0+$/, '') || '0', exp: d.exp };
}

/** Plain decimal text of digits × 10^exp with exactly `frac` fraction digits (no rounding). */
export function toPlain(d: Digits, frac: number): string {
  const { digits, exp } = d;
  let intPart: string;
  let fracPart: string;
  if (digits === '0') {
    intPart = '0';
    fracPart = '';
  } else if (exp >= 0) {
    const padded = digits.length > exp + 1 ? digits : digits + '0'.repeat(exp + 1 - digits.length);
    intPart = padded.slice(0, exp + 1);
    fracPart = padded.slice(exp + 1);
  } else {
    intPart = '0';
    fracPart = '0'.repeat(-exp - 1) + digits;
  }
  if (fracPart.length < frac) fracPart += '0'.repeat(frac - fracPart.length);
  else fracPart = fracPart.slice(0, frac);
  return frac > 0 ? `${intPart}.${fracPart}` : intPart;
}

/** Rounds half-up to `frac` fraction digits and returns the plain text. */
export function fixedHalfUp(abs: number, frac: number): string {
  if (abs === 0) return toPlain({ digits: '0', exp: 0 }, frac);
  const d = shortestDigits(abs);
  const keep = d.exp + 1 + frac;
  if (keep < 0) return toPlain({ digits: '0', exp: 0 }, frac);
  if (keep === 0) {
    // Everything is below the last kept place: round on the first digit.
    const up = d.digits.charCodeAt(0) - 48 >= 5;
    return toPlain(up ? { digits: '1', exp: -frac } : { digits: '0', exp: 0 }, frac);
  }
  return toPlain(roundHalfUp(d, keep), frac);
}
