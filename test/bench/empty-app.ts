/** The baseline of the process benchmark: an app with one empty stack, started the same way as the example. */
import { App, Stack } from 'aws-cdk-lib';

const app = new App({ outdir: process.env.CDK_OUTDIR });
new Stack(app, 'Empty');
app.synth();
