import type { RedisClient } from '../core/queue.js';
import { KEY_PREFIX } from '../core/queue.js';

/** One working-set sample: epoch seconds and bytes. */
export interface MemoryPoint {
  at: number;
  bytes: number;
}

/** What one sampler round records for one container. */
export interface MemorySample {
  /** "namespace/pod/container": a container of a running pod. */
  container: string;
  at: number;
  bytes: number;
}

/** Points kept at the sampling interval (the recent tier). */
export const RECENT_POINTS = 240;
/** One point per minute (the largest of the minute), for this many minutes (the coarse tier). */
export const COARSE_POINTS = 240;
const RECORD = 8;

/**
 * Appends one sample to a container's two tiers and answers the recent tier's last `ARGV[4]` records.
 * Each tier is a string of fixed 8-byte records (uint32 epoch seconds, uint32 KiB, big-endian): about
 * 8 bytes a point instead of the 60 or so a sorted-set member costs. A full tier is rewritten whole
 * (SET of its newest records) rather than appended to, so Redis keeps no spare room after it: a full
 * tier costs its 1,920 bytes of records in a 2 KiB allocation. The coarse tier keeps the largest sample of each minute, so a spike survives the
 * downsampling. Both keys expire a while after the last sample: a container that is gone costs nothing.
 */
const APPEND_SAMPLE = `
local rec = ARGV[1]
local minute = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local maxRecent = tonumber(ARGV[5]) * 8
local maxCoarse = tonumber(ARGV[6]) * 8
local len = redis.call('STRLEN', KEYS[1])
if len + 8 > maxRecent then
  redis.call('SET', KEYS[1], redis.call('GETRANGE', KEYS[1], len + 8 - maxRecent, -1) .. rec)
  len = maxRecent
else
  len = redis.call('APPEND', KEYS[1], rec)
end
redis.call('PEXPIRE', KEYS[1], ttl)
local clen = redis.call('STRLEN', KEYS[2])
local last = clen >= 8 and redis.call('GETRANGE', KEYS[2], clen - 8, -1) or ''
local lastMinute = -1
if last ~= '' then
  lastMinute = math.floor((string.byte(last, 1) * 16777216 + string.byte(last, 2) * 65536 + string.byte(last, 3) * 256 + string.byte(last, 4)) / 60)
end
if lastMinute == minute then
  if string.sub(rec, 5, 8) > string.sub(last, 5, 8) then redis.call('SETRANGE', KEYS[2], clen - 8, rec) end
else
  if clen + 8 > maxCoarse then
    redis.call('SET', KEYS[2], redis.call('GETRANGE', KEYS[2], clen + 8 - maxCoarse, -1) .. rec)
  else
    redis.call('APPEND', KEYS[2], rec)
  end
end
redis.call('PEXPIRE', KEYS[2], ttl)
local from = len - want * 8
if from < 0 then from = 0 end
return redis.call('GETRANGE', KEYS[1], from, -1)
`;

type WithAppend = RedisClient & {
  oombotAppendSampleBuffer(recent: string, coarse: string, rec: Buffer, minute: number, ttl: number, want: number, maxR: number, maxC: number): Promise<Buffer>;
};

/**
 * The working set of every container with a memory limit over time, as the sampler saw it: the last
 * RECENT_POINTS samples at the sampling interval, and the largest sample of each minute for the last
 * COARSE_POINTS minutes (4 h). Bound: 2 × 240 × 8 bytes of data per container plus two keys.
 */
export class MemoryHistory {
  private readonly redis: WithAppend;

  constructor(
    redis: RedisClient,
    private readonly queueName: string,
    private readonly cluster: string,
    private readonly ttlMs = (COARSE_POINTS + 10) * 60_000,
  ) {
    if (!('oombotAppendSample' in redis)) {
      redis.defineCommand('oombotAppendSample', { numberOfKeys: 2, lua: APPEND_SAMPLE });
    }
    this.redis = redis as WithAppend;
  }

  private key(tier: 'recent' | 'coarse', container: string): string {
    return `${KEY_PREFIX}:${this.queueName}:mem:${tier}:${this.cluster}/${container}`;
  }

  /** Records one round's samples; answers each container's last `recent` points, oldest first. */
  async record(samples: MemorySample[], recent = 8): Promise<Map<string, MemoryPoint[]>> {
    const out = new Map<string, MemoryPoint[]>();
    for (let i = 0; i < samples.length; i += 1000) {
      const batch = samples.slice(i, i + 1000);
      const pipe = this.redis.pipeline() as unknown as WithAppend & { exec(): Promise<[Error | null, unknown][] | null> };
      for (const s of batch) {
        void pipe.oombotAppendSampleBuffer(
          this.key('recent', s.container),
          this.key('coarse', s.container),
          encode(s.at, s.bytes),
          Math.floor(s.at / 60),
          this.ttlMs,
          recent,
          RECENT_POINTS,
          COARSE_POINTS,
        );
      }
      const results = (await pipe.exec()) ?? [];
      batch.forEach((s, j) => {
        const [err, value] = results[j] ?? [null, undefined];
        if (!err && value !== undefined) out.set(s.container, decode(value as Buffer | string));
      });
    }
    return out;
  }

  /** A container's points since `sinceSec` (epoch seconds), oldest first: the recent tier where it reaches, the coarse tier before. */
  async read(container: string, sinceSec = 0): Promise<MemoryPoint[]> {
    const [recent, coarse] = await Promise.all([this.redis.getBuffer(this.key('recent', container)), this.redis.getBuffer(this.key('coarse', container))]);
    const fine = decode(recent ?? Buffer.alloc(0));
    const firstFine = fine[0]?.at ?? Number.POSITIVE_INFINITY;
    const rough = decode(coarse ?? Buffer.alloc(0)).filter((p) => p.at < firstFine);
    return [...rough, ...fine].filter((p) => p.at >= sinceSec);
  }
}

function encode(atSec: number, bytes: number): Buffer {
  const b = Buffer.alloc(RECORD);
  b.writeUInt32BE(Math.max(0, Math.floor(atSec)) >>> 0, 0);
  b.writeUInt32BE(Math.min(0xffffffff, Math.round(bytes / 1024)), 4);
  return b;
}

function decode(raw: Buffer | string): MemoryPoint[] {
  const b = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const out: MemoryPoint[] = [];
  for (let o = 0; o + RECORD <= b.length; o += RECORD) out.push({ at: b.readUInt32BE(o), bytes: b.readUInt32BE(o + 4) * 1024 });
  return out;
}
