import * as fs from 'fs';
import * as path from 'path';

const dir = path.join(__dirname, '..', 'fixtures', 'events');

/** The sample events, in the shapes AWS documents. */
export function sampleEvent(name: 'ecr-image-action' | 's3-object-created' | 'sagemaker-model-package-state-change'): Record<string, any> {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
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
