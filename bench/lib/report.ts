import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const benchmarksFile = path.join(repoRoot, 'docs', 'BENCHMARKS.md');

/**
 * docs/BENCHMARKS.md is partly written by hand and partly by the bench scripts: each script owns the
 * sections between `<!-- NAME:start -->` and `<!-- NAME:end -->` and replaces only those, so the
 * prose around them (and the other scripts' sections) survive a re-run.
 */
export function replaceSection(name: string, content: string, file = benchmarksFile): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const text = fs.readFileSync(file, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no section ${start} … ${end}`);
  fs.writeFileSync(file, `${text.slice(0, from + start.length)}\n${content.trim()}\n${text.slice(to)}`);
}

/** Markdown table from a header row and data rows. */
export function table(header: string[], rows: Array<Array<string | number>>, align: Array<'l' | 'r'> = []): string {
  const sep = header.map((_, i) => (align[i] === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The machine, as the report states it: core count and CPU model. */
export function machineLine(): string {
  let model = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) model = m[1].trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  const memGiB = Math.round(os.totalmem() / 2 ** 30);
  return `${os.cpus().length} cores (\`nproc --all\` = ${os.cpus().length}), ${model} (/proc/cpuinfo), ${memGiB} GiB RAM, Linux ${os.release()}, Node ${process.version}`;
}

export const today = () => new Date().toISOString().slice(0, 10);

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

/** True when this module is the process's entry point (`node --import tsx bench/x.ts`). */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && path.resolve(entry) === new URL(metaUrl).pathname;
}
