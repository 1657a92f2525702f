import type { Step } from '../definition/model.js';
import type { DefinitionSource, WorkflowVersion } from './definitions.js';

/**
 * Loop iterations run as instances of an *inline workflow*: the inner steps of a loop step. Its id
 * is the parent workflow's id and the path of loop step ids, joined by `#` (a character workflow
 * and step ids cannot contain), so the runtime finds its definition from the id and the parent's
 * version number alone, and an instance row says which loop it belongs to.
 */
const SEP = '#';

export function inlineWorkflowId(parentWorkflowId: string, loopStepId: string): string {
  return `${parentWorkflowId}${SEP}${loopStepId}`;
}

export function isInlineWorkflowId(workflowId: string): boolean {
  return workflowId.includes(SEP);
}

/** The top-level workflow an inline id belongs to. */
export function rootWorkflowId(workflowId: string): string {
  const i = workflowId.indexOf(SEP);
  return i < 0 ? workflowId : workflowId.slice(0, i);
}

/** Wraps a definition source so it also answers inline workflow ids. */
export function withInlineWorkflows(source: DefinitionSource): DefinitionSource {
  return {
    async getVersion(workflowId, version, q) {
      if (!isInlineWorkflowId(workflowId)) return source.getVersion(workflowId, version, q);
      const [root, ...path] = workflowId.split(SEP);
      const parent = await source.getVersion(root!, version, q);
      if (!parent) return undefined;
      let steps: readonly Step[] = parent.workflow.steps;
      for (const id of path) {
        const loop = steps.find((s) => s.id === id);
        if (!loop || (loop.kind !== 'foreach' && loop.kind !== 'while')) return undefined;
        steps = loop.steps;
      }
      const inline: WorkflowVersion = {
        workflowId,
        version: parent.version,
        properties: parent.properties,
        workflow: { id: workflowId, tags: [], params: {}, steps: [...steps], timeTriggers: [], signalTriggers: [] },
      };
      return inline;
    },
  };
}
