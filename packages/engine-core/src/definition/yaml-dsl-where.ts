import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node as YamlNode } from 'yaml';
import { fieldPath } from './issues.js';

/**
 * A place in a YAML DSL document: the field path reported to the user (`Workflow.jobs[1].job.x`)
 * and the keys/indexes leading to it, so the problem can be given a line and column.
 */
export class DslWhere {
  private constructor(
    readonly text: string,
    readonly segments: readonly (string | number)[],
  ) {}

  static root(key: string): DslWhere {
    return new DslWhere(key, [key]);
  }

  key(k: string): DslWhere {
    return new DslWhere(fieldPath(this.text, k), [...this.segments, k]);
  }

  index(i: number): DslWhere {
    return new DslWhere(fieldPath(this.text, i), [...this.segments, i]);
  }
}

/** A segment standing for the value of a map's only entry (a job under its `job:`/`foreach:` key). */
export const FIRST_ENTRY = Symbol('first entry');

/**
 * Line and column of the deepest node of `segments` present in the document: the key of a map
 * entry (so a bad param key points at the key), an item of a list, or the nearest ancestor when
 * the field is missing.
 */
export function locateSegments(doc: Document, lc: LineCounter, segments: readonly (string | number | typeof FIRST_ENTRY)[]): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined = (node as YamlNode | null)?.range?.[0];
  for (const seg of segments) {
    if (seg === FIRST_ENTRY) {
      const value = isMap(node) ? (node.items[0]?.value as YamlNode | null | undefined) : undefined;
      if (!value) break;
      offset = value.range?.[0] ?? offset;
      node = value;
    } else if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      const keyNode = pair.key as YamlNode | null;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  if (offset === undefined) return undefined;
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}
