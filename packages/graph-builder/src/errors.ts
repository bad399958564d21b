/**
 * Typed errors shared by every effnet library. Callers decide what to do by class, never by
 * `name` strings or by engine error types (a RangeError from the engine is not a bad option).
 */

/**
 * A caller gave an option a value outside its documented range, of the wrong kind, or one that
 * does not apply. `option` names the option as the library spells it (e.g. 'resolution'); a CLI
 * maps it to its own flag (`--resolution`) and treats the error as a usage error.
 */
export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown when an op is built with inputs whose shapes, types or attributes disagree. */
export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Thrown for an invalid or duplicate value or node name. */
export class NameError extends ShapeError {
  override name = 'NameError';
}
