// Public API of the optimizer package: AdamW (torch semantics), clipping, parameter groups, lr schedules.
export { makeAdamW, type AdamW, type AdamWConfig, type OptimState } from './adamw.ts';
export { clipByGlobalNorm, globalNorm } from './clip.ts';
export { defaultDecay, layerDecayMultipliers } from './groups.ts';
export { DEFAULT_WARMUP_STEPS, lrAt, makeSchedule, scaleLr, scheduleAt, type Schedule, type ScheduleConfig } from './schedule.ts';
