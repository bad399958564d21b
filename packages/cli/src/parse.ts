/** Flag value parsers: each error names the flag and what was expected. */
import { InvalidArgumentError } from 'commander';

export function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got '${v}'`);
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} expects a non-negative integer, got '${v}'`);
    return n;
  };
}

export function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive number, got '${v}'`);
    return n;
  };
}

export function nonNegativeNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} expects a non-negative number, got '${v}'`);
    return n;
  };
}

export function intInRange(flag: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || n < lo || n > hi) throw new InvalidArgumentError(`${flag} expects an integer from ${lo} to ${hi}, got '${v}'`);
    return n;
  };
}

/** A number in [lo, hi], or (lo, hi] with `{ aboveLo: true }`. */
export function numberInRange(flag: string, lo: number, hi: number, o: { aboveLo?: boolean } = {}) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (o.aboveLo ? n <= lo : n < lo) || n > hi)
      throw new InvalidArgumentError(`${flag} expects a number ${o.aboveLo ? `> ${lo}` : `>= ${lo}`} and <= ${hi}, got '${v}'`);
    return n;
  };
}

/** A tensor name: not empty, no control characters. */
export function tensorName(flag: string) {
  return (v: string): string => {
    if (v.trim() === '' || /[\u0000-\u001f\u007f]/.test(v)) throw new InvalidArgumentError(`${flag} expects a non-empty tensor name, got '${v}'`);
    return v;
  };
}

/** `--batch N|dynamic` */
export function batchOption(v: string): number | 'dynamic' {
  if (v === 'dynamic') return 'dynamic';
  return positiveInt('--batch')(v);
}

/** Comma-separated positive integers, e.g. `--batch 1,8,32`. */
export function intList(flag: string) {
  return (v: string): number[] => v.split(',').map((s) => positiveInt(flag)(s));
}

/** Comma-separated numbers, e.g. `--mean 0.485,0.456,0.406`. */
export function numberList(flag: string, length?: number) {
  return (v: string): number[] => {
    const xs = v.split(',').map(Number);
    if (xs.some((x) => !Number.isFinite(x)) || (length !== undefined && xs.length !== length))
      throw new InvalidArgumentError(`${flag} expects ${length ?? 'some'} comma-separated numbers, got '${v}'`);
    return xs;
  };
}

export function choice<T extends string>(flag: string, values: readonly T[]) {
  return (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`${flag} expects one of ${values.join(', ')}, got '${v}'`);
    return v as T;
  };
}
