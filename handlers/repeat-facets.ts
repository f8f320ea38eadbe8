import type { Incident } from '../core/incident.js';
import type { Diagnosis } from '../diagnosis/diagnosis.js';
import { isPodPresent, type EnrichedIncident } from '../diagnosis/enriched.js';
import type { RepeatFacets } from '../stores/alert-groups.js';

/**
 * What an incident is about, as its alert's thread compares repeats: the node it ran on, the container,
 * the process the kernel killed (node agent kills), the cause found and the container's image. A repeat
 * that brings none of these new adds only to the alert's count.
 */
export function repeatFacets(incident: Incident, enriched: EnrichedIncident, diagnosis: Diagnosis): RepeatFacets {
  const t = incident.termination;
  const pod = isPodPresent(enriched.pod) ? enriched.pod : undefined;
  const container = pod?.containers.find((c) => c.name === t?.container) ?? pod?.initContainers?.find((c) => c.name === t?.container);
  const facets: RepeatFacets = {
    node: incident.pod?.nodeName ?? incident.nodeOom?.node,
    container: t?.container ?? incident.processOom?.container,
    process: incident.processOom?.process,
    cause: diagnosis.cause,
    image: t?.image ?? container?.image,
  };
  for (const k of Object.keys(facets) as (keyof RepeatFacets)[]) if (!facets[k]) delete facets[k];
  return facets;
}
