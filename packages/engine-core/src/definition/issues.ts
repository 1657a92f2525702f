/**
 * A problem with a definition: `field` is the path in the definition (`workflow.steps[3].id`).
 * `line`/`column` (1-based) are set when the problem points into source text: the JSON or YAML
 * document, or — for SEL errors, whose field names the expression — the expression's own text.
 */
export interface DefinitionIssue {
  field: string;
  message: string;
  line?: number;
  column?: number;
}

/** Collects issues while a definition is read or checked; nothing stops at the first one. */
export class Issues {
  readonly list: DefinitionIssue[] = [];

  add(field: string, message: string, pos?: { line: number; column: number }): void {
    this.list.push(pos ? { field, message, line: pos.line, column: pos.column } : { field, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

/** `base.key`, or `base` alone when key is empty; keys are written as given (`successors.job.9`). */
export function fieldPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** One line per issue, for logs and CLI output. */
export function formatIssues(issues: readonly DefinitionIssue[]): string {
  return issues
    .map((i) => `${i.field}: ${i.message}${i.line !== undefined ? ` (line ${i.line}, column ${i.column ?? 0})` : ''}`)
    .join('\n');
}

/** Thrown by APIs that cannot return issues (e.g. pushing a definition): carries all of them. */
export class DefinitionError extends Error {
  constructor(readonly issues: DefinitionIssue[]) {
    super(`invalid workflow definition:\n${formatIssues(issues)}`);
    this.name = 'DefinitionError';
  }
}
