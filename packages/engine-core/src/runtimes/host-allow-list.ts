/**
 * Which hosts a runtime may contact. Entries: `localhost`, `127.0.0.1`, `[::1]`, `*.example.com`
 * (any subdomain, not example.com itself), each optionally with `:port`. Without a port an entry
 * allows every port. An empty list allows nothing: outbound calls are opt-in per installation.
 */
export class HostAllowList {
  private readonly entries: readonly { host: string; wildcard: boolean; port: number | undefined }[];

  constructor(entries: readonly string[]) {
    this.entries = entries.map(parseEntry);
  }

  /** Whether the URL's host (and effective port) is allowed. */
  allows(url: URL): boolean {
    const host = normalizeHost(url.hostname);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return this.entries.some((e) => {
      if (e.port !== undefined && e.port !== port) return false;
      return e.wildcard ? host.endsWith(`.${e.host}`) : host === e.host;
    });
  }
}

function normalizeHost(host: string): string {
  // A trailing dot names the same host ("localhost." = "localhost"); compare without it.
  return host.toLowerCase().replace(/\.$/, '');
}

function parseEntry(raw: string): { host: string; wildcard: boolean; port: number | undefined } {
  const text = raw.trim().toLowerCase();
  const bad = (why: string): Error => new Error(`bad allow-list entry ${JSON.stringify(raw)}: ${why}`);
  if (text === '') throw bad('empty');
  if (text.includes('/')) throw bad('give a host (and optional port), not a URL');
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) throw bad('expected host or host:port');
  let host = m[1] as string;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) throw bad('port out of range');
  const wildcard = host.startsWith('*.');
  if (wildcard) host = host.slice(2);
  if (host.includes('*')) throw bad('only a leading "*." wildcard is supported');
  // Run the host through the URL parser so entries compare equal to parsed URLs (IDN → punycode,
  // `127.1` → `127.0.0.1`, `[0::1]` → `[::1]`).
  try {
    host = new URL(`http://${host}/`).hostname;
  } catch {
    throw bad('not a valid host name');
  }
  return { host: normalizeHost(host), wildcard, port };
}
