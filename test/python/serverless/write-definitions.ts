/**
 * Writes the MWAA Serverless workflow definitions of pipeline configs (the Python proofs' input, until the constructs
 * upload them): `ts-node write-definitions.ts <input.json> <output.json>`, where the input is a list of
 * `DefinitionInputs` (resolved configs) and the output the same list with `training`, `deployment` and `drift` definitions
 * (null where the pipeline has none).
 */
import { readFileSync, writeFileSync } from 'fs';
import { DefinitionInputs, deploymentDefinition, driftDefinition, trainingDefinition } from '../../../src/serverless/private/definitions';

const [input, output] = process.argv.slice(2);
const pipelines = JSON.parse(readFileSync(input, 'utf-8')) as DefinitionInputs[];
const written = pipelines.map((inputs) => {
  const deploys = (inputs.config.deployment as { mode?: string } | undefined)?.mode !== 'none';
  return {
    ...inputs,
    training: trainingDefinition(inputs),
    deployment: deploys ? deploymentDefinition(inputs) : null,
    drift: inputs.config.drift ? driftDefinition(inputs) : null,
  };
});
writeFileSync(output, JSON.stringify(written, undefined, 1));
