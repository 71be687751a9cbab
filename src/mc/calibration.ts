// Clusters per sweep for the single-cluster (Wolff) updates: calibrated to V / ⟨cluster size⟩ during
// thermalisation from the LATER half of it only, then frozen (a state-dependent count would bias).
//
// Why only the later half: a hot start makes thousands of tiny clusters per sweep before the system
// reaches equilibrium; averaged over all of thermalisation they dominate the count, ⟨size⟩ comes out
// tiny, and the frozen count then flips V·(equilibrium size / hot size) sites per "sweep" (at 512²
// near β_c, ~10⁴ times too many). The sums run in two buckets that shift whenever the number of
// calibration sweeps reaches a power of two, so at any time they cover at least the last half.

/** The calibration state as stored in a sampler's checkpointed `extra` record. */
export type CalibrationRecord = Record<string, number>;

export function calibrationInit(clustersPerSweep = 0): CalibrationRecord {
  return { clustersPerSweep, calClusters: 0, calSites: 0, calPrevClusters: 0, calPrevSites: 0, calSweeps: 0 };
}

/**
 * One sweep of single-cluster updates: the calibrated number of clusters, or during calibration
 * clusters until about V sites have flipped (their sizes added to the record). `cluster` builds one
 * cluster and returns its size.
 */
export function clusterSweep(e: CalibrationRecord, V: number, cluster: () => number): void {
  const fixed = e.clustersPerSweep!;
  if (fixed > 0) {
    for (let k = 0; k < fixed; k++) cluster();
    return;
  }
  calibrationSweep(e);
  for (let flipped = 0; flipped < V;) {
    const n = cluster();
    flipped += n;
    calibrationAdd(e, n);
  }
}

/** Call at the start of every calibration sweep. */
export function calibrationSweep(e: CalibrationRecord): void {
  const n = (e.calSweeps ?? 0) + 1;
  e.calSweeps = n;
  if ((n & (n - 1)) === 0) {
    e.calPrevClusters = e.calClusters ?? 0;
    e.calPrevSites = e.calSites ?? 0;
    e.calClusters = 0;
    e.calSites = 0;
  }
}

export function calibrationAdd(e: CalibrationRecord, size: number): void {
  e.calClusters = (e.calClusters ?? 0) + 1;
  e.calSites = (e.calSites ?? 0) + size;
}

/** Clusters and sites in the window (the current and the previous bucket). */
export function calibrationTotals(e: CalibrationRecord): { clusters: number; sites: number } {
  return { clusters: (e.calClusters ?? 0) + (e.calPrevClusters ?? 0), sites: (e.calSites ?? 0) + (e.calPrevSites ?? 0) };
}

/** Freezes clustersPerSweep = round(V / ⟨size⟩) (at least 1). */
export function calibrationFreeze(e: CalibrationRecord, V: number): void {
  const { clusters, sites } = calibrationTotals(e);
  e.clustersPerSweep = Math.max(1, Math.round(V / (clusters > 0 ? sites / clusters : 1)));
}
