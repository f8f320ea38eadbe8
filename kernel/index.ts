/** Reading the kernel log: /dev/kmsg records, OOM kills in them, and the pod and container of a cgroup. */
export { KmsgLineSplitter, MAX_MESSAGE, parseKmsgRecord, type KmsgRecord } from './kmsg-record.js';
export { OomKillParser, type OomConstraint, type OomKill } from './oom-kill.js';
export { bareContainerId, parseCgroupPath, type CgroupOwner } from './cgroup-path.js';
