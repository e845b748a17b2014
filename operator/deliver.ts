// `qinling-jobs deliver`: what a dead letter's pod executes (domain/deadletter.ts). It posts the
// CloudEvent in QJ_EVENT to QJ_DEAD_LETTER_URL (structured mode), with the namespace's
// dead-letter token as a Bearer token when one is set, and retries a sink that is down (5xx, 429,
// no answer, no connection) a few times with a doubling wait; past that, exit 11 and the Job
// controller starts another pod later. A refusal (4xx) exits 10 and a bad URL 2: the Job fails
// at once. The token is never printed, nor the URL's path or query.
import { setTimeout as sleep } from 'node:timers/promises';
import { callOnce, EXIT } from './invoke.js';

export const DELIVERY_ATTEMPTS = 3;
const TIMEOUT_MS = 10_000;

export async function runDeliver(
  env: Record<string, string | undefined>,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<number> {
  const raw = env.QJ_DEAD_LETTER_URL ?? '';
  let url: URL;
  try {
    url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    JSON.parse(env.QJ_EVENT ?? '');
  } catch {
    console.error('deliver: QJ_DEAD_LETTER_URL must be an http(s) URL and QJ_EVENT a JSON event');
    return EXIT.misconfigured;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json; charset=utf-8',
    'user-agent': 'qinling-jobs-deliver',
  };
  if (env.QJ_DEAD_LETTER_TOKEN) headers.authorization = `Bearer ${env.QJ_DEAD_LETTER_TOKEN}`;
  let code: number = EXIT.transient;
  for (let n = 1; n <= DELIVERY_ATTEMPTS; n++) {
    const { outcome } = await callOnce({
      url: url.href,
      headers,
      body: env.QJ_EVENT ?? '',
      timeoutMs: TIMEOUT_MS,
    });
    code = outcome.code;
    const said = outcome.message.replace(/^runtime/, 'sink');
    (code === EXIT.ok ? console.log : console.error)(`deliver: ${url.origin} attempt ${n}: ${said}`);
    if (code !== EXIT.transient) break;
    if (n < DELIVERY_ATTEMPTS) await wait(2000 * 2 ** (n - 1));
  }
  return code;
}
