import { readFileSync, readdirSync } from 'node:fs';
import { GiB } from '../../core/quantity.js';
import type { EnrichedIncident } from '../../diagnosis/enriched.js';

export const FIXTURES_DIR = new URL('../fixtures/enriched/', import.meta.url);
export const GOLDEN_DIR = new URL('../golden/', import.meta.url);

/** The policy the fixtures are diagnosed under (OOMBOT_MAX_MEMORY_LIMIT=8Gi). */
export const POLICY = { maxMemoryLimitBytes: 8 * GiB };

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadFixture(name: string): EnrichedIncident {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES_DIR), 'utf8')) as EnrichedIncident;
}
