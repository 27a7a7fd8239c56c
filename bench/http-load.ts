import autocannon from 'autocannon';
import { percentile } from './stats.ts';

/** The verification every target is sent: the same path, headers and body. */
export interface VerifyCall {
  /** The target's base URL, such as `http://127.0.0.1:40123`. */
  baseUrl: string;
  rootKey: string;
  key: string;
}

/** How long and how hard to send. */
export interface LoadShape {
  seconds: number;
  connections: number;
  pipelining: number;
}

/** What one load run measured. */
export interface LoadSample {
  /** Valid answers (2xx with `"valid":true`) per second. */
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  answers: number;
  non2xx: number;
  /** Answers whose body did not say `"valid":true`, whatever their status. */
  mismatches: number;
  /** Connection errors and timeouts. */
  errors: number;
}

const VALID_ANSWER = '"valid":true';

/** Sends verifications at a target for `shape.seconds` and measures throughput and latency. */
export async function runVerifyLoad(call: VerifyCall, shape: LoadShape): Promise<LoadSample> {
  const latencies: number[] = [];
  let validAnswers = 0;
  const isValidAnswer = (body: unknown) => {
    const valid = typeof body === 'string' && body.includes(VALID_ANSWER);
    if (valid) validAnswers++;
    return valid;
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${call.baseUrl}/v1/keys/verify`,
        method: 'POST',
        headers: {
          authorization: `Bearer ${call.rootKey}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ key: call.key }),
        connections: shape.connections,
        pipelining: shape.pipelining,
        duration: shape.seconds,
        verifyBody: isValidAnswer,
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });

  return summarizeLoad(result, validAnswers, Float64Array.from(latencies).sort());
}

function summarizeLoad(
  result: autocannon.Result,
  validAnswers: number,
  sortedLatencies: Float64Array,
): LoadSample {
  return {
    requestsPerSecond: validAnswers / result.duration,
    p50Ms: percentile(sortedLatencies, 0.5),
    p99Ms: percentile(sortedLatencies, 0.99),
    answers: sortedLatencies.length,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    errors: result.errors,
  };
}

/** Requests that did not get a valid answer: wrong body (non-2xx included) or no answer. */
export function failedRequests(sample: LoadSample): number {
  return sample.mismatches + sample.errors;
}
