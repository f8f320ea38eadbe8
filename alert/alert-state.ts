/**
 * What an alert becomes after it is posted: repeats folded into it, and changes applied from Slack.
 * Kept with the alert's group (stores/alert-groups.ts) and drawn by both renderers.
 */
import type { Button } from '@slack/types';

export interface RepeatInfo {
  /** How many incidents of this workload the message now stands for (including the first). */
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  /** Pod of the latest repeat, when it differs. */
  lastPod?: string;
}

/** A change applied from Slack, shown on the alert from then on (repeat updates keep it). */
export interface AlertChange {
  /** Unique per change, e.g. "raise_1700000000000". */
  id: string;
  /** The audit line (mrkdwn, already escaped). */
  text: string;
  /** The button that reverses this change, if any (it replaces Raise/Undo on the alert). */
  undo?: Button;
}
