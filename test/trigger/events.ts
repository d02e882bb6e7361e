import * as fs from 'fs';
import * as path from 'path';

const dir = path.join(__dirname, '..', 'fixtures', 'events');
/** The event-ruler tests' samples: `{ page, section, event }`, each naming the AWS page it is taken from. */
const rulerSamples = path.join(__dirname, '..', 'events', 'samples');

type SampleName =
  'ecr-image-action' | 's3-object-created' | 'sagemaker-model-package-state-change' | 'cloudwatch-alarm-state-change' | 'scheduled-event';

/** The sample events, in the shapes AWS documents. */
export function sampleEvent(name: SampleName): Record<string, any> {
  const fixture = path.join(dir, `${name}.json`);
  if (fs.existsSync(fixture)) return JSON.parse(fs.readFileSync(fixture, 'utf8'));
  return JSON.parse(fs.readFileSync(path.join(rulerSamples, `${name}.json`), 'utf8')).event;
}

/** The documented alarm event as the change of `alarmName` from `previous` to `state` at `timestamp`. */
export function alarmChange(
  state: string, previous: string, timestamp: string, alarmName = 'churn-drift', eventId = 'c4c1c1c9-6542-e61b-6ef0-8c4d36933a92',
): Record<string, any> {
  const event = sampleEvent('cloudwatch-alarm-state-change');
  event.id = eventId;
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
  event.detail.alarmName = alarmName;
  event.detail.state.value = state;
  event.detail.state.timestamp = timestamp;
  event.detail.previousState.value = previous;
  return event;
}

/** What the rule's input transformer hands the function. */
export function triggerInput(dagId: string, event: unknown): Record<string, any> {
  return { dagId, rule: 'TriggerRule', event };
}

/** The model package rule's condition on what changed: a new package, or its approval status (not its other fields). */
export const APPROVAL_CHANGED = [{ UpdatedModelPackageFields: ['ModelApprovalStatus'] }, { UpdatedModelPackageFields: [{ exists: false }] }];

/**
 * The documented model package event as a change of the package's lifecycle (the event page's newer sample carries
 * `ModelLifeCycle` and `UpdatedModelPackageFields`): the approved package set to `status` for `stage`.
 */
export function lifecycleChange(stage: unknown, status: unknown, lastModifiedTime = 1614186099000): Record<string, any> {
  const event = sampleEvent('sagemaker-model-package-state-change');
  event.detail.ModelLifeCycle = { Stage: stage, StageStatus: status, StageDescription: 'promoted by a release manager' };
  event.detail.UpdatedModelPackageFields = ['ModelLifeCycle'];
  event.detail.LastModifiedTime = lastModifiedTime;
  return event;
}
