// Runs slice actions: every finished run is kept (config, curves, final metrics) for comparison. (Being built.)

/** Called by the training actions when a run ends (done, stopped or failed): keeps it in the run list. */
export function recordRun(): void {}
