import { runHttpBench } from './http-bench.ts';
import { httpComparisonTable, httpTargetTable, judgeHttp } from './http-report.ts';
import { parseBenchOptions } from './options.ts';
import { cleanUp } from './processes.ts';

const options = parseBenchOptions(process.argv.slice(2));
try {
  const result = await runHttpBench(options.http, (line) => console.log(line));
  console.log(httpTargetTable(result));
  console.log(httpComparisonTable(judgeHttp(result)));
} finally {
  await cleanUp();
}
