import { describe, expect, it } from 'vitest';
import { compile, evaluate, SelError } from '@baton/sel';
import { HOSTILE_SEL } from './sel-catalogue.js';

/** Every hostile program of the catalogue ends as it must, with default limits, in under 3 s. */
describe('hostile SEL catalogue', () => {
  for (const h of HOSTILE_SEL) {
    it(`${h.name}: ${h.outcome}`, () => {
      const t = performance.now();
      const r = evaluate(h.source);
      const ms = performance.now() - t;
      expect(ms).toBeLessThan(3000);
      if (h.outcome === 'ok') {
        expect(r.ok ? r.value : r.error.message).toMatch(h.matches);
      } else {
        expect(r.ok, h.source.slice(0, 80)).toBe(false);
        if (!r.ok) {
          expect(r.error).toBeInstanceOf(SelError);
          expect(r.error.kind).toBe(h.outcome);
          expect(r.error.message).toMatch(h.matches);
          expect(r.error.line).toBeGreaterThan(0);
        }
      }
      let atCheck = false;
      try {
        compile(h.source, { noCache: true });
      } catch {
        atCheck = true;
      }
      expect(atCheck).toBe(h.atCheck === true);
    });
  }
});
