/**
 * How large a regex becomes once its counted repetitions are expanded, measured while it is
 * translated: RE2 compiles `(x){1000}` to a thousand copies of `x`, and `(.*.*.*.*.*){1000}` to
 * 12,000 instructions that take a fifth of a second to compile and a millisecond per character
 * to run. Parts are atoms (a character, escape, class or dot) and groups; repeating one `{n,m}`
 * counts it max(n, m) times (n + 1 for `{n,}`), nested repetitions multiply.
 */
export const MAX_REGEX_PARTS = 2500;

export class RegexSize {
  private parts = 0;
  /** Per open group: the parts count when it opened, and what repetitions inside it added. */
  private readonly groups: { start: number; extra: number }[] = [];
  private extra = 0;
  /** Size of the last atom or group, which a following quantifier repeats. */
  private last = 1;

  atom(): void {
    this.parts++;
    this.last = 1;
  }

  open(): void {
    this.parts++;
    this.groups.push({ start: this.parts, extra: 0 });
  }

  close(): void {
    const g = this.groups.pop();
    if (!g) return;
    this.last = this.parts - g.start + 1 + g.extra;
    this.add(g.extra);
  }

  /** A `{min,max}` quantifier on the last atom or group; returns the expanded size so far. */
  repeat(times: number): number {
    this.add(this.last * Math.max(0, times - 1));
    return this.total();
  }

  total(): number {
    return this.parts + this.extra + this.groups.reduce((n, g) => n + g.extra, 0);
  }

  private add(n: number): void {
    const top = this.groups[this.groups.length - 1];
    if (top) top.extra += n;
    else this.extra += n;
  }
}
