import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { loadInCluster } from '../../core/kubeconfig.js';

/** What the API server saw of one request: its credentials. */
interface Seen {
  authorization?: string;
  impersonate?: string;
  clientCert?: string;
}

function answer(seen: Seen[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate?.();
    seen.push({
      authorization: req.headers.authorization,
      impersonate: req.headers['impersonate-user'] as string | undefined,
      clientCert: peer?.subject?.CN as string | undefined,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"kind":"PodList","items":[]}');
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function kubeconfig(dir: string, name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  const path = join(dir, name);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster }],
    users: [{ name: 'u', user }],
    contexts: [{ name: `ctx-${name}`, context: { cluster: 'c', user: 'u' } }],
    'current-context': `ctx-${name}`,
  };
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

describe('kubeconfig: how oombot authenticates to the API server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'oombot-kubeconfig-'));
  const seen: Seen[] = [];
  const plain = createHttpServer(answer(seen));
  let url = '';
  const clients: KubeHttp[] = [];
  const open = (kubeconfigPath: string) => {
    const kube = new KubeHttp(loadKubeTarget({ kubeconfig: kubeconfigPath }));
    clients.push(kube);
    return kube;
  };
  beforeAll(async () => {
    url = `http://127.0.0.1:${await listen(plain)}`;
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    seen.length = 0;
    for (const k of clients.splice(0)) await k.close();
  });
  afterAll(async () => {
    plain.closeAllConnections();
    await new Promise((r) => plain.close(r));
  });

  it("sends the user's token, basic auth and impersonation; the first of several KUBECONFIG paths names the cluster", async () => {
    const first = kubeconfig(dir, 'token', { server: url, 'insecure-skip-tls-verify': true }, { token: 'abc', as: 'olga' });
    const second = kubeconfig(dir, 'other', { server: 'https://elsewhere.invalid', 'insecure-skip-tls-verify': true }, { token: 'never' });
    const target = loadKubeTarget({ kubeconfig: `${first}:${second}` });
    expect(target.clusterName).toBe('ctx-token');
    expect(target.server).toBe(url);
    const kube = new KubeHttp(target);
    clients.push(kube);
    await kube.getJson('/api/v1/pods');
    await open(kubeconfig(dir, 'basic', { server: url, 'insecure-skip-tls-verify': true }, { username: 'admin', password: 's3cret' })).getJson('/api/v1/pods');
    expect(seen).toEqual([
      { authorization: 'Bearer abc', impersonate: 'olga', clientCert: undefined },
      { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}`, impersonate: undefined, clientCert: undefined },
    ]);
  });

  it('reads a token file again once it may have rotated (after a minute)', async () => {
    const tokenFile = join(dir, 'rotating-token');
    writeFileSync(tokenFile, 'first-token\n');
    const kube = open(kubeconfig(dir, 'token-file', { server: url, 'insecure-skip-tls-verify': true }, { 'token-file': tokenFile }));
    await kube.getJson('/api/v1/pods');
    writeFileSync(tokenFile, 'rotated-token');
    await kube.getJson('/api/v1/pods');
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    await kube.getJson('/api/v1/pods');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer first-token', 'Bearer first-token', 'Bearer rotated-token']);
  });

  it('refuses a plain-HTTP server without insecure-skip-tls-verify, saying what to set', async () => {
    const kube = open(kubeconfig(dir, 'plain', { server: url }, { token: 'abc' }));
    await expect(kube.getJson('/api/v1/pods')).rejects.toThrow(/plain HTTP.*insecure-skip-tls-verify/);
    expect(seen).toEqual([]);
  });

  it('fails at start with a message naming a KUBECONFIG that does not exist, or one without a current context', () => {
    expect(() => loadKubeTarget({ kubeconfig: join(dir, 'missing') })).toThrow(/KUBECONFIG points to .*missing.*which does not exist/);
    const none = join(dir, 'no-context');
    writeFileSync(none, 'apiVersion: v1\nkind: Config\nclusters: []\n');
    expect(() => loadKubeTarget({ kubeconfig: none })).toThrow(/no current context/);
  });

  it("runs an exec plugin through client-node's KubeConfig and sends the token it prints", async () => {
    const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec-plugin' } });
    const kube = open(
      kubeconfig(
        dir,
        'exec',
        { server: url, 'insecure-skip-tls-verify': true },
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: process.execPath,
            args: ['-e', `process.stdout.write(${JSON.stringify(credential)})`],
          },
        },
      ),
    );
    await kube.getJson('/api/v1/pods');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer from-exec-plugin']);
  });

  describe('over TLS', () => {
    const seenTls: Seen[] = [];
    let server: Server | undefined;
    let port = 0;
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    beforeAll(async () => {
      writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=test-ca', '-days', '1');
      for (const [name, cn] of [
        ['server', 'localhost'],
        ['client', 'oombot-client'],
      ]) {
        openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
        openssl(
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '1',
          '-extfile',
          'san.ext',
        );
      }
      const file = (n: string) => readFileSync(join(dir, n));
      server = createHttpsServer(
        { key: file('server.key'), cert: file('server.crt'), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: false },
        answer(seenTls),
      );
      port = await listen(server);
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
    });

    it('verifies the server by the CA and presents the client certificate (files relative to the kubeconfig, or data)', async () => {
      const kube = open(
        kubeconfig(
          dir,
          'tls',
          { server: `https://127.0.0.1:${port}`, 'certificate-authority': 'ca.crt' },
          { 'client-certificate-data': readFileSync(join(dir, 'client.crt')).toString('base64'), 'client-key': 'client.key' },
        ),
      );
      await kube.getJson('/api/v1/pods');
      expect(seenTls.at(-1)?.clientCert).toBe('oombot-client');
      // Without the CA the server is not trusted: the call fails as unreachable, and nothing is sent.
      const before = seenTls.length;
      const untrusted = open(kubeconfig(dir, 'no-ca', { server: `https://127.0.0.1:${port}` }, { token: 'abc' }));
      await expect(untrusted.getJson('/api/v1/pods')).rejects.toMatchObject({ code: 'KUBE_UNREACHABLE' });
      expect(seenTls.length).toBe(before);
    });

    it("in a pod: the service account's token and CA, the server from the environment, the cluster named as before", async () => {
      const sa = mkdtempSync(join(tmpdir(), 'oombot-sa-'));
      writeFileSync(join(sa, 'token'), 'sa-token');
      writeFileSync(join(sa, 'ca.crt'), readFileSync(join(dir, 'ca.crt')));
      const loaded = loadInCluster({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port) }, sa);
      expect(loaded.contextName).toBe('inClusterContext');
      expect(loadInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa).server).toBe('https://[fd00::1]:443');
      const kube = new KubeHttp({ credentials: loaded.credentials, server: loaded.server, clusterName: 'sim' });
      clients.push(kube);
      await kube.getJson('/api/v1/pods');
      expect(seenTls.at(-1)?.authorization).toBe('Bearer sa-token');
    });
  });
});
