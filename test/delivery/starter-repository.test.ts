import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ModelBuildPipeline, PipelineSource } from '../../src';

const STARTER = PipelineSource.STARTER_REPOSITORY_DIRECTORY;

function filesIn(directory: string): string[] {
  return fs.readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The directory the seeded repository's first commit is zipped from, found through the template's S3 key. */
function seededDirectory(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'starter-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Seeded');
  new ModelBuildPipeline(stack, 'Build', { source: PipelineSource.newCodeCommitRepository({ repositoryName: 'churn-model' }) });
  const repository = Object.values(Template.fromStack(stack).findResources('AWS::CodeCommit::Repository'))[0];
  const key: string = repository.Properties.Code.S3.Key;
  app.synth();
  return path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

describe('the repository newCodeCommitRepository seeds', () => {
  // npm never packs `.gitignore`, so the packages ship it as `gitignore`: the seeded code must hold the real name.
  test('holds the starter .gitignore under its own name, and every other starter file as shipped', () => {
    const seeded = seededDirectory();
    const shipped = filesIn(STARTER).filter((name) => !/(^|\/)(__pycache__|\.pytest_cache|\.ruff_cache)\/|\.pyc$|^data\/raw\//.test(name));

    expect(fs.readFileSync(path.join(seeded, '.gitignore'), 'utf8')).toBe(fs.readFileSync(path.join(STARTER, 'gitignore'), 'utf8'));
    expect(fs.readFileSync(path.join(seeded, '.gitignore'), 'utf8')).toContain('data/raw/');
    expect(filesIn(seeded)).toEqual(shipped.map((name) => (name === 'gitignore' ? '.gitignore' : name)).sort());
    for (const name of shipped.filter((n) => n !== 'gitignore')) {
      expect(fs.readFileSync(path.join(seeded, name))).toEqual(fs.readFileSync(path.join(STARTER, name)));
    }
  });
});
