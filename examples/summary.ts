import { estimateIdleCost, formatIdleCost, Template } from '../test/bench/cost-estimate';

/** One stack in the summary: its resources by type, its outputs, and what it costs per month while idle. */
export function stackSummary(stackName: string, templateFile: string, template: Template & { Outputs?: Record<string, unknown> }): string[] {
  const resources = template.Resources ?? {};
  const counts = new Map<string, number>();
  for (const r of Object.values(resources)) counts.set(r.Type, (counts.get(r.Type) ?? 0) + 1);
  const lines = [`stack ${stackName}: ${Object.keys(resources).length} resources (${templateFile})`];
  for (const [type, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    lines.push(`  ${String(n).padStart(3)}  ${type}`);
  }
  const outputs = Object.keys(template.Outputs ?? {});
  lines.push(`  outputs: ${outputs.join(', ') || '(none)'}`);
  lines.push(...formatIdleCost(estimateIdleCost(template, process.env.COST_REGION ?? 'us-east-1'), '  ', true));
  return lines;
}
