import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const LANGUAGES = ['js', 'python', 'java', 'dotnet', 'go'];
const tasks: Record<string, { steps?: Array<{ spawn?: string; exec?: string; execArgs?: string[] }> }> =
  JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf-8')).tasks;

function packagedLanguages(workflow: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, '.github', 'workflows', workflow), 'utf-8');
  return [...text.matchAll(/npx projen package:(\w+)/g)].map((m) => m[1]).sort();
}

describe('packaging', () => {
  test.each(LANGUAGES)('package:%s bundles the trigger handler before jsii-pacmak packages assets/', (language) => {
    const steps = tasks[`package:${language}`].steps ?? [];
    const pacmak = steps.findIndex((s) => (s.execArgs?.join(' ') ?? s.exec ?? '').startsWith('jsii-pacmak'));
    expect(steps[0]).toEqual({ spawn: 'bundle' });
    expect(pacmak).toBeGreaterThan(0);
  });

  test.each(['release.yml', 'build.yml'])('%s packages every language with the package:* tasks', (workflow) => {
    expect(packagedLanguages(workflow)).toEqual([...LANGUAGES].sort());
  });

  test('jsii compiles with --fail-on-warnings', () => {
    expect(tasks.compile.steps).toEqual([{ exec: 'jsii --fail-on-warnings --silence-warnings=reserved-word' }]);
  });
});
