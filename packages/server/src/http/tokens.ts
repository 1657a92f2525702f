import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { StartupError } from '../startup-error.js';

export const ROLES = ['reader', 'publisher', 'admin'] as const;
/** reader: every GET; publisher: publishing signals; admin: everything. */
export type Role = (typeof ROLES)[number];

/** One configured API token. Only the SHA-256 digest of the secret is kept in memory. */
export interface ApiToken {
  name: string;
  role: Role;
  digest: Buffer;
}

/** Short secrets can be guessed; 16 characters of a random token is well beyond that. */
export const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9][\w.@-]{0,63}$/;
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Finds the token a request presented. Both sides are SHA-256 digests of equal length compared with
 * `timingSafeEqual`, and every configured token is compared (no early exit), so neither the length
 * of the secret nor how many of its leading characters match shows in the time taken.
 */
export function verifyToken(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const digest = sha256(presented);
  let found: ApiToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(token.digest, digest) && found === undefined) found = token;
  }
  return found;
}

/**
 * `BATON_TOKENS`: comma-separated `name:role:token` entries, e.g.
 * `ci:publisher:9f2c...,grafana:reader:77ab...`. The token is everything after the second colon.
 */
export function parseTokenList(raw: string, setting = 'BATON_TOKENS'): ApiToken[] {
  const tokens: ApiToken[] = [];
  raw.split(',').forEach((entry, i) => {
    const text = entry.trim();
    if (text === '') return;
    const first = text.indexOf(':');
    const second = first < 0 ? -1 : text.indexOf(':', first + 1);
    if (second < 0) throw new StartupError(setting, `entry ${i + 1} must be name:role:token, got ${JSON.stringify(redactEntry(text))}`);
    tokens.push(makeToken(setting, `entry ${i + 1}`, { name: text.slice(0, first), role: text.slice(first + 1, second), token: text.slice(second + 1) }));
  });
  return checkUnique(setting, tokens);
}

/**
 * `BATON_TOKENS_FILE`: a JSON or YAML list (or `{tokens: [...]}`) of `{name, role, token}` or
 * `{name, role, sha256}` where sha256 is the hex digest of the token, so the file need not hold
 * the secret itself (`printf %s "$TOKEN" | sha256sum`).
 */
export function readTokenFile(file: string, setting = 'BATON_TOKENS_FILE'): ApiToken[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(setting, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new StartupError(setting, `${file} is not valid JSON or YAML: ${(err as Error).message}`);
  }
  const list = isRecord(doc) && 'tokens' in doc ? doc.tokens : doc;
  if (!Array.isArray(list)) throw new StartupError(setting, `${file} must hold a list of {name, role, token | sha256} entries`);
  return checkUnique(
    setting,
    list.map((entry, i) => {
      if (!isRecord(entry)) throw new StartupError(setting, `${file}: entry ${i + 1} must be an object with name, role and token or sha256`);
      return makeToken(setting, `${file}: entry ${i + 1}`, entry);
    }),
  );
}

function makeToken(setting: string, where: string, entry: Record<string, unknown>): ApiToken {
  const { name, role, token, sha256: hex } = entry;
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new StartupError(setting, `${where}: name must be 1 to 64 letters, digits, '_', '.', '@' or '-', got ${JSON.stringify(name)}`);
  }
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    throw new StartupError(setting, `${where} (${name}): role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  }
  if (token !== undefined && hex !== undefined) throw new StartupError(setting, `${where} (${name}): give token or sha256, not both`);
  if (typeof hex === 'string') {
    if (!HEX_DIGEST.test(hex)) throw new StartupError(setting, `${where} (${name}): sha256 must be 64 hexadecimal digits`);
    return { name, role: role as Role, digest: Buffer.from(hex, 'hex') };
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new StartupError(setting, `${where} (${name}): token must be at least ${MIN_TOKEN_LENGTH} characters without spaces (or give sha256)`);
  }
  return { name, role: role as Role, digest: sha256(token) };
}

/** Refuses a name or a secret used twice. */
export function checkUnique(setting: string, tokens: ApiToken[]): ApiToken[] {
  const names = new Set<string>();
  const digests = new Set<string>();
  for (const t of tokens) {
    if (names.has(t.name)) throw new StartupError(setting, `token name "${t.name}" is used twice`);
    const hex = t.digest.toString('hex');
    // Two names for one secret would make the request's identity (and rate limit key) ambiguous.
    if (digests.has(hex)) throw new StartupError(setting, `token "${t.name}" has the same secret as another token`);
    names.add(t.name);
    digests.add(hex);
  }
  return tokens;
}

/** Keeps the secret out of error messages. */
function redactEntry(text: string): string {
  return text.length > 8 ? `${text.slice(0, 4)}...` : '...';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
