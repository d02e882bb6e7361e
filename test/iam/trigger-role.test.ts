import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { AirflowEnvironment, DagTrigger } from '../../src';
import type { HandlerOptions, Trigger } from '../../src/trigger/dag-trigger.lambda';
import { sampleEvent, triggerInput } from '../trigger/events';

/**
 * The trigger role, against the request the deployed handler signs: the bundled handler (assets/) calls a local
 * endpoint that records each request as it arrives (method, path, SigV4 credential scope). The request names the
 * environment (`POST /restapi/{Name}`), the region and the signing service; MWAA authorizes it as
 * `airflow:InvokeRestApi` on the Airflow role the caller acts as (`arn:aws:airflow:<region>:<account>:role/<env>/<role>`,
 * not named in the request: the least role that can create DAG runs, `User`). That request is evaluated with
 * @cloud-copilot/iam-simulate against the trigger function's synthesized role.
 */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'trigger', 'dag-trigger.lambda', 'index.js');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

interface Signed { readonly method: string; readonly path: string; readonly scope: string[] }

async function recordSignedRequests(environmentName: string): Promise<Signed[]> {
  const signed: Signed[] = [];
  const server = http.createServer((req, res) => {
    const scope = /Credential=[^/]+\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/.exec(req.headers.authorization ?? '');
    signed.push({ method: req.method!, path: req.url!, scope: scope ? [scope[2], scope[3]] : [] });
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ RestApiStatusCode: 200, RestApiResponse: {} }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(BUNDLE) as { createHandler(options: HandlerOptions): Trigger };
    const quiet = () => {};
    const trigger = bundle.createHandler({
      environmentName,
      log: { info: quiet, warn: quiet, error: quiet },
      sleep: async () => {},
      clientConfig: {
        region: REGION,
        endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
        disableHostPrefix: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      },
    });
    await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return signed;
}

/** The IAM request MWAA authorizes for a signed InvokeRestApi request, acting as `airflowRole`. */
function iamRequest(request: Signed, airflowRole: string): { action: string; resource: string } {
  const [region, service] = request.scope;
  const name = /^\/restapi\/([^/?]+)$/.exec(request.path)?.[1];
  expect({ method: request.method, service, name: typeof name }).toEqual({ method: 'POST', service: 'airflow', name: 'string' });
  return { action: 'airflow:InvokeRestApi', resource: `arn:aws:airflow:${region}:${ACCOUNT}:role/${decodeURIComponent(name!)}/${airflowRole}` };
}

/** The trigger function role's policy documents, with the pseudo parameters resolved (and other resources named). */
function triggerRolePolicies(airflowRole?: string): Array<{ name: string; policy: any }> {
  const stack = new Stack(new App(), 'Trigger', { env: { account: ACCOUNT, region: REGION } });
  const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
  const trigger = new DagTrigger(stack, 'Trigger', { environment, airflowRole });
  const role = stack.resolve((trigger.triggerFunction.role!.node.defaultChild as any).ref);
  const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT };
  const resolve = (value: any): any => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      if ('Ref' in value && value.Ref in pseudo) return pseudo[value.Ref];
      if ('Fn::Join' in value) return value['Fn::Join'][1].map(resolve).join(value['Fn::Join'][0]);
      // Other resources of the stack (the dead-letter queue, the log group): a name no request here can match.
      if ('Fn::GetAtt' in value) return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:resource/${value['Fn::GetAtt'][0]}`;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };
  const resources = stack.resolve((stack as any)._toCloudFormation()).Resources as Record<string, any>;
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([role]))
    .map(([name, r]) => ({ name, policy: resolve(r.Properties.PolicyDocument) }));
}

async function decide(policies: Array<{ name: string; policy: any }>, request: { action: string; resource: string }) {
  const result = await runSimulation({
    identityPolicies: policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    request: {
      principal: `arn:aws:iam::${ACCOUNT}:role/trigger`,
      action: request.action,
      resource: { resource: request.resource, accountId: ACCOUNT },
      contextVariables: {},
    },
  } as any, {});
  return result.resultType === 'error' ? `Error ${JSON.stringify(result.errors)}` : result.overallResult;
}

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npx projen bundle\``);
});

test('the request the handler signs is allowed to the trigger role as User, and denied as any other role or on another environment', async () => {
  const policies = triggerRolePolicies();
  const [signed, ...more] = await recordSignedRequests('ml-env');
  expect(more).toEqual([]);
  expect(signed.path).toBe('/restapi/ml-env');
  expect(await decide(policies, iamRequest(signed, 'User'))).toBe('Allowed');
  for (const role of ['Admin', 'Op', 'Viewer']) {
    expect(await decide(policies, iamRequest(signed, role))).toBe('ImplicitlyDenied');
  }
  const [elsewhere] = await recordSignedRequests('other-env');
  expect(await decide(policies, iamRequest(elsewhere, 'User'))).toBe('ImplicitlyDenied');
});

test('a trigger granted another Airflow role is refused the request as User (the evaluation can fail)', async () => {
  const [signed] = await recordSignedRequests('ml-env');
  expect(await decide(triggerRolePolicies('Op'), iamRequest(signed, 'User'))).toBe('ImplicitlyDenied');
  expect(await decide(triggerRolePolicies('Op'), iamRequest(signed, 'Op'))).toBe('Allowed');
});
