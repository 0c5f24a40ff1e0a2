// The projected wall time of a sharded run far larger than the one measured (bench/scale-out.mjs).
// A shard's cost grows with its series (shards are cost-balanced), so shard seconds per series
// times series / pods is the shard stage; plan and publish read or write every series once in
// one process, so they scale linearly in series. Two bases: the measured wall seconds (what this
// machine gave, inflated by whatever else ran on it), and CPU seconds / threads (a pod whose
// cores are its own, used fully: a lower bound).
export function project(report, series, pods) {
  const threads = report.threads;
  const basis = (step) => ({ wall: step.wall_seconds, cpu: step.cpu_seconds / threads });
  const shardSum = (k) => report.shards_measured.reduce((a, s) => a + basis(s)[k], 0);
  const at = (k) => pods.map((p) => {
    const shard = (shardSum(k) / report.series) * series / p;
    const plan = (basis(report.plan)[k] * series) / report.series;
    const publish = (basis(report.publish)[k] * series) / report.series;
    return { pods: p, plan_seconds: Math.round(plan), shard_seconds: Math.round(shard), publish_seconds: Math.round(publish), total_hours: +((plan + shard + publish) / 3600).toFixed(2) };
  });
  return { series, from_wall_seconds: at('wall'), from_cpu_seconds: at('cpu') };
}

export function describeProjection(p) {
  const line = (rows) => rows.map((r) => `${r.pods} pods ${r.total_hours} h (plan ${r.plan_seconds} s, shards ${r.shard_seconds} s, publish ${r.publish_seconds} s)`).join('; ');
  return `projected for ${p.series.toLocaleString('en')} series\n  from wall seconds: ${line(p.from_wall_seconds)}\n  from CPU seconds / threads: ${line(p.from_cpu_seconds)}`;
}
