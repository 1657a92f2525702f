/** The one HTML shell every page shares: a title and the page's module, filled into page.html. */

export interface PageSpec {
  /** Shown in the browser tab (" · Baton" is added). */
  title: string;
  /** The page's ES module in the assets folder. */
  script: string;
}

/** Every page of the web UI by route; each loads its own module and reads the JSON API from the browser. */
export const PAGES: Record<string, PageSpec> = {
  '/ui': { title: 'Home', script: 'home.js' },
  '/ui/signals': { title: 'Signals', script: 'signals.js' },
  '/ui/lineage': { title: 'Lineage', script: 'lineage.js' },
  '/ui/catalog': { title: 'Lineage catalog', script: 'catalog.js' },
  '/ui/workflows': { title: 'Workflows', script: 'workflows.js' },
  '/ui/workflows/:workflowId': { title: 'Workflow', script: 'workflow.js' },
  '/ui/workflows/:workflowId/instances/:instanceId': { title: 'Workflow instance', script: 'instance.js' },
  '/ui/schedules': { title: 'Schedules', script: 'schedules.js' },
};

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ESCAPES[c]!);

/** The shell template with the page's title and script filled in. */
export function renderShell(template: string, page: PageSpec): string {
  return template.replace('{{title}}', escape(`${page.title} · Baton`)).replace('{{script}}', escape(page.script));
}
