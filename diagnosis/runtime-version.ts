/**
 * Runtimes blind to cgroup v2 size their heap from the node's memory, not the container limit (the
 * Kubernetes docs' cgroup v2 page): OpenJDK/HotSpot before 8u372, 11.0.16 and 15 (9, 10, 12-14 never
 * learnt it), Node.js before 20.3.0 (the 18 line never did). Told from the image tag when it names the
 * version; a floating tag (`openjdk:11`, `node:20`) that may be a fixed release says nothing.
 */
export interface BlindRuntime {
  runtime: 'JDK' | 'Node.js';
  version: string;
  /** The first release that sees cgroup v2 limits. */
  fixedIn: string;
  /** The flag that bounds the heap whatever the runtime sees. */
  flag: string;
}

const JAVA_IMAGE =
  /(^|[-_/])(openjdk|temurin|eclipse-temurin|corretto|amazoncorretto|zulu|zulu-openjdk|liberica|liberica-openjdk[a-z-]*|adoptopenjdk|jdk|jre|java)$/i;

/** `eclipse-temurin`, `11.0.15_10-jre` from `docker.io/library/eclipse-temurin:11.0.15_10-jre@sha256:...`. */
export function imageNameAndTag(image: string | undefined): { name: string; tag: string } | undefined {
  if (!image) return undefined;
  const ref = image.split('@')[0] ?? '';
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) return undefined;
  return { name: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

export function cgroupBlindRuntime(image: string | undefined): BlindRuntime | undefined {
  const it = imageNameAndTag(image);
  if (!it) return undefined;
  if (JAVA_IMAGE.test(it.name)) return blindJdk(it.tag);
  if (it.name === 'node') return blindNode(it.tag);
  return undefined;
}

function blindJdk(tag: string): BlindRuntime | undefined {
  const v8 = /^(?:8u|1\.8\.0_)(\d+)/.exec(tag);
  if (v8) {
    const update = Number(v8[1]);
    return update < 372 ? { runtime: 'JDK', version: `8u${update}`, fixedIn: '8u372', flag: '-Xmx' } : undefined;
  }
  const full = /^(\d+)\.(\d+)\.(\d+)/.exec(tag);
  const major = Number(/^(\d+)/.exec(tag)?.[1]);
  if (!Number.isInteger(major)) return undefined;
  if (major === 11) {
    if (!full) return undefined;
    const patch = Number(full[3]);
    return patch < 16 ? { runtime: 'JDK', version: `${full[1]}.${full[2]}.${full[3]}`, fixedIn: '11.0.16', flag: '-Xmx' } : undefined;
  }
  if ((major >= 9 && major <= 10) || (major >= 12 && major <= 14)) return { runtime: 'JDK', version: String(major), fixedIn: '15 (or 11.0.16)', flag: '-Xmx' };
  return undefined;
}

function blindNode(tag: string): BlindRuntime | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(tag);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = m[2] === undefined ? undefined : Number(m[2]);
  const version = minor === undefined ? String(major) : `${major}.${minor}`;
  if (major < 20 && major >= 4) return { runtime: 'Node.js', version, fixedIn: '20.3.0', flag: '--max-old-space-size' };
  if (major === 20 && minor !== undefined && minor < 3) return { runtime: 'Node.js', version, fixedIn: '20.3.0', flag: '--max-old-space-size' };
  return undefined;
}
