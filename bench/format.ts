/** A whole number with thousands separators: `12,345`. */
export function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** A ratio such as `0.87×`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}

/** Milliseconds with two decimals: `3.41 ms`. */
export function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)} ms` : 'n/a';
}

/** A signed difference in milliseconds: `+0.52 ms`. */
export function msDifference(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} ms`;
}

/** Bytes as mebibytes: `84.2 MiB`. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** A signed size difference in mebibytes: `+12.0 MiB`. */
export function mibDifference(bytes: number): string {
  return `${bytes >= 0 ? '+' : '−'}${mib(Math.abs(bytes))}`;
}

/** `PASS` or `MISS`. */
export function verdict(met: boolean): string {
  return met ? 'PASS' : 'MISS';
}

/** A table with a header row, columns padded to their widest cell; numbers align right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return /^[-+−\d.,]/.test(cell) && column > 0 ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();

  const rule = widths.map((width) => '─'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
