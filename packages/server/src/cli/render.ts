/** Text layouts shared by the CLI commands. */

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export interface StepJson {
  id: string;
  type?: string;
  transition?: { successors?: Record<string, string> };
}

/** `id [type] -> successor, other if cond` for each step of a stored definition. */
export function stepLines(steps: ReadonlyArray<Record<string, StepJson>>, indent = '  '): string[] {
  return steps.map((wrapped) => {
    const [kind, step] = Object.entries(wrapped)[0]!;
    const next = Object.entries(step.transition?.successors ?? {}).map(([to, cond]) => (cond === 'true' ? to : `${to} if ${cond}`));
    return `${indent}${step.id} [${step.type ?? kind}]${next.length ? ` -> ${next.join(', ')}` : ''}`;
  });
}

/** One run's status and each step's: the layout of `baton instance status`, with and without --watch. */
export function runLines(run: { workflow_id: string; workflow_instance_id: number; workflow_run_id: number; status: string; reason: string | null; steps: ReadonlyArray<{ step_id: string; status: string; reason: string | null }> }): string[] {
  const width = Math.max(4, ...run.steps.map((s) => s.step_id.length));
  return [
    `${run.workflow_id} instance ${run.workflow_instance_id} run ${run.workflow_run_id}: ${run.status}${run.reason ? ` (${run.reason})` : ''}`,
    ...run.steps.map((s) => `  ${s.step_id.padEnd(width)}  ${s.status}${s.reason && s.status !== 'SUCCEEDED' ? `  ${s.reason}` : ''}`),
  ];
}

/** An ISO-8601 time as given, or `-` for none. */
export function timeCell(t: string | null | undefined): string {
  return t ?? '-';
}
