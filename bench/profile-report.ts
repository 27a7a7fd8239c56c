/** Profile summaries as tables, with time shown as microseconds of one operation. */
import type { ProfileSummary, TimeShare } from './cpu-profile.ts';
import { table } from './format.ts';

const TOP_AREAS = 10;
const TOP_FUNCTIONS = 12;
const TOP_OTHERS = 5;

/**
 * The stages, the areas and the hottest functions of a profile (the stages alone when asked);
 * each share of the profile is also shown as microseconds of an operation that costs
 * `usPerOperation` in all.
 */
export function profileTables(
  summary: ProfileSummary,
  usPerOperation: number,
  operation: string,
  { stagesOnly = false } = {},
): string {
  const perOperation = (share: TimeShare) => [
    share.name,
    `${((100 * share.ms) / summary.totalMs).toFixed(1)}%`,
    ((usPerOperation * share.ms) / summary.totalMs).toFixed(2),
  ];
  const header = (what: string) => [what, 'share', `µs/${operation}`];

  const stages = table(
    header('stage (innermost on the stack), then the rest by area'),
    stageShares(summary).map(perOperation),
  );
  if (stagesOnly) return stages;

  const areas = summary.areas.slice(0, TOP_AREAS).map(perOperation);
  const functions = summary.functions.slice(0, TOP_FUNCTIONS).map(perOperation);
  return [
    stages,
    '',
    table(header('area (self time)'), areas),
    '',
    table(header('function (self time)'), functions),
  ].join('\n');
}

/** The stages, then the time in no stage by area: the largest few, and the rest together. */
function stageShares(summary: ProfileSummary): TimeShare[] {
  const others = summary.unstaged.slice(0, TOP_OTHERS);
  const rest = summary.unstaged.slice(TOP_OTHERS).reduce((sum, share) => sum + share.ms, 0);
  return [
    ...summary.stages,
    ...others.map((other) => ({ ...other, name: `other: ${other.name}` })),
    { name: 'other: the rest', ms: rest },
  ];
}
