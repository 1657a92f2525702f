import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_PATH, generateClientTypes } from '../../scripts/gen-client-types.js';

describe('@baton/client generated types', () => {
  it('match the OpenAPI document the server serves (run `npm run gen:client` after changing routes)', async () => {
    const committed = await readFile(CLIENT_TYPES_PATH, 'utf8');
    const fresh = await generateClientTypes();
    expect(committed === fresh, 'packages/client/src/generated/openapi.ts is stale: run `npm run gen:client`').toBe(true);
  }, 120_000);
});
