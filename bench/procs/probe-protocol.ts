/** Messages between the watcher benchmark and its watcher-probe child process. */

export type ProbeCommand = { cmd: 'expect'; count: number };

export interface ProbeSynced {
  synced: true;
  syncMs: number;
  pods: number;
  rssBytes: number;
  heapBytes: number;
}

export interface ProbeIngested {
  ingested: number;
  ms: number;
  rssBytes: number;
  heapBytes: number;
}
