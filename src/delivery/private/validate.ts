import { Token } from 'aws-cdk-lib';

const CONNECTION_ARN = /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;

/** Throws unless the value is a CodeConnections (or CodeStar Connections) connection ARN. */
export function validateConnectionArn(arn: string): void {
  if (Token.isUnresolved(arn)) return;
  if (!CONNECTION_ARN.test(arn)) {
    throw new Error(`connectionArn: '${arn}' is not a connection ARN (arn:aws:codeconnections:<region>:<account>:connection/<id>)`);
  }
}

/** Throws unless the value can be a repository owner or name. */
export function validateRepositoryPath(prop: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(value)) {
    throw new Error(`${prop}: '${value}' is not a repository ${prop} (letters, digits, '.', '_', '-'; GitLab subgroups with '/')`);
  }
}

/** Throws unless the name is a CodeCommit repository name. */
export function validateCodeCommitRepositoryName(name: string): void {
  if (!/^[\w.-]{1,100}$/.test(name) || name.endsWith('.git')) {
    throw new Error(`repositoryName: '${name}' is not a CodeCommit repository name (1-100 letters, digits, '.', '_', '-'; not ending in .git)`);
  }
}

/** Returns the branch, or throws when it is empty or not a Git branch name. */
export function validateBranch(branch: string): string {
  if (Token.isUnresolved(branch)) return branch;
  if (branch.trim() === '' || /[\s~^:?*[\\]|\.\.|^\/|\/$|\.lock$|^-/.test(branch)) {
    throw new Error(`branch: '${branch}' is not a Git branch name (non-empty, no spaces or ~^:?*[\\, no '..', not starting with '-' or '/')`);
  }
  return branch;
}

/** Throws unless the key can name an S3 object. */
export function validateObjectKey(key: string): void {
  if (Token.isUnresolved(key)) return;
  if (key === '' || key.startsWith('/') || key.endsWith('/')) {
    throw new Error(`objectKey: '${key}' is not an object key (non-empty, not starting or ending with '/'), e.g. 'model-code/source.zip'`);
  }
}

/** Throws unless the prefix is empty or ends with '/' and does not start with '/'. */
export function validatePrefix(prop: string, prefix: string): void {
  if (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/') || /\s/.test(prefix))) {
    throw new Error(`${prop}: '${prefix}' must be a key prefix ending with '/' and not starting with '/', e.g. 'preprocessing/'`);
  }
}
