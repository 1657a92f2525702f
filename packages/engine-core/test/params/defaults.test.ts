import { describe, expect, it } from 'vitest';
import { defaultStepParams, defaultWorkflowParams, RESERVED_PARAM_NAMES } from '@baton/engine-core';

const values = (r: Record<string, { value: unknown }>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.value]));

describe('default workflow params', () => {
  it('derives dates from RUN_TS in the trigger zone (2024-03-15T07:30Z, America/Los_Angeles)', () => {
    // 07:30 UTC on 15 March 2024 is 00:30 PDT (UTC-7, DST began 10 March) on the same day.
    const runTs = Date.UTC(2024, 2, 15, 7, 30);
    const p = values(defaultWorkflowParams({ workflowId: 'wf', owner: 'alice', runTs, initiatorTimezone: 'America/Los_Angeles' }));
    expect(p).toEqual({
      DSL_DEFAULT_TZ: 'UTC',
      WORKFLOW_CRON_TIMEZONE: 'America/Los_Angeles',
      RUN_TS: BigInt(runTs),
      TARGET_RUN_DATE: '20240315',
      TARGET_RUN_HOUR: '00',
      // 2024-03-15 00:00 PDT = 07:00 UTC
      DERIVED_RUN_TS: BigInt(Date.UTC(2024, 2, 15, 7, 0)),
      DERIVED_RUN_DATE_US_PACIFIC: '20240315',
      DERIVED_RUN_DATE_US_PACIFIC_MINUS_ONE: '20240314',
      DERIVED_RUN_DATE_UTC: '20240315',
      DERIVED_RUN_DATE_UTC_MINUS_ONE: '20240314',
      DERIVED_RUN_DATE_UTC_PLUS_ONE: '20240316',
      DERIVED_RUN_DATE_UTC_MINUS_ONE_HOUR: '20240315',
      DERIVED_RUN_DATE_UTC_PLUS_ONE_HOUR: '20240315',
      DERIVED_RUN_HOUR_US_PACIFIC: '00',
      DERIVED_RUN_HOUR_UTC: '07',
      DERIVED_RUN_HOUR_UTC_MINUS_ONE_HOUR: '06',
      DERIVED_RUN_HOUR_UTC_PLUS_ONE_HOUR: '08',
      LOCAL_RUN_DATE: '20240315',
      RUN_DATE: '20240315',
      RUN_DATE_MINUS_1: '20240314',
      RUN_DATE_MINUS_7: '20240308',
      owner: 'alice',
      workflow_id: 'wf',
    });
  });

  it('crosses the date line: 2024-03-15T07:30Z in Asia/Tokyo is 16:30 the same day, in Pacific/Honolulu 21:30 the day before', () => {
    const runTs = Date.UTC(2024, 2, 15, 7, 30);
    const tokyo = values(defaultWorkflowParams({ workflowId: 'wf', runTs, firstTimeTriggerTimezone: 'Asia/Tokyo' }));
    expect(tokyo).toMatchObject({ DSL_DEFAULT_TZ: 'Asia/Tokyo', WORKFLOW_CRON_TIMEZONE: 'Asia/Tokyo', TARGET_RUN_DATE: '20240315', TARGET_RUN_HOUR: '16', DERIVED_RUN_HOUR_UTC: '07' });
    const hnl = values(defaultWorkflowParams({ workflowId: 'wf', runTs, initiatorTimezone: 'Pacific/Honolulu', firstTimeTriggerTimezone: 'Asia/Tokyo' }));
    expect(hnl).toMatchObject({ WORKFLOW_CRON_TIMEZONE: 'Pacific/Honolulu', TARGET_RUN_DATE: '20240314', TARGET_RUN_HOUR: '21', DERIVED_RUN_DATE_UTC: '20240315', RUN_DATE: '20240315' });
    expect(hnl.DERIVED_RUN_TS).toBe(BigInt(Date.UTC(2024, 2, 15, 7, 0)));
  });

  it('maps a repeated fall-back hour to its first occurrence', () => {
    // 2024-11-03 01:30 PST (UTC-8) is the second 01:30 in Los Angeles; the hour starts first at 01:00 PDT = 08:00 UTC.
    const runTs = Date.UTC(2024, 10, 3, 9, 30);
    const p = values(defaultWorkflowParams({ workflowId: 'wf', runTs, initiatorTimezone: 'America/Los_Angeles' }));
    expect(p).toMatchObject({ TARGET_RUN_DATE: '20241103', TARGET_RUN_HOUR: '01', DERIVED_RUN_TS: BigInt(Date.UTC(2024, 10, 3, 8, 0)), DERIVED_RUN_HOUR_UTC: '08' });
  });

  it('recomputes derived params from given inputs (a backfill of TARGET_RUN_DATE)', () => {
    const p = values(
      defaultWorkflowParams({ workflowId: 'wf', runTs: Date.UTC(2024, 2, 15, 7, 30), given: { TARGET_RUN_DATE: '20240101', TARGET_RUN_HOUR: '23', WORKFLOW_CRON_TIMEZONE: 'UTC' } }),
    );
    expect(p).toMatchObject({ TARGET_RUN_DATE: '20240101', DERIVED_RUN_TS: BigInt(Date.UTC(2024, 0, 1, 23)), DERIVED_RUN_DATE_UTC_PLUS_ONE_HOUR: '20240102', DERIVED_RUN_DATE_US_PACIFIC: '20240101', DERIVED_RUN_HOUR_US_PACIFIC: '15' });
    const fromRunTs = values(defaultWorkflowParams({ workflowId: 'wf', runTs: 0, given: { RUN_TS: BigInt(Date.UTC(2020, 0, 1)) } }));
    expect(fromRunTs).toMatchObject({ RUN_DATE: '20200101', RUN_DATE_MINUS_7: '20191225', DERIVED_RUN_DATE_US_PACIFIC: '20191231' });
  });

  it('refuses unusable given values with the param named', () => {
    expect(() => defaultWorkflowParams({ workflowId: 'wf', runTs: 0, initiatorTimezone: 'Nowhere/Land' })).toThrow('param WORKFLOW_CRON_TIMEZONE: unknown time zone "Nowhere/Land"');
    expect(() => defaultWorkflowParams({ workflowId: 'wf', runTs: 0, given: { TARGET_RUN_DATE: '2024-01-01' } })).toThrow('param TARGET_RUN_DATE must be yyyyMMdd');
    expect(() => defaultWorkflowParams({ workflowId: 'wf', runTs: 0, given: { RUN_TS: 'soon' } })).toThrow('param RUN_TS must be a LONG');
  });

  it('types and modes follow Maestro', () => {
    const p = defaultWorkflowParams({ workflowId: 'wf', owner: 'o', runTs: 0 });
    expect(p.RUN_TS).toEqual({ name: 'RUN_TS', type: 'LONG', value: 0n, mode: 'MUTABLE_ON_START' });
    expect(p.workflow_id).toEqual({ name: 'workflow_id', type: 'STRING', value: 'wf', mode: 'CONSTANT' });
  });
});

describe('default step params', () => {
  it('gives identity params and the defaults of the step kind', () => {
    const base = { workflowId: 'wf', workflowInstanceId: 12, stepId: 'job.1', stepInstanceUuid: 'u-1', stepAttemptId: 2 };
    expect(values(defaultStepParams({ ...base, kind: 'step' }))).toEqual({ workflow_id: 'wf', workflow_instance_id: 12n, step_id: 'job.1', step_instance_uuid: 'u-1', step_attempt_id: 2n });
    expect(values(defaultStepParams({ ...base, kind: 'foreach', loopIndex: 3 })).loop_index).toBe(3n);
    expect(values(defaultStepParams({ ...base, kind: 'while' })).loop_index).toBe(-1n);
    expect(values(defaultStepParams({ ...base, kind: 'subworkflow' })).subworkflow_version).toBe('active');
  });

  it('reserves the engine-owned names', () => {
    expect([...RESERVED_PARAM_NAMES].sort()).toEqual(['condition', 'loop_index', 'owner', 'step_attempt_id', 'step_id', 'step_instance_uuid', 'workflow_id', 'workflow_instance_id']);
  });
});
