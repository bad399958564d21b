import { NameError } from './errors.js';

/**
 * The one naming authority for generated value and node names. Every name graph-builder invents
 * (node labels, op outputs, constants an op creates, values a pass inserts) comes from a NameScope,
 * so names are deterministic (same calls → same names) and never collide.
 */

/** Names a value or node may have: what ONNX tools and effnet's readers accept. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

export class NameScope {
  private readonly taken = new Set<string>();
  /** Names that belong to a graph being edited: fresh() avoids them, claim() may use them once. */
  private readonly reserved = new Set<string>();

  constructor(readonly what = 'name') {}

  /** True when `name` is used or reserved. */
  has(name: string): boolean {
    return this.taken.has(name) || this.reserved.has(name);
  }

  /** Takes exactly `name`; throws if it is already used (a reserved name may be claimed once). */
  claim(name: string, where = ''): string {
    if (!NAME_RE.test(name)) throw new NameError(`invalid ${this.what} '${name}'`);
    if (this.taken.has(name)) throw new NameError(`${this.what} '${name}' is already used${where}`);
    this.taken.add(name);
    return name;
  }

  /** Takes `base` if free, else the first free of `base_2`, `base_3`, …. */
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.has(name); k++) name = `${base}_${k}`;
    return this.claim(name);
  }

  /** Marks names as belonging to an existing graph (see {@link GraphEditor}). */
  reserve(names: Iterable<string>): void {
    for (const n of names) if (n) this.reserved.add(n);
  }

  /** Gives back a reserved name whose owner was removed from the graph being edited. */
  unreserve(name: string): void {
    this.reserved.delete(name);
  }

  /** Frees a name whose value was removed, so it can be claimed again. */
  release(name: string): void {
    this.taken.delete(name);
  }
}
