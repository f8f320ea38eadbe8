/**
 * Pure builders of the pod shapes the simulated cluster writes and the tests construct directly:
 * container specs and statuses, terminations, conditions, evictions and the kubelet's events.
 */
export * from './container.js';
export * from './termination.js';
export * from './conditions.js';
export * from './eviction.js';
export * from './events.js';
