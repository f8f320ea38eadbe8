import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../../core/quantity.js';
import { describeSetting, extractEnvNames, extractRuntimeMemorySettings } from '../../diagnosis/runtime-settings.js';

describe('extractRuntimeMemorySettings', () => {
  it('reads JVM flags from args with their sizes', () => {
    const s = extractRuntimeMemorySettings({ args: ['-Xmx512m', '-Xms256M', '-XX:MaxRAMPercentage=90.0', '-XX:MaxRAM=2g', '-jar', 'app.jar'] });
    expect(s).toEqual([
      { name: '-Xmx', source: 'args', value: '512m', flag: '-Xmx512m', bytes: 512 * MiB },
      { name: '-Xms', source: 'args', value: '256M', flag: '-Xms256M', bytes: 256 * MiB },
      { name: 'MaxRAMPercentage', source: 'args', value: '90.0', flag: '-XX:MaxRAMPercentage=90.0', percent: 90 },
      { name: 'MaxRAM', source: 'args', value: '2g', flag: '-XX:MaxRAM=2g', bytes: 2 * GiB },
    ]);
  });

  it('reads flags inside a shell command string, and nothing else of it', () => {
    const s = extractRuntimeMemorySettings({ command: ['sh', '-c', 'exec java -Xmx2g -Dpassword=hunter2 -XX:-UseContainerSupport -jar /app.jar'] });
    expect(s.map((x) => x.flag)).toEqual(['-Xmx2g', '-XX:-UseContainerSupport']);
    expect(s[0]).toMatchObject({ source: 'command', bytes: 2 * GiB });
    expect(s[1]).toMatchObject({ name: 'UseContainerSupport', enabled: false });
    expect(JSON.stringify(s)).not.toContain('hunter2');
  });

  it('reads Node.js --max-old-space-size in MiB, with = or a space', () => {
    expect(extractRuntimeMemorySettings({ command: ['node', '--max-old-space-size=4096', 'server.js'] })[0]).toMatchObject({
      name: '--max-old-space-size',
      bytes: 4096 * MiB,
    });
    expect(extractRuntimeMemorySettings({ args: ['--max-old-space-size', '1024'] })[0]).toMatchObject({ bytes: 1024 * MiB, flag: '--max-old-space-size=1024' });
    expect(extractRuntimeMemorySettings({ args: ['--max_old_space_size=300'] })[0]).toMatchObject({ bytes: 300 * MiB });
  });

  it('reads PHP memory_limit', () => {
    expect(extractRuntimeMemorySettings({ args: ['php', '-d', 'memory_limit=512M', 'worker.php'] })[0]).toMatchObject({
      name: 'memory_limit',
      bytes: 512 * MiB,
    });
    expect(extractRuntimeMemorySettings({ args: ['-dmemory_limit=-1'] })[0]).toMatchObject({ name: 'memory_limit', value: '-1' });
  });

  it('reports runtime env vars by name; GOMEMLIMIT and DOTNET_GCHeapHardLimit by their size only when the value is exactly one', () => {
    const s = extractRuntimeMemorySettings({
      env: [
        { name: 'GOMEMLIMIT', value: '900MiB' },
        { name: 'GOGC', value: '50' },
        { name: 'DOTNET_GCHeapHardLimit', value: '0x20000000' },
        { name: 'PHP_MEMORY_LIMIT', value: '256M' },
      ],
    });
    expect(s).toEqual([
      { name: 'GOMEMLIMIT', source: 'env', envName: 'GOMEMLIMIT', bytes: 900 * 2 ** 20, flag: 'GOMEMLIMIT=900MiB' },
      { name: 'GOGC', source: 'env', envName: 'GOGC' },
      { name: 'DOTNET_GCHeapHardLimit', source: 'env', envName: 'DOTNET_GCHeapHardLimit', bytes: 0x20000000, flag: 'DOTNET_GCHeapHardLimit=0x20000000' },
      { name: 'memory_limit', source: 'env', envName: 'PHP_MEMORY_LIMIT' },
    ]);
    expect(JSON.stringify(s)).not.toMatch(/"50"|256M"/);
  });

  it('a GOMEMLIMIT or DOTNET_GCHeapHardLimit value that is not exactly a size is not read at all', () => {
    const s = extractRuntimeMemorySettings({
      env: [
        { name: 'GOMEMLIMIT', value: '900MiB;password=hunter2' },
        { name: 'DOTNET_GCHeapHardLimit', value: '0x20000000 hunter2' },
        { name: 'GOMEMLIMIT', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } } as never,
      ],
    });
    expect(s).toEqual([
      { name: 'GOMEMLIMIT', source: 'env', envName: 'GOMEMLIMIT' },
      { name: 'DOTNET_GCHeapHardLimit', source: 'env', envName: 'DOTNET_GCHeapHardLimit' },
      { name: 'GOMEMLIMIT', source: 'env', envName: 'GOMEMLIMIT' },
    ]);
    expect(JSON.stringify(s)).not.toMatch(/hunter2|900MiB|0x2000/);
  });

  it('parses only the memory flags of *_OPTIONS variables, rebuilt, without a value', () => {
    const s = extractRuntimeMemorySettings({
      env: [
        { name: 'JAVA_TOOL_OPTIONS', value: '-Djavax.net.ssl.trustStorePassword=s3cr3t -Xmx4g -XX:MaxRAMPercentage=80' },
        { name: 'NODE_OPTIONS', value: '--require /secret/hook.js --max-old-space-size=2048' },
        { name: 'JDK_JAVA_OPTIONS', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } },
      ],
    });
    expect(s).toEqual([
      { name: '-Xmx', source: 'env', envName: 'JAVA_TOOL_OPTIONS', flag: '-Xmx4g', bytes: 4 * GiB },
      { name: 'MaxRAMPercentage', source: 'env', envName: 'JAVA_TOOL_OPTIONS', flag: '-XX:MaxRAMPercentage=80', percent: 80 },
      { name: '--max-old-space-size', source: 'env', envName: 'NODE_OPTIONS', flag: '--max-old-space-size=2048', bytes: 2048 * MiB },
    ]);
    expect(s.every((x) => x.value === undefined)).toBe(true);
    expect(JSON.stringify(s)).not.toMatch(/s3cr3t|hook\.js/);
    expect(describeSetting(s[0]!)).toBe('-Xmx4g (from JAVA_TOOL_OPTIONS)');
  });

  it('ignores look-alikes and absurd sizes', () => {
    expect(extractRuntimeMemorySettings({ args: ['-Xmxfoo', '-Xmx99999999999999999g', '--max-old-space-size=', '-XX:MaxRAMPercentage=abc'] })).toEqual([]);
  });

  it('copes with a missing or malformed spec', () => {
    expect(extractRuntimeMemorySettings({})).toEqual([]);
    expect(extractRuntimeMemorySettings({ args: [42 as never], env: [null as never, { name: 'X' }] })).toEqual([]);
  });

  it('lists env names only', () => {
    expect(extractEnvNames({ env: [{ name: 'A', value: 'secret' }, { name: 'B' }] })).toEqual(['A', 'B']);
  });

  it('describes settings for people', () => {
    expect(describeSetting({ name: '-Xmx', source: 'args', value: '2g', flag: '-Xmx2g' })).toBe('-Xmx2g (args)');
    expect(describeSetting({ name: 'GOMEMLIMIT', source: 'env', envName: 'GOMEMLIMIT' })).toBe('GOMEMLIMIT is set (env; value not read)');
  });
});
