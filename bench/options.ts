/** The five parts of the bench, in the order they run. */
export const BENCH_PARTS = ['http', 'verify', 'memory', 'limiter', 'usage'] as const;

/** A part of the bench, as `--only` names it. */
export type BenchPart = (typeof BENCH_PARTS)[number];

/** How long and how often each part measures. */
export interface BenchOptions {
  quick: boolean;
  /** Profile keygate even when every target is met. */
  profile: boolean;
  parts: ReadonlySet<BenchPart>;
  http: {
    rounds: number;
    warmupSeconds: number;
    seconds: number;
    connections: number;
    pipelining: number;
  };
  verify: { pairs: number; batchMs: number };
  memory: {
    /** Counts of distinct keys verified after which memory is measured; the last is stored. */
    checkpoints: number[];
    cacheMaxEntries: number;
  };
  limiter: {
    /** Distinct rate-limit windows the calls go round. */
    keys: number;
    /** Calls per timed batch. */
    batch: number;
    /** Timed batches of each limiter, run in turn after one untimed batch each. */
    rounds: number;
  };
  usage: {
    /** Verifications recorded into the store the large store is compared with. */
    fewVerifications: number;
    /** Verifications recorded into the large store. */
    manyVerifications: number;
    /** Keys the verifications of each store are spread over. */
    keys: number;
    /** Untimed runs of every query on each store before the timed ones. */
    warmupRuns: number;
    /** Timed runs of every query on each store, the two stores in turn. */
    runs: number;
  };
}

const USAGE = `usage: npm run bench -- [--quick] [--profile] [--only <parts>]

  --quick    fewer and shorter rounds, a smaller key set: a smoke run of every part
  --profile  CPU-profile keygate and print where its time goes, even when targets are met
  --only     run only the parts named, comma-separated: http, verify, memory, limiter, usage`;

/** A command line the bench does not understand; the message includes the usage. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads the bench's command line. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let quick = false;
  let profile = false;
  let parts: ReadonlySet<BenchPart> = new Set(BENCH_PARTS);

  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--quick') quick = true;
    else if (arg === '--profile') profile = true;
    else if (arg === '--only') parts = parseParts(argv[++index]);
    else if (arg?.startsWith('--only=')) parts = parseParts(arg.slice('--only='.length));
    else if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    else throw new UsageError(`unknown argument: ${arg}\n\n${USAGE}`);
  }

  return quick ? quickOptions(profile, parts) : fullOptions(profile, parts);
}

function parseParts(list: string | undefined): ReadonlySet<BenchPart> {
  const names = (list ?? '').split(',').filter((name) => name !== '');
  const unknown = names.filter((name) => !BENCH_PARTS.includes(name as BenchPart));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--only takes a list of ${BENCH_PARTS.join(', ')}\n\n${USAGE}`);
  }
  return new Set(names as BenchPart[]);
}

function fullOptions(profile: boolean, parts: ReadonlySet<BenchPart>): BenchOptions {
  return {
    quick: false,
    profile,
    parts,
    http: { rounds: 7, warmupSeconds: 1, seconds: 5, connections: 50, pipelining: 1 },
    verify: { pairs: 15, batchMs: 200 },
    memory: { checkpoints: [1_000, 50_000, 100_000, 150_000, 200_000], cacheMaxEntries: 100_000 },
    limiter: { keys: 10_000, batch: 200_000, rounds: 7 },
    usage: {
      fewVerifications: 10_000,
      manyVerifications: 1_000_000,
      keys: 1_000,
      warmupRuns: 10,
      runs: 101,
    },
  };
}

function quickOptions(profile: boolean, parts: ReadonlySet<BenchPart>): BenchOptions {
  return {
    quick: true,
    profile,
    parts,
    http: { rounds: 2, warmupSeconds: 0.5, seconds: 1.5, connections: 50, pipelining: 1 },
    verify: { pairs: 5, batchMs: 50 },
    memory: { checkpoints: [1_000, 10_000, 20_000, 30_000], cacheMaxEntries: 10_000 },
    limiter: { keys: 10_000, batch: 50_000, rounds: 3 },
    usage: {
      fewVerifications: 1_000,
      manyVerifications: 100_000,
      keys: 1_000,
      warmupRuns: 3,
      runs: 21,
    },
  };
}
