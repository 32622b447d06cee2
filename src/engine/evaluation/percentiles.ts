/** Nearest-rank percentile (p in 0..100) of unsorted values; 0 for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function latencySummary(values: readonly number[]): { p50: number; p90: number; p95: number; p99: number; mean: number; max: number; n: number } {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  return {
    p50: round(percentile(values, 50)), p90: round(percentile(values, 90)), p95: round(percentile(values, 95)), p99: round(percentile(values, 99)),
    mean: round(mean), max: round(percentile(values, 100)), n: values.length,
  };
}
