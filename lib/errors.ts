// Error construction shared by every op: TypeError for a wrong type, RangeError
// for a bad value or shape, and ResnextError (with a code) for runtime failures.
// Messages read "Expected <what> for <parameter> but received <value>".

/**
 * Stable codes of ResnextError (see docs/errors.md). Bad arguments are never
 * ResnextErrors: they are TypeError (wrong type) or RangeError (bad value).
 */
export const ERROR_CODES = {
  /** The backend or device asked for (or needed) cannot be used here; the message says why. */
  BACKEND_UNAVAILABLE: 'ERR_RESNEXT_BACKEND_UNAVAILABLE',
  /** A plan, model or other native object was used after dispose(). */
  DISPOSED: 'ERR_RESNEXT_DISPOSED',
  /** A buffer was transferred (detached) while an async call used it; the result was discarded. */
  DETACHED: 'ERR_RESNEXT_DETACHED',
  /** The operation is valid but not implemented on this backend or kernel. */
  UNSUPPORTED: 'ERR_RESNEXT_UNSUPPORTED',
  /** Native memory could not be allocated. */
  OUT_OF_MEMORY: 'ERR_RESNEXT_OUT_OF_MEMORY',
  /** Any other failure inside the native code (a bug, or a GPU error). */
  INTERNAL: 'ERR_RESNEXT_INTERNAL',
  /** A safetensors file is malformed. */
  SAFETENSORS: 'ERR_RESNEXT_SAFETENSORS',
  /** A PyTorch checkpoint (zip or pickle) is malformed. */
  TORCH: 'ERR_RESNEXT_TORCH',
  /** A PyTorch checkpoint refers to a Python global the loader does not allow. */
  TORCH_GLOBAL: 'ERR_RESNEXT_TORCH_GLOBAL',
  /** An ONNX file is malformed. */
  ONNX: 'ERR_RESNEXT_ONNX',
  /** A valid ONNX graph uses an operator or form the loader does not run. */
  ONNX_UNSUPPORTED: 'ERR_RESNEXT_ONNX_UNSUPPORTED',
} as const;

export type ResnextErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** A runtime failure that is not the caller's argument (e.g. a backend failed to load). */
export class ResnextError extends Error {
  readonly code: string;
  /** code: one of ERROR_CODES (other ERR_RESNEXT_* codes may be added by later versions). */
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

/** A backend or device that cannot be used, with the reason. */
export function backendUnavailable(message: string): ResnextError {
  return new ResnextError(ERROR_CODES.BACKEND_UNAVAILABLE, message);
}

/** Use of a disposed plan, model or other native object. */
export function disposedError(what: string): ResnextError {
  return new ResnextError(ERROR_CODES.DISPOSED, `Expected a live ${what} but received a disposed ${what}`);
}

const KNOWN_CODES = new Set<string>(Object.values(ERROR_CODES));

/**
 * Re-throws an error from native code with a stack captured in JS (so the
 * trace points at the caller rather than into the addon) and in the package's
 * error model: TypeError and RangeError keep their class; any other native
 * failure becomes a ResnextError with its code (ERR_RESNEXT_INTERNAL when it
 * has none we know).
 */
export function rethrowNative(err: unknown, context: string): never {
  if (err instanceof ResnextError) throw err;
  if (err instanceof RangeError) throw new RangeError(`${context}: ${err.message}`);
  if (err instanceof TypeError) throw new TypeError(`${context}: ${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  throw new ResnextError(
    typeof code === 'string' && KNOWN_CODES.has(code) ? (code as ResnextErrorCode) : ERROR_CODES.INTERNAL,
    `${context}: ${message}`,
  );
}

/** Awaits a native promise, rejecting in the same error model as rethrowNative. */
export async function awaitNative<T>(promise: Promise<T>, context: string): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    rethrowNative(err, context);
  }
}

/** Starts a native async call and awaits it; a synchronous throw (argument checks) and a rejection both go through rethrowNative. */
export function callAsync<T>(start: () => Promise<T>, context: string): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = start();
  } catch (err) {
    return Promise.reject(rethrowOrError(err, context));
  }
  return awaitNative(pending, context);
}

function rethrowOrError(err: unknown, context: string): unknown {
  try {
    rethrowNative(err, context);
  } catch (e) {
    return e;
  }
}
