import { awscdk, javascript, TomlFile } from 'projen';

/*
 * aws-cdk-lib 2.257.0 is the consumers' minimum, chosen deliberately:
 * - cdk-nag 3 (our security gate) needs aws-cdk-lib >= 2.257.0 (`Validations.of(...).acknowledge`);
 * - the newest integ-runner on the registry reads cloud-assembly schema 53, which aws-cdk-lib <= 2.257.0 writes;
 * - nothing we use needs a newer one, and a low minimum lets more apps adopt the library.
 * projen pins the dev dependency to the same version, so our tests run against exactly the minimum.
 */
const CDK_VERSION = '2.257.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-mwaa-mlops',
  description:
    'AWS CDK constructs for MLOps on Amazon MWAA (managed Apache Airflow): environment, CI/CD, event triggers, SageMaker and Glue wiring.',
  keywords: ['cdk', 'awscdk', 'mwaa', 'airflow', 'mlops', 'sagemaker', 'glue'],
  author: 'cdk-mwaa-mlops maintainers',
  authorAddress: 'https://github.com/cdk-mwaa-mlops',
  authorOrganization: true,
  repositoryUrl: 'https://github.com/cdk-mwaa-mlops/cdk-mwaa-mlops',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  projenrcTs: true,
  packageManager: javascript.NodePackageManager.NPM,

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  // jsii 6 pairs with TypeScript 6; TypeScript 7 breaks jsii, ts-jest and ts-node.
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  minNodeVersion: '20.0.0',

  publishToPypi: { distName: 'cdk-mwaa-mlops', module: 'cdk_mwaa_mlops' },
  publishToMaven: {
    javaPackage: 'io.github.cdkmwaamlops',
    mavenGroupId: 'io.github.cdkmwaamlops',
    mavenArtifactId: 'cdk-mwaa-mlops',
  },
  publishToNuget: { dotNetNamespace: 'CdkMwaaMlops', packageId: 'CdkMwaaMlops' },
  publishToGo: { moduleName: 'github.com/cdk-mwaa-mlops/cdk-mwaa-mlops-go', packageName: 'cdkmwaamlops' },

  // Releases: version and changelog come from Conventional Commits.
  release: true,
  releaseToNpm: true,

  // `npx projen test` (run by the build and release workflows) builds Python venvs, packages every language and
  // synthesizes the consumer apps: the runners get the toolchains this repository's machines have.
  workflowBootstrapSteps: [
    { uses: 'actions/setup-python@v7.0.0', with: { 'python-version': '3.11' } },
    { uses: 'actions/setup-java@v6.0.0', with: { 'distribution': 'corretto', 'java-version': '17' } },
    { uses: 'actions/setup-go@v7.0.0', with: { 'go-version': '^1.23.0' } },
  ],

  tsconfigDevFile: 'tsconfig.dev.json',
  tsconfigDev: { include: ['src/**/*.ts', 'test/**/*.ts', 'examples/**/*.ts', '.projenrc.ts'], compilerOptions: {} },

  devDeps: [
    'cdk-nag@^3.0.2',
    '@aws-cdk/integ-runner@^2.197.10',
    '@aws-cdk/integ-tests-alpha@2.245.0-alpha.0',
    // The AWS SDK for JavaScript v3's SigV4 signer: the reference the trigger handler's own signer is proven equal to
    // (test/trigger/signed-request.test.ts). The handler itself has no runtime dependency but node: its signing core
    // (src/trigger/runtime/signed-request.ts) serves MWAA's InvokeRestApi and MWAA Serverless's StartWorkflowRun. No SDK
    // client: the registry here has no @aws-sdk/client-mwaa with InvokeRestApi and no @aws-sdk/client-mwaa-serverless,
    // and a client cost the handler most of its bundle, cold start and per-event time.
    '@smithy/signature-v4@^2.3.0',
    '@types/aws-lambda',
    'fast-check@^4.10.2',
    // An IAM policy evaluator for the proof that the synthesized roles allow the DAGs' recorded calls, and no more
    // (test/iam; AGPL-licensed, used in tests only, never shipped).
    '@cloud-copilot/iam-simulate@0.1.173',
  ],

  // The trigger handler (src/trigger/*.lambda.ts) is bundled by esbuild into assets/; it uses no AWS SDK (the runtime's
  // bundled SDK is of unknown version and may lack what the handler needs), only node and its own signing core.
  lambdaOptions: {
    // The newest Node.js runtime in Lambda's API (botocore's Runtime enum) and in the newest aws-cdk-lib: cdk-nag's
    // AwsSolutions-L1 compares with the newest that aws-cdk-lib knows, and constructing it makes the floor know it too.
    runtime: new awscdk.LambdaRuntime('nodejs26.x', 'node26'),
    awsSdkConnectionReuse: false,
    // projen's type omits `minify`, but the options are handed to Bundler.addBundle, which supports it.
    bundlingOptions: { externals: [], minify: true } as awscdk.LambdaFunctionCommonOptions['bundlingOptions'],
  },
  // Handler-only code is bundled, not compiled into the jsii library.
  excludeTypescript: ['src/**/*.lambda.ts', 'src/trigger/runtime/**'],

  jestOptions: {
    // The default `test` task passes --updateSnapshot, so snapshot tests could never fail.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // A run that finds no test file fails.
    passWithNoTests: false,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // What the other lanes of `test` write while jest runs (packages, consumer apps, the newest aws-cdk-lib): never
      // crawled, so a file they add or remove cannot disturb jest, nor a packed copy of this package collide with it.
      modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/test/consumers/cdk-init-app/', '<rootDir>/test/newest-cdk/node_modules/', '<rootDir>/cdk.out/'],
    },
  },
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'projenrc', '.projenrc.ts'],
    // Lint reports; it never rewrites code (CI must not change tracked files).
    commandOptions: { fix: false },
  },

  gitignore: [
    '.venv/',
    '.venv-airflow-*/',
    '__pycache__/',
    '.pytest_cache/',
    'cdk.out/',
    // integ-runner writes the assets into test/*.snapshot/ on update; only templates and manifests are committed.
    '**/*.snapshot/asset.*',
    // consumer apps: Maven's build directory, and go.sum (the module proxy here has no checksum database to check one)
    '/examples/java/target/',
    '/examples/go/go.sum',
  ],
});

// unrs-resolver 1.13.0 (via eslint-import-resolver-typescript) has platform binaries the registry here lacks,
// which makes `npm ci` reject the lockfile; 1.12.2 has them all.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Lint test/ and examples/ with the dev tsconfig (the project service would only find the src-only tsconfig.json).
const eslintrc = project.tryFindObjectFile('.eslintrc.json')!;
eslintrc.addDeletionOverride('parserOptions.projectService');
eslintrc.addOverride('parserOptions.project', './tsconfig.dev.json');

// Handler-only code (bundled into assets/) may import dev dependencies, like the entry point.
project.eslint!.allowDevDeps('src/trigger/runtime/**');

// assets/ ships to AWS as-is (DAGs, scripts): tracked, and packaged with the library.
project.gitignore.exclude('!/assets/');
// ...except the handler bundles `npx projen bundle` (part of compile and test) writes from src/**/*.lambda.ts.
project.gitignore.exclude('/assets/**/*.lambda/');
for (const pattern of ['/examples/', '/.venv/', '/.venv-airflow-*/', '/.ci/', 'cdk.out/', '/test-reports/', '__pycache__/', '*.pyc', '/ruff.toml']) {
  project.addPackageIgnore(pattern);
}

/* ---------- Python side: DAGs, Glue script, model code and template checks ---------- */
// Python lint for the DAGs, the Glue script and the Python tests (assets/starter has its own, in its pyproject.toml).
new TomlFile(project, 'ruff.toml', {
  obj: {
    'line-length': 130,
    'target-version': 'py311', // Glue 5 runs Python 3.11; MWAA 3.x runs 3.12
    'extend-exclude': ['assets/starter', 'node_modules', 'cdk.out'],
    'lint': { select: ['E', 'F', 'W', 'I', 'B', 'UP', 'RUF'] },
  },
});

// The Airflow versions MWAA offers (AirflowVersion) and the DAGs support. The newest is .venv's (with every other Python
// tool); each older one gets a venv of its own, from a lock of what MWAA installs with it (test/python/requirements-airflow-*.txt).
const airflowNewest = '3.3.1';
const airflowOlder = ['3.0.6', '3.2.1'];
// uv installs the locks in seconds where pip takes minutes (CI builds every venv from scratch); it never fetches a Python.
const uv = 'UV_PYTHON_DOWNLOADS=never .venv/bin/uv';
// The requirements include assets/starter/requirements-dev.txt: a change to either file reinstalls.
const requirementFiles = `test/python/requirements.txt test/python/requirements-airflow-${airflowNewest}.txt assets/starter/requirements-dev.txt assets/starter/requirements.txt`;
const venvTask = project.addTask('python:venv', {
  description: `Create .venv (Airflow ${airflowNewest} and the Python tools) and one venv per older Airflow version, from the pinned requirements (reinstalls only when they change)`,
});
venvTask.exec([
  '[ -x .venv/bin/python ] || python3 -m venv .venv',
  '[ -x .venv/bin/uv ] || .venv/bin/pip install --quiet --disable-pip-version-check uv==0.13.8',
  `cat ${requirementFiles} > .venv/requirements.wanted`,
  `cmp -s .venv/requirements.wanted .venv/requirements.installed || (${uv} pip install --quiet --python .venv/bin/python -r test/python/requirements.txt && cp .venv/requirements.wanted .venv/requirements.installed)`,
].join(' && '), { name: `.venv (Airflow ${airflowNewest})` });
for (const version of airflowOlder) {
  const venv = `.venv-airflow-${version}`;
  const lock = `test/python/requirements-airflow-${version}.txt`;
  venvTask.exec([
    `([ -x ${venv}/bin/python ] || ${uv} venv --quiet --python python3 ${venv})`,
    `(cmp -s ${lock} ${venv}/requirements.installed || (${uv} pip sync --quiet --python ${venv}/bin/python ${lock} && cp ${lock} ${venv}/requirements.installed))`,
  ].join(' && '), { name: `${venv} (Airflow ${version})` });
}
const pytestTask = project.addTask('test:python', {
  description: `Run the Python tests on Airflow ${airflowNewest}: template checks, checkov, the Glue script on PySpark, and the DAGs in a real Airflow (test/python)`,
  receiveArgs: true,
});
pytestTask.spawn(venvTask);
pytestTask.exec('.venv/bin/ruff check --no-cache . && .venv/bin/ruff format --check --no-cache .', { name: 'ruff (config: ruff.toml)' });
// --durations: each run names its slowest tests, so a CI log shows where the lane's time goes.
pytestTask.exec('.venv/bin/python -m pytest test/python -q -p no:cacheprovider --strict-markers --durations=15', { receiveArgs: true });
// Every EventBridge rule the constructs create, matched against AWS's documented sample events by AWS's event-ruler
// (Java: test/events/pom.xml resolves it from Maven Central into ~/.m2; needs java and mvn on the PATH).
pytestTask.exec('.venv/bin/python -m pytest test/events -q -p no:cacheprovider', { name: 'EventBridge rules against AWS sample events (event-ruler)' });
// The older versions: every DAG test, end-to-end runs and IAM proof included, but those that need .venv's own tools
// (`newest_only`: the starter's training code); unregistered markers are errors (test/python/dags/conftest.py).
const olderAirflowTasks = airflowOlder.map((version) => {
  const task = project.addTask(`test:airflow:${version}`, {
    description: `Run the DAG tests on Airflow ${version} (its own venv, from what MWAA installs with it)`,
    receiveArgs: true,
  });
  task.spawn(venvTask);
  task.exec(`.venv-airflow-${version}/bin/python -m pytest test/python/dags -q -p no:cacheprovider --strict-markers --durations=15 -m "not newest_only"`, {
    receiveArgs: true,
  });
  return task;
});
// The starter repository's own tests, run the way its build pipeline runs them (from its root, its pytest config).
const starterTask = project.addTask('test:starter', { description: 'Run the starter model repository\'s lint and tests (assets/starter)' });
starterTask.spawn(venvTask);
starterTask.exec('cd assets/starter && ../../.venv/bin/ruff check --no-cache . && ../../.venv/bin/ruff format --check --no-cache . && ../../.venv/bin/python -m pytest -q');

/* ---------- integ tests: committed snapshots, verified without AWS credentials ---------- */
const integEnv = { TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: 'tsconfig.dev.json', CDK_DISABLE_VERSION_CHECK: '1' };
const integTask = project.addTask('integ', {
  description: 'Verify the integ tests (test/integ.*.ts) against their committed snapshots; no deployment',
  env: integEnv,
  exec: 'integ-runner --directory test --language typescript --parallel-regions us-east-1',
});
project.addTask('integ:update', {
  description: 'Re-synthesize the integ snapshots after an intended change (review the diff before committing)',
  env: integEnv,
  exec: 'integ-runner --directory test --language typescript --parallel-regions us-east-1 --dry-run --update-on-failed --force',
});

/* ---------- the synth-and-nag tests on the newest aws-cdk-lib and cdk-nag, besides the floor in node_modules ---------- */
// Users get the newest aws-cdk-lib and cdk-nag from the registry; `test` runs on the floor that peerDependencies
// promise. This installs the newest into test/newest-cdk (its own package.json, `latest`) and maps every require
// of aws-cdk-lib, cdk-nag and constructs there (test/newest-cdk/jest.config.js), so src/ itself runs on them.
const newestCdkTask = project.addTask('test:newest-cdk', {
  description: 'cdk-nag on the example app, the integ fixtures and the toolchain cases, on the newest aws-cdk-lib and cdk-nag',
  // cdk-nag reads the construct tree: nothing here synthesizes, so the newest aws-cdk-lib's template validation never runs.
  env: { CDK_DISABLE_VERSION_CHECK: '1' },
  steps: [
    { exec: 'sh test/newest-cdk/install.sh' },
    { exec: 'jest --config test/newest-cdk/jest.config.js' },
  ],
});

// `npx projen test` runs every suite. A fresh clone runs it straight after `npm ci`, so it bundles the handler and
// builds the Python venvs first; then the independent suites run side by side (test/side-by-side.sh), each also a task
// of its own for a developer who wants one.
const bundleTask = project.tasks.tryFind('bundle')!;
// `test` bundles once, before its lanes: a lane that bundled again would rewrite the handler under another lane's feet.
const BUNDLED = 'CDK_MWAA_MLOPS_BUNDLED';
const unlessBundled = { condition: `node -e "process.exit(process.env.${BUNDLED} ? 1 : 0)"` };
const testNode = project.addTask('test:node', {
  description: 'jest, eslint, the integ snapshots, the main job\'s cdk-nag gate (npx projen synth:example), and the cdk-nag tests on the newest aws-cdk-lib (test:newest-cdk)',
  receiveArgs: true,
});
testNode.spawn(bundleTask, unlessBundled);
testNode.exec('jest --ci', { receiveArgs: true });
testNode.spawn(project.tasks.tryFind('eslint')!);
testNode.spawn(integTask);
/* ---------- packages: every one complete on its own, proven by consumer apps in other languages ---------- */
// jsii warns about what the other languages cannot see or use: every warning fails the compile, except projen's
// default silencing of reserved words, which the bindings rename (a `type` prop is `Type()` in Go, `type` in Python).
project.compileTask.reset('jsii --fail-on-warnings --silence-warnings=reserved-word');

// Each package:* task bundles the trigger handler first: the packages carry assets/ as it is on disk.
const packageTasks = ['js', 'python', 'java', 'dotnet', 'go'].map((language) => project.tasks.tryFind(`package:${language}`)!);
for (const task of packageTasks) task.prependSpawn(bundleTask);
// jsii-pacmak builds the jar against a fresh temporary Maven repository unless told otherwise: reuse the user's, so
// aws-cdk-lib's jar and Maven's plugins are downloaded once per machine, not once per package.
const packageJava = project.tasks.tryFind('package:java')!;
packageJava.reset();
packageJava.spawn(bundleTask);
packageJava.exec('jsii-pacmak -v --target java --maven-local-repository="$HOME/.m2/repository"');

// Outside CI, `build` packages every language: skip .NET (saying so) where no .NET SDK is installed.
// (Conditions run in projen's own shell, which has no `command -v`.)
const dotnetRuns = 'require(\'child_process\').spawnSync(\'dotnet\', [\'--version\'], { stdio: \'ignore\' }).status === 0';
const hasDotnet = `node -e "process.exit(${dotnetRuns} ? 0 : 1)"`;
const lacksDotnet = `node -e "process.exit(${dotnetRuns} ? 1 : 0)"`;
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.reset();
for (const task of packageTasks) {
  packageAll.spawn(task, task.name === 'package:dotnet' ? { condition: hasDotnet } : undefined);
}
packageAll.exec('echo "package-all: no .NET SDK (dotnet) on PATH, package:dotnet skipped"', { condition: lacksDotnet });

// Consumer apps: package, install into a Python venv / Maven project / Go module, synthesize, compare with TypeScript.
const consumersTask = project.addTask('test:consumers', {
  description: 'Package every language, check the assets in each package, synthesize the example in Python, Java and Go and compare the templates with TypeScript, synthesize a cdk-init app with cdk-nag',
  env: { TS_NODE_PROJECT: 'tsconfig.dev.json', CDK_DISABLE_VERSION_CHECK: '1' },
});
consumersTask.spawn(venvTask);
// The Python consumer's venv downloads while jsii-pacmak builds (synth-python.sh waits for it).
consumersTask.exec('test/consumers/python-venv.sh --background', { name: 'Python: the consumer venv, in the background' });
// The package:* commands, in one jsii-pacmak run that builds the languages side by side (test/packaging checks the
// tasks themselves). Go and .NET: code only, as their builds need modules this machine's registries lack.
consumersTask.spawn(bundleTask, unlessBundled);
consumersTask.exec('jsii-pacmak -v --target js --target python --target java --maven-local-repository="$HOME/.m2/repository"');
consumersTask.exec('jsii-pacmak -v --code-only --target go --target dotnet');
consumersTask.exec('test/consumers/synth-typescript.sh', { name: 'TypeScript: the example app, from src/ and from the npm package' });
consumersTask.exec('test/consumers/synth-python.sh', { name: 'Python: install the wheel, synthesize examples/python' });
consumersTask.exec('test/consumers/synth-java.sh', { name: 'Java: install the jar, synthesize examples/java' });
consumersTask.exec('test/consumers/synth-go.sh', { name: 'Go: synthesize examples/go on aws-cdk-go v2.277.0, and examples/app.ts on the same aws-cdk-lib' });
consumersTask.exec('test/consumers/compile-dotnet.sh', { name: '.NET: compile the generated code where a .NET SDK is installed' });
// A user's app as `cdk init app --language typescript` makes it (TypeScript 7, tsx, the newest aws-cdk-lib, cdk-nag 3), with
// its own lockfile and toolchain: the project's tsc and eslint leave it alone, and so do they the copies it plants in dist/.
consumersTask.exec('test/consumers/cdk-init-app.sh', { name: 'TypeScript: cdk synth of a cdk-init app on the npm package, failing on type errors and cdk-nag findings' });
project.tsconfigDev.addExclude('test/consumers/cdk-init-app');
project.tsconfigDev.addExclude('dist');
project.eslint!.addIgnorePattern('test/consumers/cdk-init-app/');
consumersTask.exec('.venv/bin/python -m pytest test/consumers -q -rs -p no:cacheprovider');

/* ---------- the main job and the benchmark ---------- */
const synthExample = project.addTask('synth:example', {
  description: 'Synthesize the example app on its defaults (no AWS account needed) and print a summary',
  env: { TS_NODE_PROJECT: 'tsconfig.dev.json' },
});
synthExample.spawn(bundleTask, unlessBundled);
synthExample.exec('ts-node --transpile-only examples/main.ts', { receiveArgs: true });
// Idle cost from the synthesized templates (prices, their sources and confidence: test/bench/cost-prices.json).
const benchCost = project.addTask('bench:cost', {
  description: 'Idle monthly cost of a provisioned and a serverless pipeline side by side, read from their templates, and the cost of a serverless run (args: [region], default us-east-1)',
  env: { TS_NODE_PROJECT: 'tsconfig.dev.json' },
});
benchCost.spawn(bundleTask, unlessBundled);
benchCost.exec('ts-node --transpile-only test/bench/cost.bench.ts', { receiveArgs: true });
const bench = project.addTask('bench', {
  description: 'Benchmarks (ratios against a baseline measured in the same run): example synth, trigger handler, idle and per-run cost, DAG parse time per Airflow version, Glue script scaling',
  env: { TS_NODE_PROJECT: 'tsconfig.dev.json' },
});
bench.spawn(bundleTask);
bench.exec('ts-node --transpile-only test/bench/synth.bench.ts');
bench.exec('ts-node --transpile-only test/bench/synth-process.bench.ts');
bench.exec('ts-node --transpile-only test/bench/trigger-handler.bench.ts');
bench.exec(`${BUNDLED}=1 npx projen bench:cost`, { name: 'Idle cost: provisioned vs serverless, and per serverless run' });
bench.spawn(venvTask);
for (const version of [...airflowOlder, airflowNewest]) {
  const venv = version === airflowNewest ? '.venv' : `.venv-airflow-${version}`;
  bench.exec(`${venv}/bin/python test/bench/dag_parse_bench.py`, { name: `DAG parse time on Airflow ${version}` });
}
bench.exec('.venv/bin/python test/bench/glue_scaling_bench.py');

/* ---------- `npx projen test`: every suite, the independent ones side by side ---------- */
testNode.spawn(synthExample);
testNode.spawn(newestCdkTask);
project.testTask.reset();
project.testTask.spawn(bundleTask);
project.testTask.spawn(venvTask);
const lanes: Record<string, string> = {
  'node': 'npx projen test:node',
  'python': 'npx projen test:python',
  // Each older Airflow version in a lane of its own: each runs every DAG test (test:airflow:<version>), the longest suites.
  ...Object.fromEntries(olderAirflowTasks.map((task) => [task.name.replace('test:', ''), `npx projen ${task.name}`])),
  // The packages need jsii's output; compile is idempotent, so `npx projen build` compiling first costs one more run.
  'consumers+starter': `npx projen compile && npx projen test:consumers && npx projen ${starterTask.name}`,
};
project.testTask.exec(`${BUNDLED}=1 test/side-by-side.sh ${Object.entries(lanes).map(([name, command]) => `"${name}=${command}"`).join(' ')}`);

project.synth();
