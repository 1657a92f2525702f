import { parseJsonPreservingLongs } from '@baton/sel';
import type { ParamValue } from '../definition/model.js';
import { inferParamType, jsonToParamValue } from '../params/typed-value.js';

/** A command's outputs were unusable; the step fails as a user failure with this message. */
export class OutputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputsError';
  }
}

/**
 * JSON object text → output params, each typed as a YAML literal would be: whole numbers LONG
 * (exact, also beyond 2^53), other numbers DOUBLE, arrays typed by their elements, objects of
 * strings STRING_MAP, other objects MAP. `null` has no param type and is refused.
 */
export function outputsFromJsonText(text: string, where: string): Record<string, ParamValue> {
  let data: unknown;
  try {
    data = parseJsonPreservingLongs(text);
  } catch (e) {
    throw new OutputsError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new OutputsError(`${where} must hold a JSON object of output params, got ${Array.isArray(data) ? 'an array' : data === null ? 'null' : typeof data}`);
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new OutputsError(`${where}: ${JSON.stringify(name)} is not a valid param name`);
    if (value === null) throw new OutputsError(`${where}: output ${name} is null; params cannot be null (leave the key out)`);
    try {
      Object.defineProperty(out, name, { value: jsonToParamValue(inferParamType(value), value), enumerable: true, writable: true, configurable: true });
    } catch (e) {
      throw new OutputsError(`${where}: output ${name}: ${(e as Error).message}`);
    }
  }
  return out;
}
