import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const SCANNED = /\.(ts|py|sh|java|go)$/;
/** A repository path: starts a word (not inside a URL like `s3://assets/x.py`), no glob characters. */
const CITED = /(?<![\w/.:-])(?:src|test|assets|examples)\/[\w./-]+?\.(?:ts|py|json|ya?ml|sh|txt|md|java|go|cs)\b/g;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return /^(node_modules|__pycache__)$|\.snapshot$|^\./.test(entry.name) ? [] : files(full);
    return SCANNED.test(entry.name) ? [full] : [];
  });
}

test('every repository file the tests name (in code, comments or docstrings) exists', () => {
  const missing = files(path.join(ROOT, 'test')).flatMap((file) =>
    [...fs.readFileSync(file, 'utf8').matchAll(CITED)]
      .map((m) => m[0])
      .filter((cited) => !fs.existsSync(path.join(ROOT, cited)))
      .map((cited) => `${path.relative(ROOT, file)} names ${cited}`));
  expect(missing).toEqual([]);
});
