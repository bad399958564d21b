/** Small helpers for printing results. */
import Table from 'cli-table3';
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

/**
 * Whether to colour terminal output: never when NO_COLOR is set (https://no-color.org) or stdout is
 * not a terminal (piped output stays plain text); FORCE_COLOR=1 forces it on.
 */
export function useColor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

/** The width tables fit: the terminal's, else $COLUMNS, else 80 (piped output). */
export function terminalWidth(): number {
  const cols = process.stdout.columns ?? Number(process.env.COLUMNS);
  return Number.isInteger(cols) && cols >= 20 ? cols : 80;
}

type Cell = string | number;
export interface TableOptions {
  colAligns?: ('left' | 'right' | 'center')[];
  /** No row separators and no outer border (plain lists). */
  compact?: boolean;
  /** Width to fit (default: terminalWidth()). */
  width?: number;
}

/** The natural width of a cell (its longest line). */
const cellWidth = (c: Cell): number =>
  Math.max(
    ...String(c)
      .split('\n')
      .map((l) => [...l].length),
  );

/**
 * A cli-table3 table that fits `width` columns where it can: the widest columns are narrowed and
 * wrapped (on word boundaries, never inside a word) until the table fits; borders are grey only when colour is on (useColor).
 */
export function renderTable(head: string[], rows: Cell[][], o: TableOptions = {}): string {
  const width = o.width ?? terminalWidth();
  const n = head.length;
  const natural = head.map((h, i) => Math.max(cellWidth(h), ...rows.map((r) => cellWidth(r[i] ?? ''))) + 2);
  // A column is never narrower than its longest word: values wrap at spaces, never get cut ('effic…').
  const longestWord = (c: Cell): number =>
    Math.max(
      0,
      ...String(c)
        .split(/\s+/)
        .map((w) => [...w].length),
    );
  const minimum = head.map((h, i) => Math.max(longestWord(h), ...rows.map((r) => longestWord(r[i] ?? ''))) + 2);
  // Too many columns to fit even with every column at its longest word: one record per row
  // (the first column as a title, then 'column  value' lines wrapped to the width).
  if (minimum.reduce((a, b) => a + b, 0) + n + 1 > width) return renderRecords(head, rows, width);
  const tooWide = false;
  const widths = [...natural];
  // Borders: n + 1 vertical bars. Narrow the widest column that can still give; a table that cannot
  // fit even so stays wider than the terminal rather than lose text.
  while (!tooWide && widths.reduce((a, b) => a + b, 0) + n + 1 > width) {
    let i = -1;
    for (let k = 0; k < n; k++) if (widths[k]! > minimum[k]! && (i < 0 || widths[k]! > widths[i]!)) i = k;
    if (i < 0) break;
    widths[i] = widths[i]! - 1;
  }
  const fits = widths.every((w, i) => w === natural[i]);
  const color = useColor();
  const t = new Table({
    head,
    ...(fits ? {} : { colWidths: widths, wordWrap: true, wrapOnWordBoundary: true }),
    ...(o.colAligns ? { colAligns: o.colAligns } : {}),
    style: { head: [], border: color ? ['grey'] : [], ...(o.compact ? { compact: true } : {}) },
  });
  for (const r of rows) t.push(r.map((c) => (typeof c === 'number' ? String(c) : c)));
  return t.toString();
}

/** Prints prose wrapped to the terminal's width (the same width the tables fit). */
export function say(text: string): void {
  console.log(wrapText(text, terminalWidth()).join('\n'));
}

/** Words of `text` wrapped to `width` characters (a word longer than that is cut). */
export function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(/\s+/).filter(Boolean)) {
      while ([...word].length > width) {
        if (line) {
          out.push(line);
          line = '';
        }
        out.push([...word].slice(0, width).join(''));
        word = [...word].slice(width).join('');
      }
      if (!line) line = word;
      else if ([...line].length + 1 + [...word].length <= width) line += ` ${word}`;
      else {
        out.push(line);
        line = word;
      }
    }
    out.push(line);
  }
  return out;
}

/** A table as records, for terminals too narrow for its columns: every line fits `width`. */
export function renderRecords(head: string[], rows: Cell[][], width: number): string {
  const label = Math.max(...head.slice(1).map((h) => [...h].length));
  const indent = 2;
  const valueWidth = Math.max(8, width - indent - label - 2);
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(...wrapText(String(r[0] ?? ''), width));
    head.slice(1).forEach((h, k) => {
      const value = String(r[k + 1] ?? '');
      if (value === '') return;
      wrapText(value, valueWidth).forEach((v, j) => lines.push(`${' '.repeat(indent)}${(j === 0 ? h : '').padEnd(label)}  ${v}`.trimEnd()));
    });
  }
  return lines.join('\n');
}
