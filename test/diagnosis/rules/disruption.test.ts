import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../diagnosis/diagnose.js';
import { createEnriched } from '../factories.js';

describe('disruption', () => {
  it('a reason named like an Object.prototype key is not recognised', () => {
    for (const reason of ['constructor', '__proto__', 'toString']) {
      const e = createEnriched({ kind: 'disruption' });
      e.incident.disruption = { reason };
      const d = diagnose(e);
      expect(d).toMatchObject({ cause: 'unknown', confidence: 'low' });
      expect(d.headline).toContain('a reason oombot does not recognise');
    }
  });
});
