/**
 * Child process: watches the open files of another process (argv[2]: pid) and its connections to a
 * port (argv[3]) once a second, from outside so that the watched process's event loop pays nothing.
 * Answers {cmd:'peak'} with the highest figures seen so far (undefined where /proc is not available).
 */
import { countConnectionsTo, countOpenFiles } from '../count-open-files.js';
import type { SamplerCommand, SamplerPeak } from './sampler-protocol.js';

const pid = Number(process.argv[2]);
const port = Number(process.argv[3]);
const peak: SamplerPeak['peak'] = {};

function sample(): void {
  const files = countOpenFiles(pid);
  if (files !== undefined) peak.openFiles = Math.max(peak.openFiles ?? 0, files);
  const connections = countConnectionsTo(pid, port);
  if (connections !== undefined) peak.connections = Math.max(peak.connections ?? 0, connections);
}

process.on('disconnect', () => process.exit(0));
process.on('message', (msg: SamplerCommand) => {
  if (msg.cmd === 'peak') {
    sample();
    process.send?.({ peak } satisfies SamplerPeak);
  }
});
setInterval(sample, 1_000);
sample();
