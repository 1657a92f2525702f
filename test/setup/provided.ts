/** Connection settings the global setup hands to test files through vitest's provide/inject. */
export interface InfraSettings {
  /** Components the run asked for (BATON_TEST_COMPONENTS), for error messages. */
  requested: string[];
  postgres?: { url: string };
  kafka?: { brokers: string[] };
  sns?: { endpoint: string; region: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    batonInfra: InfraSettings;
  }
}
