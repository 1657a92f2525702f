import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/cli/command.js';
import { signalCommand, signalParams } from '../src/cli/commands/signal.js';

describe('baton signal publish params', () => {
  it('types key=value, key==string and key:=JSON', async () => {
    expect(await signalParams(['n=12', 'day=mon', 'hour=00', 'big=9223372036854775807', 'neg=-5', 'eq=a=b'])).toEqual({ n: 12n, day: 'mon', hour: 0n, big: 9223372036854775807n, neg: -5n, eq: 'a=b' });
    expect(await signalParams(['vtts_utc_hour==00', 'empty==', 'x===y'])).toEqual({ vtts_utc_hour: '00', empty: '', x: '=y' });
    const typed = await signalParams(['hour:="00"', 'n:=12', 'big:=12345678901234567890', 's:="a=b"']);
    expect(typed).toEqual({ hour: '00', n: 12, big: 12345678901234567890n, s: 'a=b' });
    expect(Object.keys(await signalParams(['__proto__==x']))).toEqual(['__proto__']);
  });

  it('refuses pairs without a key or a JSON value that is not a string or integer', async () => {
    await expect(signalParams(['novalue'])).rejects.toThrow(UsageError);
    await expect(signalParams(['=x'])).rejects.toThrow('param "=x" must be key=value, key==string or key:=JSON');
    await expect(signalParams([':=1'])).rejects.toThrow(UsageError);
    await expect(signalParams(['n:=1.5'])).rejects.toThrow('param n:= must be a JSON string or integer (params are STRING or LONG), got 1.5');
    await expect(signalParams(['n:={"a":1}'])).rejects.toThrow('must be a JSON string or integer');
    await expect(signalParams(['n:=00x'])).rejects.toThrow(/param n:= must be JSON/);
  });

  it('documents the three forms in --help', () => {
    expect(signalCommand.help).toContain('key==value   always a STRING');
    expect(signalCommand.help).toContain('key:=JSON');
  });
});
