import { lifecycleChange, sampleEvent, triggerInput } from './events';
import { RUN_PARAMETERS } from '../../src/serverless/private/definitions';
import { parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';

/*
 * On MWAA Serverless the run's conf goes as StartWorkflowRun OverrideParameters, read as `{{ params.<key> }}`: every key
 * the trigger can send must be a declared parameter of the workflows (src/serverless/private/definitions.ts).
 */
test('every conf key the trigger sends, for every kind of event, is a declared workflow parameter', () => {
  const events = [
    sampleEvent('ecr-image-action'),
    sampleEvent('s3-object-created'),
    sampleEvent('sagemaker-model-package-state-change'),
    lifecycleChange('prod', 'Approved'),
    sampleEvent('cloudwatch-alarm-state-change'),
    sampleEvent('scheduled-event'),
    { ...sampleEvent('ecr-image-action'), 'source': 'my.app', 'detail-type': 'Data Ready' },
  ];
  const keys = new Set<string>();
  for (const event of events) {
    const parsed = parseTriggerInput(triggerInput('d', event));
    if (!parsed.ok) throw new Error(parsed.reason);
    Object.keys(parsed.request.conf).forEach((key) => keys.add(key));
  }
  expect(keys).toContain('model_package_stage');
  expect(keys).toContain('alarm_previous_state');
  expect(keys).toContain('scheduled_time');
  expect([...keys].filter((key) => !RUN_PARAMETERS.includes(key))).toEqual([]);
});
