/** JSON schemas of the "why is this waiting?" answers (OpenAPI at /docs). */

const paramValue = { description: 'a signal param value: a string or a 64-bit integer' } as const;
const params = { type: 'object', additionalProperties: paramValue } as const;

export const signalRefSchema = {
  type: 'object',
  description: 'one signal instance',
  properties: {
    name: { type: 'string' },
    seq_id: { type: 'integer' },
    instance_id: { type: 'string' },
    create_time: { type: 'string', format: 'date-time' },
    params,
  },
  required: ['name', 'seq_id', 'instance_id', 'create_time', 'params'],
} as const;

export const mismatchSchema = {
  type: 'object',
  description: 'one reason an instance does not count',
  properties: {
    kind: {
      type: 'string',
      enum: ['param', 'join_key', 'before_active', 'paused', 'consumed', 'unprocessed'],
      description:
        'param: a match condition failed; join_key: the join key differs from the join\'s; before_active: published before the trigger became active; paused: published while the trigger is paused; consumed: it already fed a firing; unprocessed: it matches but the matcher has not taken it yet',
    },
    param: { type: ['string', 'null'], description: 'the param or join key' },
    operator: { type: ['string', 'null'], description: 'the condition\'s operator (=, !=, <, <=, >, >=, prefix, in, exists)' },
    expected: { description: 'the condition\'s value (a list for in, a boolean for exists), the join\'s key value, or active_since' },
    actual: { description: 'the instance\'s value (null when the param is absent)' },
    message: { type: 'string', description: 'the same, as a sentence' },
  },
  required: ['kind', 'param', 'operator', 'expected', 'actual', 'message'],
} as const;

export const conditionSchema = {
  type: 'object',
  description: 'one awaited signal: met by an instance, or unmet with the closest instances that did not match',
  properties: {
    index: { type: 'integer', description: 'position among the step\'s signal_dependencies or the trigger\'s signals' },
    signal_name: { type: 'string' },
    match_params: {
      type: 'object',
      additionalProperties: { type: 'array', items: { type: 'object', properties: { operator: { type: 'string' }, value: {} } } },
      description: 'param → conditions that must all hold',
    },
    join_keys: { type: 'array', items: { type: 'string' } },
    expected_join: { type: ['object', 'null'], additionalProperties: paramValue, description: 'join key → the value this join needs (null: any)' },
    met: { type: 'boolean' },
    matched_by: { ...signalRefSchema, type: ['object', 'null'], description: 'the instance that met it (null when unmet)' },
    closest: {
      type: 'array',
      description: 'unmet only: fewest mismatches first, then newest',
      items: { type: 'object', properties: { signal: signalRefSchema, mismatches: { type: 'array', items: mismatchSchema } }, required: ['signal', 'mismatches'] },
    },
    scanned: { type: 'integer', description: 'recent instances of the name read' },
  },
  required: ['index', 'signal_name', 'match_params', 'join_keys', 'expected_join', 'met', 'matched_by', 'closest', 'scanned'],
} as const;

export function stepWaitSchema(attemptKey: object) {
  return {
    type: 'object',
    properties: {
      ...attemptKey,
      status: { type: 'string', description: 'the attempt\'s status' },
      waiting: { type: 'boolean', description: 'the attempt is WAITING_FOR_SIGNALS' },
      waiter_status: { type: ['string', 'null'], enum: ['WAITING', 'SATISFIED', 'BYPASSED', 'CANCELLED', null], description: 'the signal gate (null: no signal dependencies)' },
      waiting_since: { type: ['string', 'null'], format: 'date-time' },
      scan_limit: { type: 'integer' },
      conditions: { type: 'array', items: conditionSchema },
    },
    required: ['workflow_id', 'workflow_instance_id', 'workflow_run_id', 'step_id', 'step_attempt_id', 'status', 'waiting', 'waiter_status', 'waiting_since', 'scan_limit', 'conditions'],
  } as const;
}

const joinSchema = {
  type: 'object',
  properties: {
    join_values: { type: ['array', 'null'], items: paramValue, description: 'the join key values, in the order of each signal\'s join_keys (null: nothing held)' },
    complete: { type: 'boolean', description: 'every signal is held: the firing waits for a retry of its start' },
    first_signal_time: { type: ['string', 'null'], format: 'date-time' },
    expires_at: { type: ['string', 'null'], format: 'date-time', description: 'with a join window: when the oldest held signal stops counting' },
    conditions: { type: 'array', items: conditionSchema },
  },
  required: ['join_values', 'complete', 'first_signal_time', 'expires_at', 'conditions'],
} as const;

export const triggerWaitsSchema = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    scan_limit: { type: 'integer' },
    triggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          trigger_id: { type: 'string' },
          trigger_index: { type: 'integer' },
          workflow_version: { type: ['integer', 'null'] },
          signal_names: { type: 'array', items: { type: 'string' } },
          active_since: { type: 'string', format: 'date-time' },
          paused: { type: 'boolean', description: 'a paused trigger counts no signal published while it is paused' },
          paused_at: { type: ['string', 'null'], format: 'date-time' },
          join_window_seconds: { type: ['number', 'null'] },
          partial_joins: { type: 'integer', description: 'joins among the candidates read that hold some signals but not all' },
          joins: { type: 'array', items: joinSchema },
        },
        required: ['trigger_id', 'trigger_index', 'workflow_version', 'signal_names', 'active_since', 'paused', 'paused_at', 'join_window_seconds', 'partial_joins', 'joins'],
      },
    },
  },
  required: ['workflow_id', 'scan_limit', 'triggers'],
} as const;
