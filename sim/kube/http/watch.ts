/**
 * WATCH of a resource: the initial ADDED events (or the history since a resourceVersion, 410 Gone when
 * it is compacted away), then every change, with bookmarks and the server-side timeout.
 */
import type { ServerResponse } from 'node:http';
import type { SimCluster } from '../cluster.js';
import type { ResourceDef } from '../resources.js';
import { makeStatus } from '../status.js';
import { parseFieldSelector, parseLabelSelector, type Matcher } from '../selectors.js';
import { WatchConn } from '../watch-conn.js';
import { JSON_HEADERS } from './respond.js';

/** What a watch needs of the server that holds it. */
export interface WatchHost {
  readonly cluster: SimCluster;
  /** Open watches; a watch removes itself when it ends. */
  readonly watches: Set<WatchConn>;
  /** While stalled, watches get nothing, not even bookmarks. */
  readonly stalled: boolean;
  readonly bookmarkIntervalMs: number;
  /** Server-side timeout when the client sends no timeoutSeconds (default random 30-60 min). */
  readonly watchTimeoutSeconds: number | undefined;
}

export function serveWatch(host: WatchHost, res: ServerResponse, def: ResourceDef, ns: string | undefined, q: Record<string, string>): void {
  const cluster = host.cluster;
  const label: Matcher = parseLabelSelector(q.labelSelector);
  const field: Matcher = parseFieldSelector(q.fieldSelector, def);
  const rvParam = q.resourceVersion;
  const sendInitial = !rvParam || rvParam === '0' || q.sendInitialEvents === 'true';
  const bookmarks = q.allowWatchBookmarks === 'true' || q.allowWatchBookmarks === '1';
  res.writeHead(200, { ...JSON_HEADERS, 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  const conn = new WatchConn(def, res, ns, label, field, bookmarks);
  if (!sendInitial) {
    const rv = Number(rvParam);
    const history = Number.isFinite(rv) ? cluster.changesSince(def.plural, rv) : undefined;
    if (!history) {
      const oldest = cluster.oldestResourceVersion(def.plural);
      const status = makeStatus(410, `too old resource version: ${rvParam} (${oldest})`, 'Expired');
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    if (!host.stalled) for (const c of history) conn.deliver(c);
  } else if (!host.stalled) {
    sendInitialEvents(cluster, conn, def);
    if (q.sendInitialEvents === 'true' && bookmarks) conn.bookmark(cluster.resourceVersion, true);
  }
  host.watches.add(conn);
  res.on('close', () => {
    conn.dispose();
    host.watches.delete(conn);
  });
  const timeout = q.timeoutSeconds ? Number(q.timeoutSeconds) : (host.watchTimeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800));
  conn.addTimer(
    setTimeout(() => {
      host.watches.delete(conn);
      conn.end();
    }, timeout * 1000),
  );
  if (bookmarks) {
    conn.addTimer(
      setInterval(() => {
        if (!host.stalled) conn.bookmark(cluster.resourceVersion);
      }, host.bookmarkIntervalMs),
    );
  }
}

/** ADDED for every current object the watch matches, written in batches of 1000 lines. */
function sendInitialEvents(cluster: SimCluster, conn: WatchConn, def: ResourceDef): void {
  let batch: string[] = [];
  for (const o of cluster.store(def.plural).objects.values()) {
    if (!conn.matches(o)) continue;
    batch.push(conn.line('ADDED', o));
    if (batch.length >= 1000) {
      conn.write(batch.join(''));
      batch = [];
    }
  }
  if (batch.length) conn.write(batch.join(''));
}
