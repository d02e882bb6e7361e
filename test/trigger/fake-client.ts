import type { InvokeRestApiInput } from '../../src/trigger/runtime/invoke-rest-api';
import type { StartWorkflowRunInput, StartWorkflowRunOutput } from '../../src/trigger/runtime/start-workflow-run';
import type { TriggerClient } from '../../src/trigger/runtime/trigger-dag-run';

type Answer = { readonly value: unknown } | { readonly error: unknown };

/** One scripted operation: answers given once come first, then the standing answer; every input is recorded. */
export class ScriptedCall<I> {
  readonly calls: I[] = [];
  private readonly onceAnswers: Answer[] = [];
  private standing: Answer = { error: new Error('no answer scripted') };

  resolves(value: unknown): this {
    this.standing = { value };
    return this;
  }
  rejects(error: unknown): this {
    this.standing = { error };
    return this;
  }
  resolvesOnce(value: unknown): this {
    this.onceAnswers.push({ value });
    return this;
  }
  rejectsOnce(error: unknown): this {
    this.onceAnswers.push({ error });
    return this;
  }
  async answer(input: I): Promise<any> {
    this.calls.push(input);
    const next = this.onceAnswers.shift() ?? this.standing;
    if ('error' in next) throw next.error;
    return next.value;
  }
}

/** A stand-in for the handler's two calls, in the unit tests of the trigger logic. */
export class FakeClient implements TriggerClient {
  readonly restApi = new ScriptedCall<InvokeRestApiInput>();
  readonly workflowRun = new ScriptedCall<StartWorkflowRunInput>();

  invokeRestApi(input: InvokeRestApiInput): Promise<unknown> {
    return this.restApi.answer(input);
  }
  startWorkflowRun(input: StartWorkflowRunInput): Promise<StartWorkflowRunOutput> {
    return this.workflowRun.answer(input);
  }
}
