import { boundedCopy, clientToken, DagRunRequest, parseTriggerInput } from './dag-run-request';
import { InvokeRestApiInput, RestApiClientException, RestApiServerException } from './invoke-rest-api';
import type { StartWorkflowRunInput, StartWorkflowRunOutput } from './start-workflow-run';

/**
 * What happened to one event. Every invocation logs exactly one record with one of these outcomes and `final: true`;
 * the construct's metric filters count only those (`$.message.final IS TRUE`). Retries in between log
 * `outcome: 'retrying'` with `final: false`.
 * - `triggered`: Airflow created the run; or MWAA Serverless answered StartWorkflowRun with a run (a new one, or,
 *   for a ClientToken it already knows with the same parameters, the original run: the answer does not say which,
 *   so a redelivery inside the token's window counts here too, with the same `workflowRunId`).
 * - `already_triggered`: Airflow already has a run with this id (a redelivery or a retry after a timeout); MWAA
 *   Serverless answered ConflictException (assumed: the ClientToken was used before with other parameters, e.g. a
 *   delivery of the same happening with another event id; unproven against the service).
 * - `rejected`: the event or the target cannot be triggered as asked (malformed event or workflow ARN, unknown DAG
 *   or workflow, Airflow or MWAA Serverless refused the request as invalid); logged with the reason and the whole
 *   input, counted, and not retried.
 * - `failed`: the service could not be reached or did not answer in time (throttling, quotas, 5xx, environment
 *   updating, IAM denied, timeouts); logged before the invocation's deadline, then the handler throws, so Lambda
 *   retries the event and finally hands it to the dead-letter queue (after an IAM fix, a replay succeeds).
 */
export type TriggerOutcome = 'triggered' | 'already_triggered' | 'rejected' | 'failed';

export interface TriggerResult {
  readonly outcome: Exclude<TriggerOutcome, 'failed'>;
  readonly dagId?: string;
  readonly workflowArn?: string;
  /** The deterministic run id (Airflow's `dag_run_id`). */
  readonly dagRunId?: string;
  /** The StartWorkflowRun ClientToken (workflow targets): `dagRunId`, shortened to 128 characters if longer. */
  readonly clientToken?: string;
  /** The run MWAA Serverless started (or returned for a known ClientToken). */
  readonly workflowRunId?: string;
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

/** The two calls the trigger makes: one per kind of target. The handler builds them on one signing core. */
export interface TriggerClient {
  invokeRestApi(input: InvokeRestApiInput, options: { abortSignal: AbortSignal }): Promise<unknown>;
  startWorkflowRun(input: StartWorkflowRunInput, options: { abortSignal: AbortSignal }): Promise<StartWorkflowRunOutput>;
}

export interface TriggerDependencies {
  readonly client: TriggerClient;
  /** The MWAA environment of DAG targets. @default - none: inputs naming a dagId are rejected (`no_environment`) */
  readonly environmentName?: string;
  /**
   * The `environment` field of every record: the metric filters' `Environment` dimension.
   * @default - `environmentName`, else `serverless`
   */
  readonly metricDimension?: string;
  /** @default console (Lambda's JSON log format turns each object into the record's `message`) */
  readonly log?: Logger;
  /** Attempts per invocation for retryable answers before the invocation fails. @default 3 */
  readonly attempts?: number;
  /** First backoff delay; doubled per attempt, with jitter; at least a throttling answer's `RetryAfterSeconds`. @default 500 ms */
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
  | { readonly kind: 'created'; readonly workflowRunId?: string }
  | { readonly kind: 'duplicate'; readonly reason?: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly status?: number; readonly detail?: string }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number };

const SAFETY_MARGIN_MS = 5_000;

export function createTrigger(deps: TriggerDependencies) {
  const log = deps.log ?? console;
  const attempts = Math.max(1, deps.attempts ?? 3);
  const baseDelayMs = deps.baseDelayMs ?? 500;
  const margin = deps.safetyMarginMs ?? SAFETY_MARGIN_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const dimension = deps.metricDimension ?? deps.environmentName ?? 'serverless';

  return async function trigger(input: unknown, context?: InvocationContext): Promise<TriggerResult> {
    const remaining = context?.getRemainingTimeInMillis?.();
    const deadline = typeof remaining === 'number' ? Date.now() + remaining - margin : Number.POSITIVE_INFINITY;
    const parsed = parseTriggerInput(input);
    if (!parsed.ok) {
      log.warn({ outcome: 'rejected', final: true, reason: 'malformed_event', detail: parsed.reason, environment: dimension, input: boundedCopy(input) });
      return { outcome: 'rejected', reason: parsed.reason };
    }
    const request = parsed.request;
    const token = request.target.kind === 'workflow' ? clientToken(request.dagRunId) : undefined;
    const ids = request.target.kind === 'dag'
      ? { dagId: request.dagId, dagRunId: request.dagRunId }
      : { workflowArn: request.workflowArn, dagRunId: request.dagRunId, clientToken: token };
    const fields = { environment: dimension, ...ids, sourceKind: request.kind, eventId: request.eventId };

    if (request.target.kind === 'dag' && !deps.environmentName) {
      const reason = 'no_environment';
      log.warn({ ...fields, final: true, outcome: 'rejected', reason, detail: 'the DagTrigger was created without an MWAA environment; a rule names a dagId', input: boundedCopy(input) });
      return { outcome: 'rejected', ...ids, reason };
    }

    let verdict: Verdict = { kind: 'retry', reason: 'no_time_left' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const budget = deadline - Date.now();
      if (budget <= 0) break;
      verdict = await invoke(deps, request, token, budget);
      if (verdict.kind !== 'retry') break;
      const backoff = baseDelayMs * 2 ** (attempt - 1) * (1 + Math.random() * 0.2);
      const delay = Math.max(backoff, verdict.retryAfterMs ?? 0);
      if (attempt === attempts || Date.now() + delay >= deadline) break;
      log.warn({ ...fields, outcome: 'retrying', final: false, reason: verdict.reason, status: verdict.status, attempt, delayMs: Math.round(delay) });
      await sleep(delay);
    }

    const final = { ...fields, final: true };
    switch (verdict.kind) {
      case 'created':
        log.info({ ...final, outcome: 'triggered', workflowRunId: verdict.workflowRunId });
        return { outcome: 'triggered', ...ids, ...(verdict.workflowRunId ? { workflowRunId: verdict.workflowRunId } : {}) };
      case 'duplicate':
        log.info({ ...final, outcome: 'already_triggered', reason: verdict.reason });
        return { outcome: 'already_triggered', ...ids };
      case 'reject':
        log.warn({ ...final, outcome: 'rejected', reason: verdict.reason, status: verdict.status, detail: verdict.detail, input: boundedCopy(input) });
        return { outcome: 'rejected', ...ids, reason: verdict.reason };
      default: {
        log.error({ ...final, outcome: 'failed', reason: verdict.reason, status: verdict.status });
        const what = request.target.kind === 'dag'
          ? `DAG run ${request.dagRunId} of ${request.dagId} on ${deps.environmentName}`
          : `a run of ${request.workflowArn} (ClientToken ${token})`;
        throw new RetryableTriggerError(`Could not start ${what}: ${verdict.reason}`, verdict.reason);
      }
    }
  };
}

/**
 * One call, cut off after `budgetMs`: the request is aborted, and should the client not settle on the abort, the
 * attempt ends anyway, so the outcome is always logged before Lambda's deadline.
 */
async function invoke(deps: TriggerDependencies, request: DagRunRequest, token: string | undefined, budgetMs: number): Promise<Verdict> {
  const controller = new AbortController();
  const serverless = request.target.kind === 'workflow';
  const timeout: Verdict = { kind: 'retry', reason: serverless ? 'serverless_timeout' : 'mwaa_timeout' };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Verdict>((resolve) => {
    if (!Number.isFinite(budgetMs)) return;
    timer = setTimeout(() => {
      controller.abort();
      resolve(timeout);
    }, budgetMs);
  });
  const options = { abortSignal: controller.signal };
  const call: Promise<Verdict> = request.target.kind === 'workflow'
    ? deps.client.startWorkflowRun({ WorkflowArn: request.target.workflowArn, ClientToken: token, OverrideParameters: request.conf }, options).then(
      (output): Verdict => ({ kind: 'created', workflowRunId: typeof output?.RunId === 'string' ? output.RunId : undefined }),
      (err: unknown): Verdict => (controller.signal.aborted ? timeout : classifyServerless(err)),
    )
    : deps.client.invokeRestApi({
      Name: deps.environmentName!,
      Method: 'POST',
      Path: `/dags/${request.target.dagId}/dagRuns`,
      // Airflow 3 rejects unknown fields (422) and needs logical_date present; null means "now, no data interval".
      Body: { dag_run_id: request.dagRunId, logical_date: null, conf: request.conf },
    }, options).then(
      (): Verdict => ({ kind: 'created' }),
      (err: unknown): Verdict => (controller.signal.aborted ? timeout : classify(err)),
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

/**
 * MWAA Serverless's answer to StartWorkflowRun (the chosen outcomes; README "DagTrigger: serverless workflows"):
 * - ConflictException: `already_triggered`. Assumed, not proven against the service: a ClientToken reused with the
 *   same parameters returns the original run (200), so a conflict on our deterministic token means it was used
 *   before with other parameters (another delivery of the same happening carries another event id and time), i.e.
 *   the happening already has its run.
 * - ValidationException: `rejected` (`rejected_by_service`, with its `Reason` and message): the same request would
 *   fail again.
 * - ResourceNotFoundException: `rejected` (`workflow_not_found`), like Airflow's 404 for an unknown DAG.
 * - AccessDeniedException: retried, then `failed`: the event stays good, and once the IAM policy is fixed a replay from
 *   the dead-letter queue succeeds.
 * - ThrottlingException, ServiceQuotaExceededException (e.g. concurrent runs), InternalServerException,
 *   OperationTimeoutException, any 5xx, network errors and timeouts: retried with backoff (at least the answer's
 *   `RetryAfterSeconds`, within the deadline), then `failed`.
 */
export function classifyServerless(err: unknown): Verdict {
  const name = nameOf(err) ?? 'unknown_error';
  const e = err as { message?: unknown; Reason?: unknown; RetryAfterSeconds?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 500) : undefined;
  switch (name) {
    case 'ConflictException':
      return { kind: 'duplicate', reason: 'client_token_conflict' };
    case 'ValidationException':
      return { kind: 'reject', reason: 'rejected_by_service', status, detail: [e?.Reason, message].filter((x) => typeof x === 'string').join(': ') || undefined };
    case 'ResourceNotFoundException':
      return { kind: 'reject', reason: 'workflow_not_found', status, detail: message };
    default: {
      const seconds = typeof e?.RetryAfterSeconds === 'number' && Number.isFinite(e.RetryAfterSeconds) ? e.RetryAfterSeconds : undefined;
      return { kind: 'retry', reason: `serverless_${name}`, status, ...(seconds !== undefined && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}) };
    }
  }
}

function nameOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as { name?: unknown }).name === 'string'
    ? (err as { name: string }).name
    : undefined;
}
