/**
 * The layer rules of DESIGN §3: entry points → services → core, and backends (store, counters)
 * that services reach only through their interfaces. `src/server` is the composition root:
 * the one entry point that builds backends and mounts the HTTP app; `keygate serve` starts it.
 */
const ENTRY = '^src/(cli|http|gateway|middleware|client|web|server)/';

module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'core imports nothing of the project outside core',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'backends-use-core-only',
      comment: 'store and counters may use core, and their own folder',
      severity: 'error',
      from: { path: '^src/(store|counters)/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/$1/'] },
    },
    {
      name: 'services-reach-backends-through-interfaces',
      comment: 'services import core, services and the backend interfaces, never an implementation',
      severity: 'error',
      from: { path: '^src/services/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/core/',
          '^src/services/',
          '^src/store/types\\.ts$',
          '^src/counters/types\\.ts$',
        ],
      },
    },
    {
      name: 'nothing-imports-an-entry-point',
      comment: 'core, services and backends never import an entry point',
      severity: 'error',
      from: { path: '^src/(core|services|store|counters)/' },
      to: { path: ENTRY },
    },
    {
      name: 'entry-points-stay-apart',
      comment:
        'an entry point imports no other, except the composition root (server → http) and `keygate serve` (cli → server)',
      severity: 'error',
      from: { path: '^src/(http|gateway|middleware|client|web)/' },
      to: { path: ENTRY, pathNot: '^src/$1/' },
    },
    {
      name: 'cli-starts-only-the-server',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: ENTRY, pathNot: ['^src/cli/', '^src/server/'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
