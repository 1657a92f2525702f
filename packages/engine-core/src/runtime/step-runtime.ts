import type { ParamValue } from '../definition/model.js';

/** What a step runtime may know and do while it runs one attempt. */
export interface StepRuntimeContext {
  /** Aborted on stop, on FAIL_IMMEDIATELY of a sibling, and when this process loses ownership. */
  signal: AbortSignal;
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId: string;
  attemptId: number;
  /** Database id of the attempt (unique across the installation). */
  attemptPk: number;
  /** The step's `type` as written in the definition. */
  stepType: string;
  /** True when an earlier owner of this attempt was lost mid-run and this call resumes it. */
  resumed: boolean;
  /** When the attempt first entered RUNNING (survives resumption). */
  startedAt: Date;
  /** Multiplies every wall-clock wait a runtime makes (1 = real time; tests use e.g. 0.001). */
  timeScale: number;
  /** Appends an entry to the attempt's timeline. */
  timeline(message: string, details?: Record<string, unknown>): Promise<void>;
  /** The attempt's output logs and Http response record, stored by the engine. */
  logs: StepLogs;
}

export type LogStream = 'stdout' | 'stderr';

/** An Http step's response as kept with the attempt (the body is cut to the engine's bound). */
export interface HttpResponseRecord {
  method: string;
  /** Without user info or query. */
  url: string;
  statusCode: number;
  statusText: string;
  headers: Record<string, string>;
  /** The body, or its first bytes when it was larger than the engine keeps. */
  body: Buffer;
  /** Size of the whole body in bytes. */
  bodyBytes: number;
  /** True when `body` is not the whole body (it was too large to read, or to keep). */
  truncated: boolean;
}

/**
 * Where a runtime puts what its process printed. `write` never blocks nor throws: the engine keeps
 * the head and the tail of each stream up to its bound and writes them to the database in chunks
 * while the step runs. The engine flushes and closes the logs when the runtime returns.
 */
export interface StepLogs {
  write(stream: LogStream, chunk: Buffer): void;
  /** Resolves once everything written so far is stored. */
  flush(): Promise<void>;
  recordHttpResponse(record: HttpResponseRecord): Promise<void>;
}

export type StepOutcome = 'SUCCEEDED' | 'USER_FAILED' | 'PLATFORM_FAILED' | 'FATALLY_FAILED' | 'TIMED_OUT';

export interface StepResult {
  status: StepOutcome;
  /** Output params; they overlay the step's params for successors (`getFromStep`, `step__param`). */
  outputs?: Record<string, ParamValue>;
  /** Why, for failures; shown in the timeline. */
  message?: string;
}

/**
 * Runs one attempt of a typed step. It must return promptly when `ctx.signal` aborts, and must be
 * safe to call again for the same attempt after a crash (`ctx.resumed`). Throwing counts as a
 * platform failure.
 */
/** The step types a process can run (what a push checks definitions against). */
export interface StepTypeCatalog {
  has(type: string): boolean;
  /** The registered types as registered (for messages). */
  names(): string[];
}

export interface StepRuntime {
  run(params: Readonly<Record<string, ParamValue>>, ctx: StepRuntimeContext): Promise<StepResult>;
}

/** Runtimes by step type, matched case-insensitively (Maestro writes `NoOp`, `noop`, ...). */
export class RuntimeRegistry implements StepTypeCatalog {
  private readonly byType = new Map<string, { name: string; runtime: StepRuntime }>();

  register(type: string, runtime: StepRuntime): void {
    if (!type.trim()) throw new Error('a step runtime needs a type name');
    this.byType.set(type.trim().toLowerCase(), { name: type.trim(), runtime });
  }

  get(type: string): StepRuntime | undefined {
    return this.byType.get(type.trim().toLowerCase())?.runtime;
  }

  has(type: string): boolean {
    return this.byType.has(type.trim().toLowerCase());
  }

  names(): string[] {
    return [...this.byType.values()].map((r) => r.name);
  }
}

export const noOpRuntime: StepRuntime = {
  run: async () => ({ status: 'SUCCEEDED' }),
};

/** Maestro's SleepStepRuntime default when a Sleep step has no `sleep_seconds`. */
export const DEFAULT_SLEEP_SECONDS = 3;

/**
 * Sleeps `sleep_seconds` (scaled by `ctx.timeScale`). A resumed attempt sleeps only what is left
 * since the attempt first started, as Maestro's sleep step does after a restart.
 */
export const sleepRuntime: StepRuntime = {
  async run(params, ctx) {
    // Without sleep_seconds, Maestro's Sleep step sleeps its default of 3 seconds.
    const raw = params.sleep_seconds ?? DEFAULT_SLEEP_SECONDS;
    const seconds = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!Number.isFinite(seconds) || seconds < 0) {
      return { status: 'USER_FAILED', message: `Sleep needs a non-negative number param sleep_seconds, got ${raw === undefined ? 'nothing' : String(raw)}` };
    }
    const total = seconds * 1000 * ctx.timeScale;
    const left = ctx.resumed ? Math.max(0, total - (Date.now() - ctx.startedAt.getTime())) : total;
    await abortableDelay(left, ctx.signal);
    return { status: 'SUCCEEDED' };
  },
};

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
