/** A matchable signal param: a string or a 64-bit integer (number when safe, bigint beyond). */
export type ParamValue = string | number | bigint;
export type SignalParams = Record<string, ParamValue>;

export interface SignalInstance {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  params: SignalParams;
  payload: unknown;
  request_id?: string;
  request_time?: number | bigint;
  /** Epoch milliseconds (as Maestro reports it). */
  create_time: number;
  /** Where the signal came from (REST, a step output, Kafka, SNS). */
  source?: unknown;
}

/** One signal as a publisher hands it in (already parsed JSON; unknown fields go to payload). */
export interface PublishInput {
  name?: unknown;
  params?: unknown;
  payload?: unknown;
  request_id?: unknown;
  request_time?: unknown;
  [extra: string]: unknown;
}

export interface PublishResult {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  /** True when the instance already existed: the result is the first instance, nothing new was stored. */
  duplicate: boolean;
}

export interface SignalSource {
  type: 'REST' | 'STEP_OUTPUT' | 'KAFKA' | 'SNS' | 'INTERNAL';
  [key: string]: unknown;
}

export const MAX_BATCH = 1000;
export const MAX_NAME_LENGTH = 512;
