/** Summaries of repeated measurements: median and spread, and latency percentiles. */
import { percentile } from '../../src/engine/evaluation/percentiles.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Half the distance between the 25th and 75th percentiles, relative spread at a glance. */
  iqr: number;
  n: number;
}

const round = (x: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0, iqr: 0, n: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    median: round(median),
    min: round(sorted[0]!),
    max: round(sorted[sorted.length - 1]!),
    iqr: round(percentile(sorted, 75) - percentile(sorted, 25)),
    n: sorted.length,
  };
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
  n: number;
}

export function latency(values: readonly number[]): Latency {
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  return {
    p50: round(percentile(values, 50)),
    p95: round(percentile(values, 95)),
    p99: round(percentile(values, 99)),
    mean: round(mean),
    max: round(values.length ? Math.max(...values) : 0),
    n: values.length,
  };
}

export function mean(values: readonly number[]): number {
  return values.length ? round(values.reduce((a, b) => a + b, 0) / values.length) : 0;
}

export { round };
