import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { WorkflowTemplate } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/WorkflowTemplate';
import { CronWorkflow } from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1/CronWorkflow';

/**
 * deploy/ holds what a platform team applies (issue 15). Every manifest must validate against
 * the typed Kubernetes and Argo models, and say what the README's "Scale out" says: plan, N
 * shard pods told their index, publish; the output folder a volume every pod mounts.
 */
const deploy = fileURLToPath(new URL('../deploy/', import.meta.url));
type Doc = { kind: string; [k: string]: unknown };
const docs = (dir: string): Doc[] => readdirSync(join(deploy, dir)).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseAllDocuments(readFileSync(join(deploy, dir, f), 'utf8')).map((d) => d.toJSON() as Doc));
const MODELS: Record<string, new (d: never) => { validate(): void }> = { Job, WorkflowTemplate, CronWorkflow };

function validated(d: Doc): Record<string, any> {
  const Model = MODELS[d.kind];
  expect(Model, `a model for ${d.kind}`).toBeDefined();
  new Model(d as never).validate();
  return d as Record<string, any>;
}

describe('deployment manifests', () => {
  it('plain Kubernetes: a plan Job, an Indexed Job of shards, a publish Job, all valid', () => {
    const jobs = docs('kubernetes').map(validated);
    const byStep = Object.fromEntries(jobs.map((j) => [j.metadata.labels.step, j]));
    expect(Object.keys(byStep).sort()).toEqual(['plan', 'publish', 'shards']);
    const shards = byStep.shards.spec;
    expect(shards).toMatchObject({ completionMode: 'Indexed', parallelism: shards.completions, backoffLimitPerIndex: 2 });
    const container = (j: Record<string, any>) => j.spec.template.spec.containers[0];
    expect(container(byStep.plan).args).toEqual(['plan', '--shards', String(shards.completions)]);
    expect(container(byStep.shards).args).toEqual(['run', '--plan', 'latest']);
    expect(container(byStep.shards).env).toContainEqual({ name: 'JOB_COMPLETION_COUNT', value: String(shards.completions) });
    expect(container(byStep.publish).args).toEqual(['publish', '--plan', 'latest']);
    for (const j of jobs) {
      expect(j.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
      expect(container(j).volumeMounts).toContainEqual({ name: 'forecasts', mountPath: '/srv/fc' });
    }
  });

  it('Argo: plan → one shard pod per index → publish, run nightly and weekly by cron', () => {
    const [template] = docs('argo').filter((d) => d.kind === 'WorkflowTemplate').map(validated);
    const run = template.spec.templates.find((t: { name: string }) => t.name === template.spec.entrypoint);
    expect(run.dag.tasks.map((t: { name: string; dependencies?: string[] }) => [t.name, t.dependencies ?? []])).toEqual([['plan', []], ['shard', ['plan']], ['publish', ['shard']]]);
    expect(run.dag.tasks[1].withSequence.count).toBe('{{workflow.parameters.shards}}');
    const shard = template.spec.templates.find((t: { name: string }) => t.name === 'shard');
    expect(shard.container.args).toEqual(['run', '--plan', '{{inputs.parameters.plan}}', '--shard', '{{inputs.parameters.index}}/{{workflow.parameters.shards}}']);
    const plan = template.spec.templates.find((t: { name: string }) => t.name === 'plan');
    expect(plan.outputs.parameters[0].valueFrom.path).toBe('/tmp/plan-id');
    expect(plan.container.args[0]).toContain('--id-file /tmp/plan-id');
    const crons = docs('argo').filter((d) => d.kind === 'CronWorkflow').map(validated);
    expect(crons.map((c) => [c.metadata.name, c.spec.workflowSpec.arguments.parameters.find((p: { name: string }) => p.name === 'retrain').value])).toEqual([['shelfcast-nightly', 'false'], ['shelfcast-weekly-retrain', 'true']]);
  });

  it('builds an image on Node 20 with production dependencies only, as a non-root user', () => {
    const file = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    expect(file).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(file).toMatch(/npm ci --omit=dev/);
    expect(file).toMatch(/^USER node$/m);
    expect(file).toMatch(/^VOLUME \["\/srv\/fc"\]$/m);
  });
});
