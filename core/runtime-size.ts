/**
 * The two runtime env vars whose whole value is a heap size: GOMEMLIMIT (`2GiB`, `1073741824`) and
 * DOTNET_GCHeapHardLimit / COMPlus_GCHeapHardLimit (hex bytes, `0x40000000`). A value is read only when it
 * is exactly a size, and rebuilt from its parsed parts, so nothing else of the value can pass.
 */
const GO_SIZE = /^(\d{1,13})(B|KiB|MiB|GiB|TiB)?$/;
const GO_UNIT: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };
const HEX_SIZE = /^(?:0[xX])?([0-9a-fA-F]{1,12})$/;

export type SizeVarKind = 'go' | 'dotnet';

/** Which kind of size an env var holds, by its name; undefined for every other variable. */
export function sizeVarKind(envName: string): SizeVarKind | undefined {
  if (envName === 'GOMEMLIMIT') return 'go';
  if (envName === 'DOTNET_GCHeapHardLimit' || envName === 'COMPlus_GCHeapHardLimit') return 'dotnet';
  return undefined;
}

export function strictRuntimeSize(kind: SizeVarKind, value: string): { bytes: number; text: string } | undefined {
  const v = value.trim();
  if (kind === 'go') {
    const m = GO_SIZE.exec(v);
    if (!m) return undefined;
    const bytes = Number(m[1]) * (GO_UNIT[m[2] ?? ''] ?? 1);
    return Number.isSafeInteger(bytes) ? { bytes, text: `${Number(m[1])}${m[2] ?? ''}` } : undefined;
  }
  const m = HEX_SIZE.exec(v);
  if (!m) return undefined;
  const bytes = Number.parseInt(m[1] ?? '', 16);
  return Number.isSafeInteger(bytes) && bytes > 0 ? { bytes, text: `0x${(m[1] ?? '').toLowerCase()}` } : undefined;
}
