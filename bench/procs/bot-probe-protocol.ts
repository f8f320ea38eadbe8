/** Messages between the bot memory benchmark and its bot-probe child process. */

export type BotProbeCommand = { cmd: 'sample' } | { cmd: 'peak' };

interface Memory {
  rssBytes: number;
  heapBytes: number;
}

export interface BotProbeStarted extends Memory {
  started: true;
  /** Where Slack sends commands: http://127.0.0.1:<port>/slack/events. */
  url: string;
}

/** Memory when sampling started (after a forced collection). */
export interface BotProbeSampling extends Memory {
  sampling: true;
}

/** The highest RSS and heap seen since sampling started. */
export interface BotProbePeak extends Memory {
  peak: true;
}

export type BotProbeMessage = BotProbeStarted | BotProbeSampling | BotProbePeak;
