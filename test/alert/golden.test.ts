/**
 * Rendered alerts for every enriched fixture, compared byte for byte with test/golden/<fixture>.json
 * (Block Kit) and .txt (console). Run with UPDATE_GOLDEN=1 to rewrite them after an intended change,
 * then review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../diagnosis/diagnose.js';
import { buildMessage } from '../../alert/message.js';
import { renderRepeatUpdate, renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { GOLDEN_DIR, POLICY, fixtureNames, loadFixture } from '../diagnosis/fixtures.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

function assertGolden(file: string, actual: string): void {
  const url = new URL(file, GOLDEN_DIR);
  if (UPDATE) {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(url, actual);
    return;
  }
  if (!existsSync(url)) throw new Error(`missing golden file ${fileURLToPath(url)}: run the tests with UPDATE_GOLDEN=1`);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

function render(name: string) {
  const enriched = loadFixture(name);
  const diagnosis = diagnose(enriched, POLICY);
  const model = buildMessage(enriched, diagnosis, diagnosis.proposal ? { proposalId: `prop-${name}` } : {});
  return { model, diagnosis };
}

describe('golden alerts', () => {
  for (const name of fixtureNames()) {
    it(name, () => {
      const { model } = render(name);
      assertGolden(`${name}.json`, `${JSON.stringify(renderSlack(model), null, 2)}\n`);
      assertGolden(`${name}.txt`, renderText(model));
    });
  }

  it('repeat-update', () => {
    const { model } = render('limit-too-low');
    const repeat = { count: 5, firstSeenAt: '2026-11-23 10:15:42 UTC', lastSeenAt: '2026-11-23 11:02:10 UTC', lastPod: 'api-7f9c4d8b6-k8s7d' };
    assertGolden('repeat-update.json', `${JSON.stringify(renderRepeatUpdate(model, repeat), null, 2)}\n`);
    assertGolden('repeat-update.txt', renderText(model, repeat));
  });
});
