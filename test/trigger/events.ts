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
