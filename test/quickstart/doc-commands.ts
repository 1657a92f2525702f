/**
 * The shell commands of a Markdown document: the lines of its fenced `sh` blocks, in order, with
 * backslash-continued lines joined and blank lines and `#` comments left out.
 */
export function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/^```sh[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)) {
    let pending = '';
    for (const raw of block[1]!.split('\n')) {
      const line = raw.trim();
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1).trimEnd()} `;
        continue;
      }
      const command = (pending + line).trim();
      pending = '';
      if (command && !command.startsWith('#')) commands.push(command);
    }
    if (pending.trim()) commands.push(pending.trim());
  }
  return commands;
}

/** The links of a Markdown document written as `<http://...>` autolinks. */
export function autolinks(markdown: string): string[] {
  return [...markdown.matchAll(/<(https?:\/\/[^>\s]+)>/g)].map((m) => m[1]!);
}
