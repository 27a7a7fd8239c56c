/** CPU profiles through the inspector, and where their time goes. */
import type { Profiler } from 'node:inspector';
import { Session } from 'node:inspector/promises';

/** A profile as the V8 inspector gives it. */
export type CpuProfile = Profiler.Profile;

type CallFrame = Profiler.ProfileNode['callFrame'];

/**
 * A named part of the work, found by a function on the stack (`name file`, no line). A sample
 * counts for the innermost stage on its stack only, so stages add up.
 */
export interface ProfileStage {
  name: string;
  /** Matches a stack frame's label, such as `/^hashKey src\/core\/hashing\.ts$/`. */
  frame: RegExp;
}

/** An amount of profiled time, in milliseconds of samples. */
export interface TimeShare {
  name: string;
  ms: number;
}

/** Where profiled time went; idle time and the profiler's own calls are left out. */
export interface ProfileSummary {
  totalMs: number;
  /** Time under the frames the caller asked to leave out, not in `totalMs`. */
  leftOutMs: number;
  /** Self time by package, source folder or runtime part, largest first. */
  areas: TimeShare[];
  /** Self time by function, largest first; a native function is named with its caller. */
  functions: TimeShare[];
  /** Time in each stage, in the order the stages were given. */
  stages: TimeShare[];
  /** Self time by area of the samples in no stage, largest first. */
  unstaged: TimeShare[];
}

/** What a sample at a node counts towards. */
interface NodeInfo {
  area: string;
  label: string;
  /** The index of the innermost stage on the stack, if any. */
  stage: number | undefined;
  /** Under the profiler's own start or stop call. */
  profiler: boolean;
  /** Under a frame the caller asked to leave out. */
  leftOut: boolean;
}

const PROFILER_FRAME = /^\S+ bench\/cpu-profile\.ts$/;

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

/**
 * Sums a profile's samples by area, by function and by stage; samples under a frame that
 * `leaveOut` matches are only counted in `leftOutMs`.
 */
export function summarizeProfile(
  profile: CpuProfile,
  stages: readonly ProfileStage[] = [],
  leaveOut?: RegExp,
): ProfileSummary {
  const infos = nodeInfos(profile.nodes, stages, leaveOut);
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const unstaged = new Map<string, number>();
  const stageUs = stages.map(() => 0);
  let totalUs = 0;
  let leftOutUs = 0;

  const deltas = profile.timeDeltas ?? [];
  (profile.samples ?? []).forEach((id, index) => {
    const info = infos.get(id);
    const us = Math.max(0, deltas[index] ?? 0);
    if (!info || info.profiler || info.label === '(idle)') return;
    if (info.leftOut) {
      leftOutUs += us;
      return;
    }
    totalUs += us;
    add(areas, info.area, us);
    add(functions, info.label, us);
    if (info.stage === undefined) add(unstaged, info.area, us);
    else stageUs[info.stage] = (stageUs[info.stage] ?? 0) + us;
  });

  return {
    totalMs: totalUs / 1000,
    leftOutMs: leftOutUs / 1000,
    areas: largestFirst(areas),
    functions: largestFirst(functions),
    stages: stages.map((stage, index) => ({ name: stage.name, ms: (stageUs[index] ?? 0) / 1000 })),
    unstaged: largestFirst(unstaged),
  };
}

/** The label, area and innermost stage of every node. */
function nodeInfos(
  nodes: readonly Profiler.ProfileNode[],
  stages: readonly ProfileStage[],
  leaveOut: RegExp | undefined,
): Map<number, NodeInfo> {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const infos = new Map<number, NodeInfo>();
  const visit = (id: number, parent: NodeInfo | undefined) => {
    const node = byId.get(id);
    if (!node) return;
    const label = frameLabel(node.callFrame);
    const own = stages.findIndex((stage) => stage.frame.test(label));
    const info: NodeInfo = {
      area: areaOf(node.callFrame),
      label: isNative(node.callFrame) && parent ? `${label} ← ${parent.label}` : label,
      stage: own >= 0 ? own : parent?.stage,
      profiler: (parent?.profiler ?? false) || PROFILER_FRAME.test(label),
      leftOut: (parent?.leftOut ?? false) || (leaveOut?.test(label) ?? false),
    };
    infos.set(id, info);
    for (const child of node.children ?? []) visit(child, info);
  };
  const root = nodes[0];
  if (root) visit(root.id, undefined);
  return infos;
}

function isNative(frame: CallFrame): boolean {
  return frame.url === '' && !frame.functionName.startsWith('(');
}

function add(totals: Map<string, number>, key: string, us: number): void {
  totals.set(key, (totals.get(key) ?? 0) + us);
}

function largestFirst(totals: Map<string, number>): TimeShare[] {
  return [...totals].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
}

/** A function and its file, such as `hashKey src/core/hashing.ts`; natives have no file. */
function frameLabel(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url === '' ? name : `${name} ${shortUrl(frame.url)}`;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const source = url.search(/\/(src|bench)\//);
  if (source >= 0) return url.slice(source + 1);
  return url.replace(/^file:\/\//, '');
}

/** The package, keygate source folder or runtime part a frame belongs to. */
function areaOf(frame: CallFrame): string {
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
