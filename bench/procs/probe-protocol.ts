/** Messages between the watcher benchmark and its watcher-probe child process. */

export type ProbeCommand = { cmd: 'expect'; count: number };

/** process.memoryUsage() after a forced garbage collection. */
export interface ProbeMemory {
  rssBytes: number;
  heapBytes: number;
  /** V8 heap committed (used or not). */
  heapTotalBytes: number;
  /** Memory of C++ objects bound to JavaScript, Buffers and ArrayBuffers included. */
  externalBytes: number;
  arrayBuffersBytes: number;
}

export interface ProbeSynced extends ProbeMemory {
  synced: true;
  syncMs: number;
  pods: number;
}

export interface ProbeIngested extends ProbeMemory {
  ingested: number;
  ms: number;
}
