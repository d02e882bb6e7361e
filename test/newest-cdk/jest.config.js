// Runs the synth-and-nag tests with aws-cdk-lib, cdk-nag and constructs taken from this directory (the newest on the
// registry, installed by `npx projen test:newest-cdk`) instead of the root node_modules (the floor). Every require of
// them, from the library's src/, the tests and the root's other packages alike, is mapped here.
const path = require('path');

const root = path.join(__dirname, '..', '..');
const modules = path.join(__dirname, 'node_modules');
const mapped = ['aws-cdk-lib', 'cdk-nag', 'constructs'];

// The versions installed here, which test/nag-toolchain.test.ts checks its imports resolve to.
process.env.EXPECT_AWS_CDK_LIB = require(path.join(modules, 'aws-cdk-lib', 'package.json')).version;
process.env.EXPECT_CDK_NAG = require(path.join(modules, 'cdk-nag', 'package.json')).version;

module.exports = {
  rootDir: root,
  testMatch: ['<rootDir>/test/nag-toolchain.test.ts', '<rootDir>/test/nag-wildcards.test.ts'],
  moduleNameMapper: Object.fromEntries(mapped.flatMap((name) => [
    [`^${name}$`, path.join(modules, name)],
    [`^${name}/(.*)$`, path.join(modules, name, '$1')],
  ])),
  transform: { '^.+\\.[t]sx?$': ['ts-jest', { tsconfig: 'tsconfig.dev.json' }] },
  testPathIgnorePatterns: ['/node_modules/'],
  clearMocks: true,
};
