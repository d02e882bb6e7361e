import type { MWAAClient } from '@aws-sdk/client-mwaa';
import { boundedCopy, DagRunRequest, parseTriggerInput } from './dag-run-request';
import { InvokeRestApiCommand, RestApiClientException, RestApiServerException } from './invoke-rest-api-command';

/**
 * What happened to one event. Every invocation logs exactly one record with one of these outcomes and `final: true`;
 * the construct's metric filters count only those (`$.message.final IS TRUE`). Retries in between log
 * `outcome: 'retrying'` with `final: false`.
 * - `triggered`: Airflow created the run.
 * - `already_triggered`: Airflow already has a run with this id (a redelivery or a retry after a timeout).
 * - `rejected`: the event or the DAG cannot be triggered as asked (malformed event, unknown DAG, Airflow refused);
 *   logged with the reason and the whole input, counted, and not retried.
 * - `failed`: the environment could not be reached or did not answer in time (throttling, 5xx, updating, IAM,
 *   timeouts); logged before the invocation's deadline, then the handler throws, so Lambda retries the event and
 *   finally hands it to the dead-letter queue.
 */
export type TriggerOutcome = 'triggered' | 'already_triggered' | 'rejected' | 'failed';

export interface TriggerResult {
  readonly outcome: Exclude<TriggerOutcome, 'failed'>;
  readonly dagId?: string;
  readonly dagRunId?: string;
  readonly reason?: string;
}

/** Thrown on purpose when an event should be retried; the only error the handler lets escape. */
export class RetryableTriggerError extends Error {
  constructor(message: string, readonly reason: string) {
    super(message);
    this.name = 'RetryableTriggerError';
  }
}

export interface Logger {
  info(record: object): void;
  warn(record: object): void;
  error(record: object): void;
}

export interface TriggerDependencies {
  readonly client: Pick<MWAAClient, 'send'>;
  readonly environmentName: string;
  /** @default console (Lambda's JSON log format turns each object into the record's `message`) */
  readonly log?: Logger;
  /** Attempts per invocation for retryable answers before the invocation fails. @default 3 */
  readonly attempts?: number;
  /** First backoff delay; doubled per attempt, with jitter. @default 500 ms */
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How much of the invocation to leave for logging the outcome and returning: every attempt is cut off this long
   * before Lambda's deadline. @default 5_000 ms
   */
  readonly safetyMarginMs?: number;
}

export interface InvocationContext {
  getRemainingTimeInMillis?(): number;
}

type Verdict =
  | { readonly kind: 'created' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'reject'; readonly reason: string; readonly status?: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number };

const SAFETY_MARGIN_MS = 5_000;

export function createTrigger(deps: TriggerDependencies) {
  const log = deps.log ?? console;
  const attempts = Math.max(1, deps.attempts ?? 3);
  const baseDelayMs = deps.baseDelayMs ?? 500;
  const margin = deps.safetyMarginMs ?? SAFETY_MARGIN_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  return async function trigger(input: unknown, context?: InvocationContext): Promise<TriggerResult> {
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = typeof remaining === 'number' ? Date.now() + remaining - margin : Number.POSITIVE_INFINITY;
    const parsed = parseTriggerInput(input);
    if (!parsed.ok) {
      log.warn({ outcome: 'rejected', final: true, reason: 'malformed_event', detail: parsed.reason, environment: deps.environmentName, input: boundedCopy(input) });
      return { outcome: 'rejected', reason: parsed.reason };
    }
    const request = parsed.request;
    const fields = {
      environment: deps.environmentName,
      dagId: request.dagId,
      dagRunId: request.dagRunId,
      sourceKind: request.kind,
      eventId: request.eventId,
    };

    let verdict: Verdict = { kind: 'retry', reason: 'no_time_left' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const budget = deadline - Date.now();
      if (budget <= 0) break;
      verdict = await invoke(deps, request, budget);
      if (verdict.kind !== 'retry') break;
      const delay = baseDelayMs * 2 ** (attempt - 1) * (1 + Math.random() * 0.2);
      if (attempt === attempts || Date.now() + delay >= deadline) break;
      log.warn({ ...fields, outcome: 'retrying', final: false, reason: verdict.reason, status: verdict.status, attempt });
      await sleep(delay);
    }

    const final = { ...fields, final: true };
    switch (verdict.kind) {
      case 'created':
        log.info({ ...final, outcome: 'triggered' });
        return { outcome: 'triggered', dagId: request.dagId, dagRunId: request.dagRunId };
      case 'duplicate':
        log.info({ ...final, outcome: 'already_triggered' });
        return { outcome: 'already_triggered', dagId: request.dagId, dagRunId: request.dagRunId };
      case 'reject':
        log.warn({ ...final, outcome: 'rejected', reason: verdict.reason, status: verdict.status, input: boundedCopy(input) });
        return { outcome: 'rejected', dagId: request.dagId, dagRunId: request.dagRunId, reason: verdict.reason };
      default:
        log.error({ ...final, outcome: 'failed', reason: verdict.reason, status: verdict.status });
        throw new RetryableTriggerError(
          `Could not start DAG run ${request.dagRunId} of ${request.dagId} on ${deps.environmentName}: ${verdict.reason}`,
          verdict.reason,
        );
    }
  };
}

/**
 * One InvokeRestApi call, cut off after `budgetMs`: the request is aborted, and should the client not settle on the
 * abort, the attempt ends anyway, so the outcome is always logged before Lambda's deadline.
 */
async function invoke(deps: TriggerDependencies, request: DagRunRequest, budgetMs: number): Promise<Verdict> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Verdict>((resolve) => {
    if (!Number.isFinite(budgetMs)) return;
    timer = setTimeout(() => {
      controller.abort();
      resolve({ kind: 'retry', reason: 'mwaa_timeout' });
    }, budgetMs);
  });
  const call = deps.client.send(
    new InvokeRestApiCommand({
      Name: deps.environmentName,
      Method: 'POST',
      Path: `/dags/${request.dagId}/dagRuns`,
      // Airflow 3 rejects unknown fields (422) and needs logical_date present; null means "now, no data interval".
      Body: { dag_run_id: request.dagRunId, logical_date: null, conf: request.conf } as any,
    }) as any,
    { abortSignal: controller.signal } as any,
  ).then(
    (): Verdict => ({ kind: 'created' }),
    (err: unknown): Verdict => (controller.signal.aborted ? { kind: 'retry', reason: 'mwaa_timeout' } : classify(err)),
  );
  try {
    return await Promise.race([call, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Airflow's answer about this request decides reject vs duplicate; anything about reaching Airflow is retried. */
export function classify(err: unknown): Verdict {
  if (err instanceof RestApiClientException || nameOf(err) === 'RestApiClientException') {
    const status = (err as RestApiClientException).RestApiStatusCode;
    if (status === 409) return { kind: 'duplicate' };
    if (status === 408 || status === 429) return { kind: 'retry', reason: 'airflow_busy', status };
    if (status === 404) return { kind: 'reject', reason: 'dag_not_found', status };
    if (status === 401 || status === 403) return { kind: 'reject', reason: 'forbidden_by_airflow', status };
    return { kind: 'reject', reason: 'rejected_by_airflow', status };
  }
  if (err instanceof RestApiServerException || nameOf(err) === 'RestApiServerException') {
    return { kind: 'retry', reason: 'airflow_server_error', status: (err as RestApiServerException).RestApiStatusCode };
  }
  const name = nameOf(err) ?? 'unknown_error';
  // MWAA-level errors (IAM denied, environment missing or not available, throttling, 5xx, network) say nothing about
  // the event: it stays good, so it is retried and, if that keeps failing, kept in the dead-letter queue for replay.
  return { kind: 'retry', reason: `mwaa_${name}` };
}

function nameOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
    ? (err as { name: string }).name
    : undefined;
}
