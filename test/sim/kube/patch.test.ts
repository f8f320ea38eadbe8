import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../../sim/kube/index.js';

const base = {
  metadata: { name: 'api', labels: { a: '1', b: '2' } },
  spec: {
    template: {
      spec: {
        containers: [
          { name: 'api', image: 'api:1', env: [{ name: 'A', value: '1' }], resources: { limits: { memory: '512Mi' }, requests: { memory: '256Mi' } } },
          { name: 'proxy', image: 'envoy:1' },
        ],
      },
    },
  },
};

describe('patch formats', () => {
  it('strategic merge merges containers and env by name, null deletes, $patch delete removes', () => {
    const out = applyStrategicMergePatch(base, {
      metadata: { labels: { b: null, c: '3' } },
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'api' }, { name: 'sidecar' }],
            containers: [
              { name: 'api', env: [{ name: 'B', value: '2' }], resources: { limits: { memory: '1Gi' } } },
              { name: 'proxy', $patch: 'delete' },
              { name: 'sidecar', image: 'side:1' },
            ],
          },
        },
      },
    });
    expect(out.metadata.labels).toEqual({ a: '1', c: '3' });
    const cs = out.spec.template.spec.containers;
    expect(cs.map((c: { name: string }) => c.name)).toEqual(['api', 'sidecar']);
    expect(cs[0]).toEqual({
      name: 'api',
      image: 'api:1',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      resources: { limits: { memory: '1Gi' }, requests: { memory: '256Mi' } },
    });
    expect(base.spec.template.spec.containers[0]!.resources?.limits.memory).toBe('512Mi');
  });

  it('merge patch replaces lists', () => {
    const out = applyMergePatch(base, { spec: { template: { spec: { containers: [{ name: 'only' }] } } }, metadata: { labels: { a: null } } });
    expect(out.spec.template.spec.containers).toEqual([{ name: 'only' }]);
    expect(out.metadata.labels).toEqual({ b: '2' });
  });

  it('JSON patch: replace, add with -, remove, test, escaped pointers', () => {
    const out = applyJsonPatch({ ...base, metadata: { ...base.metadata, annotations: { 'a/b': 'x' } } }, [
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'api' },
      { op: 'replace', path: '/spec/template/spec/containers/0/resources/limits/memory', value: '768Mi' },
      { op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'z' } },
      { op: 'remove', path: '/metadata/annotations/a~1b' },
    ]);
    expect(out.spec.template.spec.containers[0].resources.limits.memory).toBe('768Mi');
    expect(out.spec.template.spec.containers[2]).toEqual({ name: 'z' });
    expect(out.metadata.annotations).toEqual({});
    expect(() => applyJsonPatch(base, [{ op: 'test', path: '/metadata/name', value: 'other' }])).toThrow(/test failed/);
  });
});
