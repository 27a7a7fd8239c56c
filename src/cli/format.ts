/** Pure text formatting for people: aligned tables, key/value blocks, short dates. */

/** What an empty cell shows. */
export const NONE = '-';

/** Renders rows under a header, each column padded to its widest cell. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );

  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();

  return [line(headers), ...rows.map(line)].join('\n');
}

/** Renders `label  value` lines with the values aligned. */
export function renderFields(fields: [label: string, value: string][]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`.trimEnd()).join('\n');
}

/** Shortens an ISO time to `2030-01-31 12:00Z` (or with seconds); `null` shows as `-`. */
export function shortDate(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return NONE;

  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(iso);
  if (!match) return iso;
  return `${match[1]} ${match[2]}${withSeconds ? (match[3] ?? ':00') : ''}Z`;
}

/** Shows a possibly empty text, `-` when there is none. */
export function text(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? NONE : String(value);
}

/** Shows a list comma-separated, `-` when empty. */
export function list(values: string[] | null | undefined): string {
  return values && values.length > 0 ? values.join(', ') : NONE;
}

/** Shows a JSON value on one line, `-` when absent. */
export function compactJson(value: unknown): string {
  return value === null || value === undefined ? NONE : JSON.stringify(value);
}

/** Shows a millisecond duration in the largest whole unit: `1h`, `90s`, `250ms`. */
export function duration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * A sparkline of `values` in at most `width` characters: neighbouring values are summed when
 * there are more, zero is the lowest bar, the largest value the highest.
 */
export function sparkline(values: readonly number[], width = 60): string {
  const group = Math.max(1, Math.ceil(values.length / width));
  const sums: number[] = [];
  for (let start = 0; start < values.length; start += group) {
    sums.push(values.slice(start, start + group).reduce((sum, value) => sum + value, 0));
  }
  const top = Math.max(0, ...sums);
  return sums
    .map((sum) => (sum === 0 ? BARS[0] : BARS[Math.max(1, Math.ceil((sum / top) * 7))]))
    .join('');
}
