import { shortestDigits } from './decimal-digits.js';

/**
 * Java's Double.toString: shortest round-trip digits, plain notation for 10^-3 <= |d| < 10^7
 * (always with a fraction digit: `100.0`), otherwise computerized scientific (`1.0E10`, `1.0E-4`).
 */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  // Java keeps two digits for the smallest subnormal (its shortest-digits rule needs >= 2).
  if (Math.abs(d) === Number.MIN_VALUE) return d < 0 ? '-4.9E-324' : '4.9E-324';
  const sign = d < 0 ? '-' : '';
  const abs = Math.abs(d);
  const { digits, exp } = shortestDigits(abs);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits + '0'.repeat(exp + 1 - digits.length);
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const frac = digits.length > 1 ? digits.slice(1) : '0';
  return `${sign}${digits[0]}.${frac}E${exp}`;
}
