/**
 * Kernel OOM kills from kernel log records (mm/oom_kill.c, mm/memcontrol.c), for kernels 4.14 to 6.x.
 * Pure: records in, kills out. One kill is told by up to three lines, always ending with the
 * `Killed process` line:
 *
 *   Task in /kubepods/burstable/pod<uid>/<id> killed as a result of limit of /kubepods/burstable/pod<uid>   (up to 5.2)
 *   oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=...,mems_allowed=0,oom_memcg=<cgroup>,task_memcg=<cgroup>,task=<comm>,pid=<pid>,uid=<uid>   (4.19+)
 *   Memory cgroup out of memory: Killed process <pid> (<comm>) total-vm:<n>kB, anon-rss:<n>kB, file-rss:<n>kB, shmem-rss:<n>kB, UID:<uid> pgtables:<n>kB oom_score_adj:<n>
 *
 * A global OOM says `constraint=CONSTRAINT_NONE` with `global_oom` instead of `oom_memcg=`, and
 * `Out of memory: Killed process ...`. Before 5.0 the victim line is `Killed process ...` after
 * `Memory cgroup out of memory: Kill process <pid> (<comm>) score <n> or sacrifice child`. Under
 * `memory.oom.group` the kernel says `Tasks in <cgroup> are going to be killed due to memory.oom.group set`
 * and logs one `Killed process` line for each process of the group.
 */
import type { OomConstraint } from '../core/incident.js';
import type { KmsgRecord } from './kmsg-record.js';

export type { OomConstraint };

export interface OomKill {
  /** Sequence number of the record that told the kill (the `Killed process` line). */
  seq: number;
  /** Microseconds since boot of that record. */
  usec: number;
  constraint: OomConstraint;
  /** The victim's command name (the kernel keeps 15 characters), as logged. */
  process: string;
  pid: number;
  uid?: number;
  /** Memory cgroup of the victim (where the pod and container are read from). */
  taskCgroup?: string;
  /** Memory cgroup whose limit was hit (memcg kills). */
  oomCgroup?: string;
  totalVmKb?: number;
  anonRssKb?: number;
  fileRssKb?: number;
  shmemRssKb?: number;
  pgtablesKb?: number;
  oomScoreAdj?: number;
  /** Killed as one of a group (memory.oom.group), not picked alone. */
  groupKill?: boolean;
}

const MAX_TEXT = 512;
const OOM_KILL = /^oom-kill:(.{1,2000})$/;
const KILLED = /^(?:(Memory cgroup out of memory|Out of memory(?: \(oom_kill_allocating_task\))?): )?Killed process (\d{1,10}) \((.{0,64}?)\) (.{0,400})$/;
const TASK_IN = /^Task in (\S{1,1024}) killed as a result of limit of (\S{1,1024})$/;
const GROUP = /^Tasks in (\S{1,1024}) are going to be killed due to memory\.oom\.group set$/;
const KILL_CHOICE = /^(Memory cgroup out of memory|Out of memory): Kill process (\d{1,10}) \((.{0,64}?)\) score/;

/** How far (in records) an `oom-kill:` or `Task in` line may precede its `Killed process` line. */
const MAX_GAP = 400;

interface Context {
  seq: number;
  fields: Map<string, string>;
}

/**
 * Turns records into OOM kills. Feed records in order; a kill is returned by the record that completes it.
 * Bounded: it remembers only the last context lines, never the whole buffer.
 */
export class OomKillParser {
  private oomKill: Context | undefined;
  private taskIn: { seq: number; task: string; limit: string } | undefined;
  private group: { seq: number; cgroup: string } | undefined;
  private choice: { seq: number; constraint: OomConstraint } | undefined;

  push(record: KmsgRecord): OomKill | undefined {
    const message = record.message;
    if (message.startsWith('oom-kill:')) {
      const m = OOM_KILL.exec(message);
      if (m) this.oomKill = { seq: record.seq, fields: parseFields(m[1]!) };
      return undefined;
    }
    if (message.startsWith('Task in ')) {
      const m = TASK_IN.exec(message);
      if (m) this.taskIn = { seq: record.seq, task: m[1]!, limit: m[2]! };
      return undefined;
    }
    if (message.startsWith('Tasks in ')) {
      const m = GROUP.exec(message);
      if (m) this.group = { seq: record.seq, cgroup: m[1]! };
      return undefined;
    }
    const choice = KILL_CHOICE.exec(message);
    if (choice) {
      this.choice = { seq: record.seq, constraint: choice[1] === 'Out of memory' ? 'global' : 'memcg' };
      return undefined;
    }
    const killed = KILLED.exec(message);
    if (!killed) return undefined;
    return this.kill(record, killed);
  }

  private kill(record: KmsgRecord, m: RegExpExecArray): OomKill | undefined {
    const pid = Number(m[2]);
    if (!Number.isSafeInteger(pid)) return undefined;
    const near = (seq: number | undefined) => seq !== undefined && record.seq - seq >= 0 && record.seq - seq <= MAX_GAP;
    const kill: OomKill = { seq: record.seq, usec: record.usec, constraint: 'global', process: clip(m[3]!), pid };
    const prefix = m[1];
    const ctx = near(this.oomKill?.seq) ? this.oomKill : undefined;
    // The oom-kill line names the task the kernel chose; before 5.0 it may then kill a child of it instead
    // ("sacrifice child"), which lives in the same cgroup.
    if (ctx) {
      kill.constraint = constraintOf(ctx.fields.get('constraint'), prefix);
      const task = ctx.fields.get('task_memcg');
      const oom = ctx.fields.get('oom_memcg');
      if (task) kill.taskCgroup = clip(task);
      if (oom) kill.oomCgroup = clip(oom);
      const uid = int(ctx.fields.get('uid'));
      if (uid !== undefined) kill.uid = uid;
      // Used once: a later kill in the same OOM (oom.group) has no oom-kill line of its own.
      this.oomKill = undefined;
    } else if (near(this.group?.seq)) {
      kill.constraint = 'memcg';
      kill.taskCgroup = clip(this.group!.cgroup);
      kill.oomCgroup = clip(this.group!.cgroup);
      kill.groupKill = true;
    } else if (near(this.taskIn?.seq)) {
      kill.constraint = 'memcg';
      kill.taskCgroup = clip(this.taskIn!.task);
      kill.oomCgroup = clip(this.taskIn!.limit);
      this.taskIn = undefined;
    } else if (prefix === undefined && near(this.choice?.seq)) {
      kill.constraint = this.choice!.constraint;
    } else {
      kill.constraint = prefix === 'Memory cgroup out of memory' ? 'memcg' : 'global';
    }
    this.choice = undefined;
    Object.assign(kill, sizes(m[4]!));
    return kill;
  }
}

function constraintOf(value: string | undefined, prefix: string | undefined): OomConstraint {
  switch (value) {
    case 'CONSTRAINT_MEMCG':
      return 'memcg';
    case 'CONSTRAINT_NONE':
      return 'global';
    case 'CONSTRAINT_CPUSET':
      return 'cpuset';
    case 'CONSTRAINT_MEMORY_POLICY':
      return 'mempolicy';
    default:
      return prefix === 'Memory cgroup out of memory' ? 'memcg' : 'global';
  }
}

/** `a=1,b=(null),c=/x/y` -> map; a value runs to the next `,key=`. */
function parseFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(?:^|,)([a-z_]{1,20})(?:=([^,]*))?/g;
  let m: RegExpExecArray | null = re.exec(text);
  let guard = 0;
  while (m !== null && guard++ < 32) {
    out.set(m[1]!, m[2] ?? '');
    m = re.exec(text);
  }
  return out;
}

function sizes(text: string): Partial<OomKill> {
  const out: Partial<OomKill> = {};
  const kb = (name: string) => int(new RegExp(`(?:^|[ ,])${name}:(\\d{1,15})kB`).exec(text)?.[1]);
  const set = <K extends keyof OomKill>(key: K, value: OomKill[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  set('totalVmKb', kb('total-vm'));
  set('anonRssKb', kb('anon-rss'));
  set('fileRssKb', kb('file-rss'));
  set('shmemRssKb', kb('shmem-rss'));
  set('pgtablesKb', kb('pgtables'));
  set('uid', int(/UID:(\d{1,10})/.exec(text)?.[1]));
  const adj = /oom_score_adj:(-?\d{1,4})/.exec(text)?.[1];
  set('oomScoreAdj', adj === undefined ? undefined : Number(adj));
  return out;
}

function int(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}
