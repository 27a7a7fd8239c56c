/**
 * `npm run bench`: keygate's verification measured against baselines from the same run.
 * (a) HTTP verify against a lean node:http verifier and a bare node:http server, and of a key
 * with rate limits and credits against a plain key;
 * (b) in-process verify of a cached key against hashing the key alone;
 * (c) resident memory with many distinct keys and the bounded cache;
 * (d) the in-memory rate limiter against rate-limiter-flexible's RateLimiterMemory;
 * (e) a 30-day hourly usage query over many recorded verifications against one over few.
 */
import os from 'node:os';
import { count } from './format.ts';
import { runHttpBench } from './http-bench.ts';
import { profileKeygateAndLean } from './http-profile.ts';
import { type HttpVerdict, httpTables, judgeHttp, serverProfileTables } from './http-report.ts';
import { benchLimiter } from './limiter-bench.ts';
import { judgeLimiter, type LimiterVerdict, limiterTables } from './limiter-report.ts';
import { runMemoryBench } from './memory-bench.ts';
import { judgeMemory, type MemoryVerdict, memoryTables } from './memory-report.ts';
import { type BenchOptions, parseBenchOptions, UsageError } from './options.ts';
import { cleanUp, removeStaleTempDirs } from './processes.ts';
import { type BenchVerdicts, readmeBlock } from './readme-block.ts';
import { targetLines } from './summary.ts';
import { runUsageBench } from './usage-bench.ts';
import { judgeUsage, type UsageVerdict, usageTables } from './usage-report.ts';
import { runVerifyBench } from './verify-bench.ts';
import { judgeVerify, type VerifyVerdict, verifyTables } from './verify-report.ts';

const say = (text = '') => console.log(text);
const RULE = `\n${'═'.repeat(100)}\n`;

/** Part (a), then a profile of keygate when it misses a target or a profile is asked for. */
async function httpPart(options: BenchOptions): Promise<HttpVerdict> {
  const { rounds, warmupSeconds, seconds, connections, pipelining } = options.http;
  say(`(a) HTTP POST /v1/keys/verify: ${rounds} interleaved rounds, each target`);
  const shape = `${connections} connections, pipelining ${pipelining}`;
  say(`    ${warmupSeconds} s warm-up + ${seconds} s, ${shape}`);
  const result = await runHttpBench(options.http, say);
  const judged = judgeHttp(result);
  say(`\n${httpTables(result, judged)}`);

  const { infoThroughput, infoP99 } = judged.comparisons;
  if (options.profile || !infoThroughput.met || !infoP99.met) {
    const profiles = await profileKeygateAndLean(options.http);
    say(`\n${serverProfileTables(profiles, judged)}`);
  }
  return judged;
}

/** Part (b), with where the time goes when it misses its target or a profile is asked for. */
async function verifyPart(options: BenchOptions): Promise<VerifyVerdict> {
  const { pairs, batchMs } = options.verify;
  say(
    `(b) In process: cached verify against hashKey alone, ${pairs} pairs of ~${batchMs} ms batches`,
  );
  const result = await runVerifyBench(options.verify, options.profile);
  const judged = judgeVerify(result);
  say(`\n${verifyTables(result, judged)}`);
  return judged;
}

/** Part (c). */
async function memoryPart(options: BenchOptions): Promise<MemoryVerdict> {
  const keys = (options.memory.checkpoints.at(-1) ?? 0).toLocaleString('en-US');
  const bound = options.memory.cacheMaxEntries.toLocaleString('en-US');
  say(`(c) Memory: ${keys} distinct stored keys verified once each, cache bound ${bound},`);
  say('    in a fresh process started with --expose-gc');
  const result = await runMemoryBench(options.memory, say);
  const judged = judgeMemory(result);
  say(`\n${memoryTables(result, judged)}`);
  return judged;
}

/** Part (d). */
async function limiterPart(options: BenchOptions): Promise<LimiterVerdict> {
  const { keys, batch, rounds } = options.limiter;
  say('(d) Rate limiter in process: MemoryCounters.consume against RateLimiterMemory.consume,');
  const shape = `${rounds} pairs of ${count(batch)}-call batches`;
  say(`    one limit per call, no denials, over ${count(keys)} keys: ${shape}`);
  const result = await benchLimiter(options.limiter);
  const judged = judgeLimiter(result);
  say(`\n${limiterTables(result, judged)}`);
  return judged;
}

/** Part (e). */
async function usagePart(options: BenchOptions): Promise<UsageVerdict> {
  const { fewVerifications, manyVerifications, keys, runs } = options.usage;
  const sizes = `${count(manyVerifications)} verifications against ${count(fewVerifications)}`;
  say(`(e) Usage in process: a 30-day hourly query over ${sizes} recorded,`);
  say(`    one SQLite store each, over ${count(keys)} keys; ${runs} runs of each query, in turn`);
  const result = await runUsageBench(options.usage, say);
  const judged = judgeUsage(result);
  say(`\n${usageTables(result, judged)}`);
  return judged;
}

async function runParts(options: BenchOptions): Promise<BenchVerdicts> {
  const verdicts: BenchVerdicts = {};
  if (options.parts.has('http')) {
    say(RULE);
    verdicts.http = await httpPart(options);
  }
  if (options.parts.has('verify')) {
    say(RULE);
    verdicts.verify = await verifyPart(options);
  }
  if (options.parts.has('memory')) {
    say(RULE);
    verdicts.memory = await memoryPart(options);
  }
  if (options.parts.has('limiter')) {
    say(RULE);
    verdicts.limiter = await limiterPart(options);
  }
  if (options.parts.has('usage')) {
    say(RULE);
    verdicts.usage = await usagePart(options);
  }
  return verdicts;
}

/** Runs the parts asked for and prints the report; answers the exit status. */
async function main(): Promise<number> {
  const options = parseBenchOptions(process.argv.slice(2));
  await removeStaleTempDirs();
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `Node ${process.version}, ${os.cpus().length} cores, ${cpu}`;
  say(`keygate bench${options.quick ? ' --quick' : ''}: ${machine}`);

  const verdicts = await runParts(options);
  say(RULE);
  say('Targets:');
  for (const line of targetLines(verdicts)) say(line);
  say(`\n${readmeBlock(options, verdicts)}`);
  return (verdicts.http?.failedRequests ?? 0) > 0 ? 1 : 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanUp().finally(() => process.exit(130));
  });
}
try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
} finally {
  await cleanUp();
}
