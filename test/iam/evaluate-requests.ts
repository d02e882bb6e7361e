/**
 * Evaluates IAM requests against identity policies with a real IAM policy evaluator (@cloud-copilot/iam-simulate).
 * Reads `{ "account": "...", "principal": "<role ARN>", "policies": [{ "name", "policy" }], "requests": [{ "action",
 * "resource", "context"?, "resourcePolicy"? }] }` from stdin and prints one `{ "decision": "Allowed"|"ImplicitlyDenied"|..., "errors"? }` per
 * request, in order. The Python proofs (test/python/ml) record the AWS calls of real DAG runs and ask this script.
 */
import * as fs from 'fs';
import { runSimulation } from '@cloud-copilot/iam-simulate';

interface Input {
  readonly account: string;
  readonly principal: string;
  readonly policies: Array<{ name: string; policy: unknown }>;
  readonly requests: Array<{
    action: string;
    resource: string;
    context?: Record<string, string | string[]>;
    /** The resource's own policy (a KMS key policy is required: KMS allows nothing without it). */
    resourcePolicy?: unknown;
  }>;
}

async function main(): Promise<void> {
  const input: Input = JSON.parse(fs.readFileSync(0, 'utf-8'));
  const decisions = [];
  for (const request of input.requests) {
    const result = await runSimulation({
      identityPolicies: input.policies.map((p) => ({ name: p.name, policy: p.policy as any })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy as any } : {}),
      request: {
        principal: input.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: input.account },
        contextVariables: request.context ?? {},
      },
    } as any, {});
    if (result.resultType === 'error') {
      decisions.push({ decision: 'Error', errors: result.errors });
    } else {
      decisions.push({ decision: result.overallResult });
    }
  }
  process.stdout.write(JSON.stringify(decisions));
}

main().catch((error) => {
  process.stderr.write(String(error?.stack ?? error));
  process.exit(1);
});
