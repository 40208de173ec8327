// A restricted Python unpickler for state dicts: it executes nothing. It reads
// the opcodes of pickle protocols 0-5 that torch.save emits (protocol 2) and
// the binary forms around them; a GLOBAL (or STACK_GLOBAL) is resolved only
// through the caller's `globals` table, and any other name is refused with an
// error naming it. Python values map to: str -> string, int -> number (or
// bigint beyond 2^53), float -> number, bool, None -> null, list -> array,
// tuple -> PyTuple, dict -> Map (never a plain object, so no key can reach a
// prototype). Persistent ids (torch's storages) go to `persistentLoad`.
// Memory stays proportional to the input: every opcode consumes at least one
// byte and creates at most one value, and every length is checked against
// the bytes that remain before anything is read.

import { ResnextError } from '../errors';

/** A Python tuple (distinct from a list). */
export class PyTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A reference to a Python global that the caller's table allowed. */
export interface PyGlobal {
  readonly module: string;
  readonly name: string;
  /** Called by REDUCE with the argument tuple's items. */
  readonly call: (args: readonly unknown[]) => unknown;
  /** Called by BUILD on the object this global produced; default: ignore the state. */
  readonly build?: (obj: unknown, state: unknown) => unknown;
}

export interface UnpickleOptions {
  /** 'module.name' -> handler. Anything absent is refused. */
  globals: ReadonlyMap<string, Omit<PyGlobal, 'module' | 'name'>>;
  persistentLoad?: (pid: unknown) => unknown;
  /** Names the file in errors. */
  source: string;
}

class Mark {}
const MARK = new Mark();

/** Objects made by REDUCE remember their global, so BUILD can find its handler. */
const madeBy = new WeakMap<object, PyGlobal>();

/** The value of the pickle that fills `bytes`. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  return unpickleAt(bytes, 0, options).value;
}

/** The value of the pickle starting at `start`, and the offset just past its STOP (files that hold several pickles). */
export function unpickleAt(bytes: Uint8Array, start: number, options: UnpickleOptions): { value: unknown; end: number } {
  const { source } = options;
  const fail = (what: string): never => {
    throw new ResnextError('ERR_RESNEXT_TORCH', `Malformed pickle in ${source}: ${what}`);
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;

  const need = (n: number, what: string): void => {
    if (n < 0 || pos + n > bytes.length) fail(`${what} needs ${n} bytes at offset ${pos} but the pickle has ${bytes.length - pos} left`);
  };
  const u8 = (): number => {
    need(1, 'an operand');
    return bytes[pos++];
  };
  const u16 = (): number => {
    need(2, 'an operand');
    pos += 2;
    return dv.getUint16(pos - 2, true);
  };
  const u32 = (): number => {
    need(4, 'an operand');
    pos += 4;
    return dv.getUint32(pos - 4, true);
  };
  const u64 = (): number => {
    need(8, 'an operand');
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the pickle`);
    return Number(v);
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const text = (n: number): string => {
    try {
      return utf8.decode(take(n, 'a string'));
    } catch (err) {
      if (err instanceof ResnextError) throw err;
      return fail(`invalid UTF-8 in a string at offset ${pos - n}`);
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`unterminated text line at offset ${pos}`);
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail(`stack underflow at offset ${pos - 1}`);
    const v = stack.pop();
    if (v === MARK) fail(`unexpected mark at offset ${pos - 1}`);
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(`stack underflow at offset ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail(`no mark at offset ${pos - 1}`);
    return stack.splice(m!).slice(1);
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const h = options.globals.get(`${module}.${name}`);
    if (!h)
      throw new ResnextError(
        'ERR_RESNEXT_TORCH_GLOBAL',
        `Refusing to load ${source}: the pickle references the Python global ${module}.${name}, which is not allowed (only the globals of a state dict are: ${[...options.globals.keys()].join(', ')}). Save model.state_dict() rather than the model or other objects.`,
      );
    return { module, name, ...h };
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) fail(`SETITEM(S) on a ${describe(dict)}, not a dict`);
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i];
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'bigint' && typeof k !== 'boolean' && k !== null)
        fail(`dict key of type ${describe(k)} (only str, int, bool and None keys are read)`);
      (dict as Map<unknown, unknown>).set(k, items[i + 1]);
    }
  };
  const append = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail(`APPEND(S) on a ${describe(list)}, not a list`);
    for (const it of items) (list as unknown[]).push(it);
  };
  const int = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) fail(`STOP with ${stack.length} values on the stack`);
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(u32() | 0);
        break;
      case 0x8a: // LONG1
        stack.push(int(take(u8(), 'a long')));
        break;
      case 0x8b: {
        // LONG4
        const n = u32();
        if (n > 64) fail(`a ${n}-byte integer`);
        stack.push(int(take(n, 'a long')));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8, 'a float');
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (py2 str)
        stack.push(latin1.decode(take(u8(), 'a string')));
        break;
      case 0x54: // BINSTRING
        stack.push(latin1.decode(take(u32(), 'a string')));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8(), 'bytes').slice());
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32(), 'bytes').slice());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} read before it was written`);
        stack.push(memo.get(i));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop(),
          b = pop(),
          a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new Map();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop(),
          k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(resolve(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop(),
          module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL of non-strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop(),
          fn = pop();
        if (!isGlobal(fn)) fail(`REDUCE of a ${describe(fn)}, not a global`);
        if (!(args instanceof PyTuple)) fail(`REDUCE with ${describe(args)} arguments, not a tuple`);
        const g = fn as PyGlobal;
        const obj = g.call((args as PyTuple).items);
        if (typeof obj === 'object' && obj !== null) madeBy.set(obj, g);
        stack.push(obj);
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop(),
          cls = pop();
        if (!isGlobal(cls) || !(args instanceof PyTuple)) fail('NEWOBJ of a non-global');
        const g = cls as PyGlobal;
        const obj = g.call((args as PyTuple).items);
        if (typeof obj === 'object' && obj !== null) madeBy.set(obj, g);
        stack.push(obj);
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        const g = typeof obj === 'object' && obj !== null ? madeBy.get(obj) : undefined;
        if (!g) fail(`BUILD on a ${describe(obj)} that no allowed global made`);
        if (g!.build) stack[stack.length - 1] = g!.build(obj, state);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('a persistent id, but this file format has none');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case 0x30: // POP
        if (top() === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
    }
  }
}

function isGlobal(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as PyGlobal).call === 'function' && typeof (v as PyGlobal).module === 'string';
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof Map) return 'dict';
  if (v instanceof PyTuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v === MARK) return 'mark';
  if (isGlobal(v)) return `global ${(v as PyGlobal).module}.${(v as PyGlobal).name}`;
  return typeof v;
}
