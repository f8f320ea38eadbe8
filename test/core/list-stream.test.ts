import { describe, expect, it } from 'vitest';
import { ListItemSplitter } from '../../core/list-stream.js';

const list = {
  kind: 'PodList',
  apiVersion: 'v1',
  metadata: { resourceVersion: '42', continue: 'eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ' },
  items: [
    {
      metadata: { name: 'a', annotations: { note: 'braces } ] { [ and "quotes" and \\ backslashes \\" and , : commas' } },
      spec: { containers: [{ name: 'c' }] },
    },
    { metadata: { name: 'ünïcødé-😀', labels: {} }, spec: { containers: [] } },
    { metadata: { name: 'c' }, status: { phase: 'Running', list: [1, [2, [3]], { x: null }] } },
  ],
};

function split(text: string, cuts: number[]): { items: unknown[]; top: Record<string, unknown> } {
  const items: unknown[] = [];
  const s = new ListItemSplitter((i) => items.push(i));
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    s.push(text.slice(at, cut));
    at = cut;
  }
  s.end();
  return { items, top: s.top };
}

describe('ListItemSplitter', () => {
  it('gives each item and the list metadata, however the body is cut into chunks', () => {
    const text = JSON.stringify(list, null, 1);
    for (let cut = 0; cut <= text.length; cut++) {
      const { items, top } = split(text, [cut, Math.min(text.length, cut + 7)]);
      expect(items).toEqual(list.items);
      expect(top).toEqual({ kind: 'PodList', apiVersion: 'v1', metadata: list.metadata });
    }
  });

  it('reads metadata that comes after the items, an empty list and a compact body a character at a time', () => {
    const after = JSON.stringify({ items: list.items, metadata: { continue: 'next' } });
    const { items, top } = split(
      after,
      Array.from({ length: after.length }, (_, i) => i),
    );
    expect(items).toEqual(list.items);
    expect(top.metadata).toEqual({ continue: 'next' });
    expect(split('{"kind":"PodMetricsList","metadata":{},"items":[]}', []).items).toEqual([]);
  });

  it('refuses a body cut short', () => {
    const s = new ListItemSplitter(() => undefined);
    s.push(JSON.stringify(list).slice(0, 60));
    expect(() => s.end()).toThrow(/ended/);
  });
});
