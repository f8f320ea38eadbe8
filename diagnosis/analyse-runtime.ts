/**
 * Judges a container's runtime memory settings against its limit.
 * - strong: the setting alone explains a limit kill (heap at or above the limit, container support off);
 * - weak: it leaves too little room (heap above 75% of the limit, MaxRAMPercentage above 75);
 * - hints: worth checking, never a cause on their own (Go without GOMEMLIMIT, .NET hard limit set).
 * `raisingHelps` is false when a bigger limit would only grow the heap with it (a percentage, or a
 * JVM that ignores the container limit).
 */
import { formatMemory, formatMemoryApprox } from '../core/quantity.js';
import type { RuntimeMemorySetting } from './enriched.js';
import { describeSetting } from './runtime-settings.js';
import { cgroupBlindRuntime } from './runtime-version.js';

/** Heap share of the limit above which non-heap memory (metaspace, threads, buffers) has too little room. */
export const MAX_HEAP_SHARE = 0.75;

export interface RuntimeFinding {
  text: string;
  advice: string;
  raisingHelps: boolean;
  /** A fixed heap size that must fit under the limit with room (for sizing a proposal). */
  heapBytes?: number;
  /** Why a bigger limit would not help, when it would not (default: the heap grows with the limit). */
  whyNotRaise?: string;
  /** The headline's reason when this finding is the cause. */
  headline?: string;
}

export interface RuntimeAnalysis {
  strong: RuntimeFinding[];
  weak: RuntimeFinding[];
  hints: string[];
}

function last<T>(items: T[]): T | undefined {
  return items[items.length - 1];
}

export function analyseRuntime(settings: readonly RuntimeMemorySetting[], limitBytes: number | undefined, limitText?: string, image?: string): RuntimeAnalysis {
  const out: RuntimeAnalysis = { strong: [], weak: [], hints: [] };
  const by = (name: RuntimeMemorySetting['name']) => settings.filter((s) => s.name === name);
  // The JVM uses the last occurrence of a flag; command/args come before env in the list, but
  // JAVA_TOOL_OPTIONS is read first by the JVM, so command-line flags win: prefer them.
  const pick = (name: RuntimeMemorySetting['name']) => last(by(name).filter((s) => s.source !== 'env')) ?? last(by(name));

  const xmx = pick('-Xmx');
  const pct = pick('MaxRAMPercentage');
  const maxRam = pick('MaxRAM');
  const containerSupport = pick('UseContainerSupport');
  const oldSpace = pick('--max-old-space-size');
  const phpLimit = pick('memory_limit');

  if (containerSupport && containerSupport.enabled === false) {
    out.strong.push({
      text: `${describeSetting(containerSupport)} makes the JVM size itself from the node's memory, not the container limit`,
      advice: 'Remove -XX:-UseContainerSupport so the JVM sizes its heap from the container limit.',
      raisingHelps: false,
    });
  }
  if (limitBytes !== undefined && limitBytes > 0) {
    const limit = limitText ?? formatMemoryApprox(limitBytes);
    const room = formatMemory(Math.floor((limitBytes * MAX_HEAP_SHARE) / (1024 * 1024)) * 1024 * 1024);
    const sized = (s: RuntimeMemorySetting | undefined, what: string, fix: string) => {
      if (!s || s.bytes === undefined) return;
      if (s.bytes >= limitBytes) {
        out.strong.push({
          text: `${describeSetting(s)} lets the ${what} grow to ${formatMemoryApprox(s.bytes)}, at or above the ${limit} limit`,
          advice: `${fix} to at most 75% of the limit (about ${room}), or raise the limit so the ${what} fits with room for non-heap memory.`,
          raisingHelps: true,
          heapBytes: s.bytes,
        });
      } else if (s.bytes > limitBytes * MAX_HEAP_SHARE) {
        out.weak.push({
          text: `${describeSetting(s)} is ${Math.round((s.bytes / limitBytes) * 100)}% of the ${limit} limit, leaving little room for memory outside the ${what}`,
          advice: `${fix} to at most 75% of the limit (about ${room}), or raise the limit.`,
          raisingHelps: true,
          heapBytes: s.bytes,
        });
      }
    };
    sized(xmx, 'Java heap', 'Lower -Xmx');
    sized(oldSpace, 'Node.js old space', 'Lower --max-old-space-size');
    sized(phpLimit, 'PHP memory per process', 'Lower memory_limit');
    sized(pick('DOTNET_GCHeapHardLimit'), '.NET GC heap', 'Lower DOTNET_GCHeapHardLimit');
    const goLimit = pick('GOMEMLIMIT');
    if (goLimit?.bytes !== undefined && goLimit.bytes >= limitBytes) {
      out.weak.push({
        text: `${describeSetting(goLimit)} is at or above the ${limit} limit: the Go GC does not work harder before the kernel kills it`,
        advice: `Set GOMEMLIMIT to about 90% of the limit (${formatMemoryApprox(Math.floor(limitBytes * 0.9))}).`,
        raisingHelps: true,
        headline: 'its GOMEMLIMIT is at or above the limit, so the Go GC never tightened before the kill',
      });
    }
    if (maxRam && maxRam.bytes !== undefined && maxRam.bytes > limitBytes && !xmx) {
      out.strong.push({
        text: `${describeSetting(maxRam)} tells the JVM it has ${formatMemoryApprox(maxRam.bytes)}, more than the ${limit} limit`,
        advice: 'Remove -XX:MaxRAM (the JVM reads the container limit itself) or set it below the limit.',
        raisingHelps: false,
      });
    }
  }
  if (pct && pct.percent !== undefined && !xmx) {
    const finding: RuntimeFinding = {
      text: `${describeSetting(pct)} gives the Java heap ${pct.percent}% of the limit, leaving ${Math.max(0, 100 - pct.percent)}% for metaspace, threads and direct buffers`,
      advice: 'Lower -XX:MaxRAMPercentage to 75 or less; a bigger limit alone only grows the heap with it.',
      raisingHelps: false,
    };
    if (pct.percent >= 90) out.strong.push(finding);
    else if (pct.percent > MAX_HEAP_SHARE * 100) out.weak.push(finding);
  }
  const blind = cgroupBlindRuntime(image);
  // With the heap set explicitly the runtime's own sizing does not matter.
  const heapSet = blind?.runtime === 'JDK' ? Boolean(xmx || pct || maxRam) : Boolean(oldSpace);
  if (blind && !heapSet) {
    out.weak.push({
      text: `The image tag names ${blind.runtime} ${blind.version}, which does not see cgroup v2 limits (fixed in ${blind.fixedIn}): on a cgroup v2 node it sizes its heap from the node's memory, not the container limit, and no ${blind.flag} bounds it`,
      advice: `Upgrade to ${blind.runtime} ${blind.fixedIn} or later, or set ${blind.flag} to about 75% of the limit.`,
      raisingHelps: false,
      whyNotRaise: `${blind.runtime} ${blind.version} may size its heap from the node's memory whatever the limit`,
      headline: `its image runs ${blind.runtime} ${blind.version}, which does not see cgroup v2 limits and no ${blind.flag} bounds its heap`,
    });
  }
  const names = new Set(settings.map((s) => s.name));
  if (names.has('GOGC') && !names.has('GOMEMLIMIT')) {
    out.hints.push('GOGC is set but GOMEMLIMIT is not: a Go program then ignores the container limit; set GOMEMLIMIT to about 90% of the limit.');
  }
  for (const s of settings) {
    if ((s.name === 'DOTNET_GCHeapHardLimit' && s.bytes === undefined) || s.name === 'DOTNET_GCHeapHardLimitPercent') {
      out.hints.push(`${s.envName ?? s.name} is set (value not read): check that it keeps the .NET heap below the limit.`);
    }
    if (s.name === 'memory_limit' && s.source === 'env') {
      out.hints.push(`${s.envName} is set (value not read): PHP memory_limit applies per process, so workers × memory_limit must fit under the limit.`);
    }
  }
  return out;
}
