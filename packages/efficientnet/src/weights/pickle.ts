/**
 * A restricted reader of Python pickles: the opcodes of protocols 2–5 that `torch.save` and plain
 * containers use, and nothing that runs code. A pickle names callables by `module.name` (GLOBAL /
 * STACK_GLOBAL); every such name must be in the caller's allow-list, whose entries are plain
 * TypeScript functions building plain values — any other name is refused on the spot, before any
 * later opcode is read. This is what `torch.load(weights_only=True)` promises
 * (torch/_weights_only_unpickler.py), done without Python.
 *
 * Values: None → null, bool, int → number (bigint beyond 2^53), float → number, str → string,
 * bytes → Uint8Array, list → Array, tuple → PyTuple, dict → PyDict (a Map; never a plain object,
 * so no key can reach a prototype).
 */

export class PickleError extends Error {
  override name = 'PickleError';
  /** The bytes ended inside the pickle: more of the file might complete it. */
  readonly endedEarly: boolean;
  constructor(message: string, o: { readonly endedEarly?: boolean } = {}) {
    super(message);
    this.endedEarly = o.endedEarly ?? false;
  }
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  /** Attributes set by BUILD (an OrderedDict's `_metadata`). */
  readonly attrs = new Map<string, PyValue>();
}

/** A callable the allow-list provides (its result replaces it on REDUCE / NEWOBJ). */
export class PyCallable {
  constructor(
    readonly qualname: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {}
}

export type PyKey = string | number | bigint | boolean | null;
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyCallable | Set<PyKey> | object;

export interface UnpickleOptions {
  /** For messages: the file (and entry) being read. */
  readonly label: string;
  /** `module.name` → the callable (or value, e.g. a dtype), or undefined to refuse it. */
  readonly resolveGlobal: (module: string, name: string) => PyValue | undefined;
  /** What to say when a global is refused (appended to the message). */
  readonly refusedHint: string;
  /** BINPERSID: the persistent id (a tuple) → the object it stands for. */
  readonly persistentLoad?: (pid: PyValue) => PyValue;
  /** Largest memo / container size accepted. */
  readonly maxItems?: number;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

const textDecoder = new TextDecoder('utf-8', { fatal: true });

/** Reads one pickle from `bytes` at `start`; returns the value and where the pickle ended (after STOP). */
export function unpickle(bytes: Uint8Array, o: UnpickleOptions, start = 0): { value: PyValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxItems = o.maxItems ?? 50_000_000;
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let p = start;

  const fail = (msg: string, endedEarly = false): never => {
    throw new PickleError(`${o.label}: ${msg} (byte ${p})`, { endedEarly });
  };
  const need = (n: number) => {
    if (p + n > bytes.length) fail('the pickle ends early (truncated file?)', true);
  };
  const u8 = () => (need(1), bytes[p++]!);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a length of ${v} bytes`);
    return Number(v);
  };
  const take = (n: number) => {
    need(n);
    p += n;
    return bytes.subarray(p - n, p);
  };
  const utf8 = (n: number) => {
    const raw = take(n);
    try {
      return textDecoder.decode(raw);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const latin1 = (n: number) => String.fromCharCode(...take(n));
  const line = () => {
    const end = bytes.indexOf(0x0a, p);
    if (end < 0) fail('a text line never ends');
    const s = latin1(end - p);
    p = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('the stack is empty where a value was expected (malformed pickle)');
    return v as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('the stack is empty where a value was expected (malformed pickle)');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('no MARK on the stack (malformed pickle)');
    const items = stack.splice(i) as StackItem[];
    items.shift();
    return items as PyValue[];
  };
  const put = (i: number) => {
    if (memo.size >= maxItems && !memo.has(i)) fail('too many memo entries');
    memo.set(i, top());
  };
  const get = (i: number) => {
    if (!memo.has(i)) fail(`memo entry ${i} was never stored (malformed pickle)`);
    stack.push(memo.get(i)!);
  };
  const key = (k: PyValue): PyKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    if (k instanceof PyTuple) return JSON.stringify(k.items.map((x) => (typeof x === 'bigint' ? String(x) : x)));
    return fail('a dictionary key is not a string, number or tuple');
  };
  const setItems = (d: PyValue, items: PyValue[]) => {
    if (!(d instanceof PyDict)) fail('SETITEM on something that is not a dict');
    if (items.length % 2) fail('SETITEMS with an odd number of items');
    const dict = d as PyDict;
    for (let i = 0; i < items.length; i += 2) dict.map.set(key(items[i]!), items[i + 1]!);
    if (dict.map.size > maxItems) fail('a dict is too large');
  };
  const appendItems = (l: PyValue, items: PyValue[]) => {
    if (Array.isArray(l)) l.push(...items);
    else if (l instanceof Set) for (const x of items) l.add(key(x));
    else fail('APPEND on something that is not a list');
    if ((l as PyValue[]).length > maxItems) fail('a list is too large');
  };
  const global = (module: string, name: string): PyValue => {
    const f = o.resolveGlobal(module, name);
    if (f === undefined) fail(`refused to load global '${module}.${name}': ${o.refusedHint}`);
    return f!;
  };
  const call = (f: PyValue, args: PyValue) => {
    if (!(f instanceof PyCallable)) fail('REDUCE on something that is not an allowed callable');
    if (!(args instanceof PyTuple)) fail('REDUCE arguments are not a tuple');
    return (f as PyCallable).call((args as PyTuple).items);
  };
  const long = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: p };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x8f: // EMPTY_SET
        stack.push(new Set<PyKey>());
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
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0 || n > 1 << 16) fail(`a LONG4 of ${n} bytes`);
        stack.push(long(take(n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1(u32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark().map(key)));
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: // APPENDS
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        put(u8());
        break;
      case 0x72: // LONG_BINPUT
        put(u32());
        break;
      case 0x94: // MEMOIZE
        put(memo.size);
        break;
      case 0x68: // BINGET
        get(u8());
        break;
      case 0x6a: // LONG_BINGET
        get(u32());
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: only dicts take state (an OrderedDict's attributes, e.g. _metadata)
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) fail('BUILD (setting object state) on something that is not a dict');
        if (state instanceof PyDict) for (const [k, v] of state.map) (obj as PyDict).attrs.set(String(k), v);
        else if (state !== null) fail('BUILD with a state that is not a dict');
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!o.persistentLoad) fail('a persistent id where none is expected');
        stack.push(o.persistentLoad!(pid));
        break;
      }
      case 0x30: // POP
        if (stack.pop() === undefined) fail('POP on an empty stack');
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(
          `unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : ''}: not a torch.save checkpoint, or written with a text protocol`,
        );
    }
  }
}
