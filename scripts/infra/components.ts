/** The test infrastructure components and how a run asks for them. */
export const COMPONENTS = ['postgres', 'kafka', 'sns'] as const;
export type Component = (typeof COMPONENTS)[number];

/**
 * Parses BATON_TEST_COMPONENTS: a comma-separated subset of postgres,kafka,sns, or `all`.
 * Unset or empty means none, so a plain `vitest run` starts nothing.
 */
export function parseComponents(value: string | undefined): Set<Component> {
  const out = new Set<Component>();
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    if (name === 'all') return new Set(COMPONENTS);
    if (!(COMPONENTS as readonly string[]).includes(name)) {
      throw new Error(`BATON_TEST_COMPONENTS: unknown component "${raw.trim()}" (expected a comma-separated list of ${COMPONENTS.join(', ')}, or all)`);
    }
    out.add(name as Component);
  }
  return out;
}

/** Variables that point the suite at servers that already run; a set one replaces starting that component. */
export const OVERRIDE_ENV = {
  postgres: 'BATON_TEST_PG_URL',
  kafka: 'BATON_TEST_KAFKA_BROKERS',
  sns: 'BATON_TEST_SNS_ENDPOINT',
} as const satisfies Record<Component, string>;
