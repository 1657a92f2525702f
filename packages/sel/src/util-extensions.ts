import { stringifySel } from './json-text.js';
import type { ExtensionFunction } from './extensions.js';
import { SelError } from './errors.js';
import type { Value } from './runtime/values.js';

/** `Util.toJson(x)`: the value as JSON text (Maestro registers it through its param extension). */
export const toJsonExtension: ExtensionFunction = (args, call) => {
  if (args.length !== 1) throw new SelError('name', `Util.toJson takes 1 argument, got ${args.length}`);
  const text = stringifySel(args[0] as Value);
  call.host.checkStringLength(text.length);
  call.host.chargeMemory(text.length);
  return text;
};
