#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CdkInitAppStack, ImportedEnvironmentStack, NonDefaultPropsStack } from '../lib/cdk-init-app-stack';

const app = new cdk.App();
cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

// Explicit accounts and regions, as production stacks have; their availability zones are cached in cdk.context.json.
new CdkInitAppStack(app, 'CdkInitAppStack', { env: { account: '123456789012', region: 'eu-west-1' } });
new ImportedEnvironmentStack(app, 'ImportedEnvironmentStack', { env: { account: '123456789012', region: 'eu-west-1' } });
new NonDefaultPropsStack(app, 'NonDefaultPropsStack', { env: { account: '123456789012', region: 'us-east-1' } });
