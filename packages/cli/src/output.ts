/** Small helpers for printing results. */
import { terminalSafeJson } from './text.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** 5288548 → "5.29M", 385814752 → "0.39B" */
export function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}
