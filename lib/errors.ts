// Error construction shared by every op: TypeError for a wrong type, RangeError
// for a bad value or shape, and ResnextError (with a code) for runtime failures.
// Messages read "Expected <what> for <parameter> but received <value>".

/** A runtime failure that is not the caller's argument (e.g. a backend failed to load). */
export class ResnextError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ResnextError';
    this.code = code;
  }
}

/** Renders a received value for an error message, briefly and unambiguously. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'boolean' || typeof value === 'symbol') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) {
    const items = value.slice(0, 8).map((v) => describeValue(v));
    return `[${items.join(', ')}${value.length > 8 ? ', ...' : ''}]`;
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor?.name ?? 'TypedArray';
    const len = 'length' in value ? (value as unknown as { length: number }).length : value.byteLength;
    return `a ${name} of length ${len}`;
  }
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

export function invalidType(param: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected ${expected} for ${param} but received ${describeValue(value)}`);
}

export function invalidValue(param: string, expected: string, value: unknown): RangeError {
  return new RangeError(`Expected ${expected} for ${param} but received ${describeValue(value)}`);
}

/**
 * Re-throws an error from native code as the same class with a stack captured
 * in JS, so the trace points at the caller rather than into the addon.
 */
export function rethrowNative(err: unknown, context: string): never {
  if (err instanceof Error) {
    const Ctor = err instanceof RangeError ? RangeError : err instanceof TypeError ? TypeError : Error;
    const wrapped = new Ctor(`${context}: ${err.message}`);
    const code = (err as { code?: unknown }).code;
    if (code !== undefined) (wrapped as { code?: unknown }).code = code;
    throw wrapped;
  }
  throw new ResnextError('ERR_RESNEXT_NATIVE', `${context}: ${String(err)}`);
}
