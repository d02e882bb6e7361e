import * as codebuild from 'aws-cdk-lib/aws-codebuild';

/**
 * The buildspecs of the three build stages, as objects. They rely on the starter repository's layout
 * (assets/starter/README.md): `requirements-dev.txt`, `pyproject.toml` and `tests/` for validation,
 * `preprocessing/*.py` for staging, a `Dockerfile` at the root for the image. No command prints the environment.
 */

/** Stops a build that got no revision: staged code and image tag would both be unnamed. */
const REQUIRE_COMMIT_ID = '[ -n "${COMMIT_ID}" ] || { echo "COMMIT_ID is empty: the source action gave no revision" >&2; exit 1; }';

/** Lint and unit tests, in a virtual environment of the source directory (CodeBuild's Python, Java for local Spark). */
export const VALIDATE_COMMANDS = {
  install: [
    'python -m venv .venv',
    '.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt',
  ],
  build: [
    '.venv/bin/ruff check .',
    '.venv/bin/ruff format --check .',
    '.venv/bin/python -m pytest -q',
  ],
};

/** Copies the preprocessing code to `s3://$SCRIPT_BUCKET/$SCRIPT_PREFIX$COMMIT_ID/`, where the training DAG reads it. */
export const STAGE_COMMANDS = [
  REQUIRE_COMMIT_ID,
  'aws s3 cp preprocessing/ "s3://${SCRIPT_BUCKET}/${SCRIPT_PREFIX}${COMMIT_ID}/" --recursive --exclude "*" --include "*.py" --only-show-errors',
  'echo "staged s3://${SCRIPT_BUCKET}/${SCRIPT_PREFIX}${COMMIT_ID}/preprocess.py"',
];

/** Builds and pushes `$IMAGE_REPOSITORY_URI:$COMMIT_ID` once (tags are immutable: a re-run of a commit reuses its image). */
export const IMAGE_COMMANDS = {
  preBuild: [
    REQUIRE_COMMIT_ID,
    'aws ecr get-login-password --region "${AWS_REGION}" | docker login --username AWS --password-stdin "${IMAGE_REPOSITORY_URI%%/*}"',
  ],
  build: [
    'if aws ecr describe-images --repository-name "${IMAGE_REPOSITORY_NAME}" --image-ids imageTag="${COMMIT_ID}" > /dev/null 2>&1; then echo "image ${COMMIT_ID} exists: nothing to build"; else docker build --tag "${IMAGE_REPOSITORY_URI}:${COMMIT_ID}" . && docker push "${IMAGE_REPOSITORY_URI}:${COMMIT_ID}"; fi',
  ],
  postBuild: [
    'IMAGE_DIGEST="$(aws ecr describe-images --repository-name "${IMAGE_REPOSITORY_NAME}" --image-ids imageTag="${COMMIT_ID}" --query "imageDetails[0].imageDigest" --output text)"',
    'echo "image ${IMAGE_REPOSITORY_URI}@${IMAGE_DIGEST} (tag ${COMMIT_ID})"',
  ],
};

export function validateBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: { 'runtime-versions': { python: '3.12', java: 'corretto21' }, 'commands': VALIDATE_COMMANDS.install },
      build: { commands: VALIDATE_COMMANDS.build },
    },
  });
}

export function stageBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash' },
    phases: { build: { commands: STAGE_COMMANDS } },
  });
}

export function imageBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { 'shell': 'bash', 'exported-variables': ['IMAGE_DIGEST'] },
    phases: {
      pre_build: { commands: IMAGE_COMMANDS.preBuild },
      build: { commands: IMAGE_COMMANDS.build },
      post_build: { commands: IMAGE_COMMANDS.postBuild },
    },
  });
}
