import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/** A directory of sample DAGs for tests (the repository's shipped DAG folder). */
export const SAMPLE_DAGS = path.join(__dirname, 'fixtures', 'dags');

/** A fresh app and an environment-agnostic stack, as a consumer's app would have. */
export function newStack(id: string = 'Test'): Stack {
  return new Stack(new App(), id);
}

/** The stack's template. */
export function template(stack: Stack): Template {
  return Template.fromStack(stack);
}

/** The single resource of `type` in the template, with its properties. */
export function onlyResource(t: Template, type: string): { [key: string]: any } {
  const found = Object.values(t.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}
