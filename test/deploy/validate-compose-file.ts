/**
 * Checks a docker-compose.yml against the part of the Compose Specification a small service setup uses
 * (top-level services and volumes; the service keys below with their types and allowed values). The
 * official JSON schema cannot be fetched here, so this is a strict subset of it: a key outside the subset
 * is reported, whether misspelled or merely not listed (then list it, as the specification defines it).
 */
type Check = (v: unknown, path: string, problems: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, path, p) => {
  if (typeof v !== 'string') p.push(`${path}: expected a string`);
};
const bool: Check = (v, path, p) => {
  if (typeof v !== 'boolean') p.push(`${path}: expected true or false`);
};
const int: Check = (v, path, p) => {
  if (!Number.isInteger(v)) p.push(`${path}: expected an integer`);
};
const duration: Check = (v, path, p) => {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(us|ms|s|m|h))+$/.test(v)) p.push(`${path}: expected a duration like 30s or 1m30s`);
};
const oneOf =
  (...allowed: string[]): Check =>
  (v, path, p) => {
    if (typeof v !== 'string' || !allowed.includes(v)) p.push(`${path}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  };
const listOf =
  (item: Check): Check =>
  (v, path, p) => {
    if (!Array.isArray(v)) p.push(`${path}: expected a list`);
    else v.forEach((x, i) => item(x, `${path}[${i}]`, p));
  };
const either =
  (...checks: Check[]): Check =>
  (v, path, p) => {
    const attempts = checks.map((c) => {
      const q: string[] = [];
      c(v, path, q);
      return q;
    });
    if (!attempts.some((q) => q.length === 0)) p.push(...attempts[0]!);
  };
const mapOf =
  (value: Check): Check =>
  (v, path, p) => {
    if (!isObject(v)) p.push(`${path}: expected a map`);
    else for (const [k, x] of Object.entries(v)) value(x, `${path}.${k}`, p);
  };
const obj =
  (fields: Record<string, Check>, required: string[] = []): Check =>
  (v, path, p) => {
    if (!isObject(v)) {
      p.push(`${path}: expected a map`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('x-')) continue;
      const c = fields[k];
      if (!c) p.push(`${path}.${k}: unknown key (known: ${Object.keys(fields).join(', ')})`);
      else c(x, `${path}.${k}`, p);
    }
    for (const r of required) if (v[r] === undefined) p.push(`${path}.${r}: required`);
  };
const nullable =
  (c: Check): Check =>
  (v, path, p) => {
    if (v !== null) c(v, path, p);
  };

const stringOrList = either(str, listOf(str));
const scalar: Check = (v, path, p) => {
  if (!(v === null || ['string', 'number', 'boolean'].includes(typeof v))) p.push(`${path}: expected a string, number or boolean`);
};

const service = obj({
  image: str,
  build: either(
    str,
    obj({ context: str, dockerfile: str, args: either(mapOf(scalar), listOf(str)), target: str, cache_from: listOf(str), labels: mapOf(str) }),
  ),
  command: stringOrList,
  entrypoint: stringOrList,
  environment: either(mapOf(scalar), listOf(str)),
  env_file: stringOrList,
  volumes: listOf(either(str, obj({ type: oneOf('bind', 'volume', 'tmpfs', 'npipe', 'cluster'), source: str, target: str, read_only: bool }, ['target']))),
  ports: listOf(either(str, int, obj({ target: int, published: either(str, int), protocol: str, host_ip: str, mode: str }))),
  depends_on: either(
    listOf(str),
    mapOf(obj({ condition: oneOf('service_started', 'service_healthy', 'service_completed_successfully'), restart: bool, required: bool }, ['condition'])),
  ),
  healthcheck: obj({
    test: stringOrList,
    interval: duration,
    timeout: duration,
    retries: int,
    start_period: duration,
    start_interval: duration,
    disable: bool,
  }),
  restart: (v, path, p) => {
    if (typeof v !== 'string' || !/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(v)) p.push(`${path}: not a restart policy`);
  },
  read_only: bool,
  tmpfs: stringOrList,
  cap_add: listOf(str),
  cap_drop: listOf(str),
  security_opt: listOf(str),
  stop_grace_period: duration,
  stop_signal: str,
  user: str,
  init: bool,
  working_dir: str,
  container_name: str,
  hostname: str,
  labels: either(mapOf(str), listOf(str)),
  networks: either(listOf(str), mapOf(nullable(obj({ aliases: listOf(str), ipv4_address: str, ipv6_address: str })))),
  profiles: listOf(str),
  mem_limit: either(str, int),
  pull_policy: oneOf('always', 'never', 'missing', 'build', 'if_not_present'),
  platform: str,
});

const compose = obj({
  name: str,
  services: mapOf(service),
  volumes: mapOf(nullable(obj({ driver: str, driver_opts: mapOf(scalar), external: bool, labels: mapOf(str), name: str }))),
  networks: mapOf(nullable(obj({ driver: str, external: bool, name: str, internal: bool }))),
});

export function validateComposeFile(doc: unknown): string[] {
  const problems: string[] = [];
  compose(doc, 'compose', problems);
  return problems;
}
