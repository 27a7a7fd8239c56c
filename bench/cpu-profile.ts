/** CPU profiles through the inspector, and where their time goes. */
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';

/** A profile as the V8 inspector gives it. */
export type CpuProfile = Profiler.Profile;

/** Where profiled time went, in milliseconds of samples. */
export interface ProfileSummary {
  totalMs: number;
  /** Self time by package, source file group or runtime part, largest first. */
  areas: Array<{ name: string; ms: number }>;
  /** Self time by function, largest first. */
  functions: Array<{ name: string; ms: number }>;
  /** Time with the function on the stack, by function, largest first. */
  inclusive: Array<{ name: string; ms: number }>;
}

/** Starts sampling this process every `intervalUs`; the returned function stops and answers. */
export async function startCpuProfile(intervalUs = 100): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');

  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile;
  };
}

/** Sums a profile's samples by area and by function, self and inclusive. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = parentsOf(profile.nodes);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;

  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, index) => {
    const node = nodes.get(id);
    const us = Math.max(0, deltas[index] ?? 0);
    if (!node || node.callFrame.functionName === '(idle)') return;
    totalUs += us;
    add(areas, areaOf(node.callFrame), us);
    add(functions, functionLabel(node.callFrame), us);
    for (const label of stackLabels(id, nodes, parents)) add(inclusive, label, us);
  });

  return {
    totalMs: totalUs / 1000,
    areas: largestFirst(areas),
    functions: largestFirst(functions),
    inclusive: largestFirst(inclusive),
  };
}

function parentsOf(nodes: readonly Profiler.ProfileNode[]): Map<number, number> {
  const parents = new Map<number, number>();
  for (const node of nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  return parents;
}

/** The distinct functions on the stack of a sample, each once even when recursive. */
function stackLabels(
  leaf: number,
  nodes: Map<number, Profiler.ProfileNode>,
  parents: Map<number, number>,
): Set<string> {
  const labels = new Set<string>();
  for (let id: number | undefined = leaf; id !== undefined; id = parents.get(id)) {
    const node = nodes.get(id);
    if (node && node.callFrame.functionName !== '(root)') labels.add(functionLabel(node.callFrame));
  }
  return labels;
}

function add(totals: Map<string, number>, key: string, us: number): void {
  totals.set(key, (totals.get(key) ?? 0) + us);
}

function largestFirst(totals: Map<string, number>): Array<{ name: string; ms: number }> {
  return [...totals]
    .map(([name, us]) => ({ name, ms: us / 1000 }))
    .sort((a, b) => b.ms - a.ms);
}

/** A function and where it is defined, such as `hashKey src/core/hashing.ts:16`. */
function functionLabel(frame: Profiler.CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const source = url.search(/\/(src|bench)\//);
  if (source >= 0) return url.slice(source + 1);
  return url.replace(/^file:\/\//, '');
}

/** The package, keygate source folder or runtime part a frame belongs to. */
function areaOf(frame: Profiler.CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'V8 builtins, native';
  if (url.startsWith('node:')) return nodeArea(url);

  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope = '', name = ''] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const source = url.match(/\/(src\/[^/]+)\//);
  if (source?.[1]) return `keygate ${source[1]}`;
  return url.includes('/bench/') ? 'bench' : 'other';
}

function nodeArea(url: string): string {
  if (/_http_|internal\/http|internal\/url/.test(url)) return 'node: http';
  if (/net|stream|tcp|internal\/(dns|socket)/.test(url)) return 'node: net, streams';
  if (/crypto/.test(url)) return 'node: crypto';
  if (/timers|task_queues|async_hooks|process\//.test(url)) return 'node: timers, ticks';
  if (/events/.test(url)) return 'node: events';
  return 'node: other';
}
