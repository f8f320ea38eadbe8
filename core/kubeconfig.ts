import { accessSync, existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { Agent, type Dispatcher } from 'undici';
import { OombotError } from './errors.js';

/**
 * The kubeconfig reader of oombot's processes. @kubernetes/client-node's KubeConfig loads the whole
 * generated API (thousands of modules, about 65 MiB of a process's memory) with it, which a watcher
 * never uses. This reader covers what a kubeconfig or a pod's service account usually holds (tokens,
 * token files, basic auth, client certificates, CAs, insecure-skip-tls-verify, tls-server-name,
 * impersonation) the way client-node reads them; a user with an exec plugin or an auth-provider, or a
 * cluster behind a proxy-url, is left to client-node's KubeConfig, loaded only for them.
 */

/** How one request to the API server is authenticated. */
export interface KubeCredentials {
  /** Headers for one request, read fresh: a rotated token file or an exec plugin's new token is used. */
  headers(): Promise<Record<string, string>>;
  /**
   * A new connection pool with the cluster's TLS settings and the client certificate as they are now;
   * undefined: the process's default pool will do.
   */
  dispatcher(): Promise<Dispatcher | undefined>;
}

/** The current context of a kubeconfig: where the API server is, and how to authenticate to it. */
export interface LoadedKubeconfig {
  server: string;
  /** The current context's name ('' when there is none, as in a pod). */
  contextName: string;
  clusterName: string;
  credentials: KubeCredentials;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
export const IN_CLUSTER_TOKEN = `${SERVICE_ACCOUNT}/token`;

/** A token file is read again after this long (what client-go and client-node do for a pod's token). */
const TOKEN_FILE_MAX_AGE_MS = 60_000;

interface ClusterEntry {
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

interface UserEntry {
  token?: string;
  tokenFile?: string;
  certData?: string;
  certFile?: string;
  keyData?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  impersonate?: string;
  /** exec or auth-provider: client-node's KubeConfig authenticates this user. */
  plugin: boolean;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The entry called `name` in a kubeconfig list (clusters, users, contexts), as client-node finds it. */
function entry(list: unknown, name: string | undefined, key: string): Obj | undefined {
  if (!Array.isArray(list)) return undefined;
  const found = list.find((e) => isObj(e) && e.name === name) as Obj | undefined;
  if (!found) return undefined;
  return isObj(found[key]) ? found[key] : {};
}

function absolute(root: string, file: string | undefined): string | undefined {
  return file && !isAbsolute(file) ? join(root, file) : file;
}

/** Reads a kubeconfig file's current context. Throws what is wrong with it. */
export function loadKubeconfigFile(file: string): LoadedKubeconfig {
  return loadKubeconfigText(readFileSync(file, 'utf-8'), dirname(file), file);
}

/**
 * A kubeconfig's current context from its text; relative file names are taken from `root` (the file's
 * directory). `file`, when given, is loaded by client-node for a user that needs it.
 */
export function loadKubeconfigText(text: string, root: string, file?: string): LoadedKubeconfig {
  const doc = parseYaml(text);
  if (!isObj(doc)) throw new Error('the kubeconfig is not a YAML mapping');
  const contextName = str(doc['current-context']) ?? '';
  const context = entry(doc.contexts, contextName, 'context');
  const clusterName = str(context?.cluster) ?? '';
  const c = context ? entry(doc.clusters, clusterName, 'cluster') : undefined;
  const server = str(c?.server);
  if (!c || !server) {
    if (c) throw new Error(`the cluster "${clusterName}" of the current context has no server`);
    return { server: '', contextName, clusterName, credentials: noAuth() };
  }
  const cluster: ClusterEntry = {
    server: server.replace(/\/$/, ''),
    caData: str(c['certificate-authority-data']),
    caFile: absolute(root, str(c['certificate-authority'])),
    skipTLSVerify: c['insecure-skip-tls-verify'] === true,
    tlsServerName: str(c['tls-server-name']),
    proxyUrl: str(c['proxy-url']),
  };
  const u = entry(doc.users, str(context?.user), 'user') ?? {};
  const user: UserEntry = {
    token: str(u.token),
    tokenFile: str(u['token-file']),
    certData: str(u['client-certificate-data']),
    certFile: absolute(root, str(u['client-certificate'])),
    keyData: str(u['client-key-data']),
    keyFile: absolute(root, str(u['client-key'])),
    username: str(u.username),
    password: typeof u.password === 'string' ? u.password : undefined,
    impersonate: str(u.as),
    plugin: isObj(u.exec) || isObj(u['auth-provider']),
  };
  const credentials = (user.plugin || cluster.proxyUrl) && file ? clientNodeAuth(file) : fileAuth(cluster, user);
  return { server: cluster.server, contextName, clusterName, credentials };
}

/**
 * The pod's service account: the API server from the environment, its token re-read as it rotates. The
 * context is named as client-node names it, so the cluster's name in alerts and incident ids stays the same.
 */
export function loadInCluster(env: Record<string, string | undefined> = process.env, dir = SERVICE_ACCOUNT): LoadedKubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const cluster: ClusterEntry = { server, caFile: `${dir}/ca.crt`, skipTLSVerify: false };
  return { server, contextName: 'inClusterContext', clusterName: 'inCluster', credentials: fileAuth(cluster, { tokenFile: `${dir}/token`, plugin: false }) };
}

/**
 * What client-node's loadFromDefault finds: the first file of $KUBECONFIG, else ~/.kube/config, else the
 * pod's service account, else http://localhost:8080 without credentials.
 */
export function loadDefault(env: Record<string, string | undefined> = process.env): LoadedKubeconfig {
  const first = env.KUBECONFIG?.split(':').find((p) => p !== '');
  if (first) return loadKubeconfigFile(first);
  const home = env.HOME && accessible(env.HOME) ? env.HOME : undefined;
  if (home && existsSync(join(home, '.kube', 'config'))) return loadKubeconfigFile(join(home, '.kube', 'config'));
  if (accessible(IN_CLUSTER_TOKEN)) return loadInCluster(env);
  return {
    server: 'http://localhost:8080',
    contextName: 'loaded-context',
    clusterName: 'cluster',
    credentials: fileAuth({ server: 'http://localhost:8080', skipTLSVerify: false }, { plugin: false }),
  };
}

function accessible(path: string): boolean {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
}

function noAuth(): KubeCredentials {
  return { headers: async () => ({}), dispatcher: async () => undefined };
}

function fromFileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return undefined;
}

/** Tokens, basic auth and client certificates, from the kubeconfig or the files it names. */
function fileAuth(cluster: ClusterEntry, user: UserEntry): KubeCredentials {
  let token: { value: string; readAt: number } | undefined;
  const tokenFromFile = (file: string): string => {
    const now = Date.now();
    if (!token || now - token.readAt > TOKEN_FILE_MAX_AGE_MS) token = { value: readFileSync(file, 'utf-8').trim(), readAt: now };
    return token.value;
  };
  return {
    async headers() {
      const headers: Record<string, string> = {};
      if (user.username) headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      const bearer = user.token ?? (user.tokenFile ? tokenFromFile(user.tokenFile) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      if (user.impersonate) headers['impersonate-user'] = user.impersonate;
      return headers;
    },
    async dispatcher() {
      if (cluster.server.startsWith('http:') && !cluster.skipTLSVerify) {
        throw new OombotError('CONFIG', `the kubeconfig's server ${cluster.server} is plain HTTP, which is not allowed without insecure-skip-tls-verify`, {
          hint: 'use the https:// address of the API server, or set insecure-skip-tls-verify: true on the cluster (only for a local test cluster)',
        });
      }
      const tls: Record<string, unknown> = {};
      const ca = fromFileOrData(cluster.caFile, cluster.caData);
      const cert = fromFileOrData(user.certFile, user.certData);
      const key = fromFileOrData(user.keyFile, user.keyData);
      if (ca) tls.ca = ca;
      if (cert) tls.cert = cert;
      if (key) tls.key = key;
      // Only when asked: otherwise NODE_TLS_REJECT_UNAUTHORIZED decides, as with client-node.
      if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
      if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
      // 30 s keep-alive probes, as client-go: a cloud load balancer drops idle connections at 60 s.
      return new Agent({ connect: { ...tls, keepAlive: true, keepAliveInitialDelay: 30_000 } });
    },
  };
}

/** exec plugins, auth-providers and proxies: client-node's KubeConfig, loaded the first time it is needed. */
function clientNodeAuth(file: string): KubeCredentials {
  let loaded: Promise<{ kc: import('@kubernetes/client-node').KubeConfig; lib: typeof import('@kubernetes/client-node') }> | undefined;
  const context = async () => {
    loaded ??= import('@kubernetes/client-node').then((lib) => {
      const kc = new lib.KubeConfig();
      kc.loadFromFile(file);
      return { kc, lib };
    });
    const { kc, lib } = await loaded;
    const ctx = new lib.RequestContext(kc.getCurrentCluster()?.server ?? '', lib.HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    return ctx;
  };
  return {
    headers: async () => (await context()).getHeaders() as Record<string, string>,
    dispatcher: async () => (await context()).getDispatcher(),
  };
}
