import { describe, expect, it } from '@jest/globals';
import { topLabels } from '../src/classifier.ts';

describe('topLabels', () => {
  const labels = ['cat', 'dog', 'eagle', 'pelican', 'heron'];

  it('answers the k best labels, best first', () => {
    const scores = Float64Array.from([0.1, 0.05, 0.3, 0.5, 0.05]);
    expect(topLabels(scores, labels, 3)).toEqual([
      { label: 'pelican', score: 0.5 },
      { label: 'eagle', score: 0.3 },
      { label: 'cat', score: 0.1 },
    ]);
  });

  it('keeps label order among equal scores, as a stable sort would', () => {
    const scores = Float64Array.from([0.2, 0.4, 0.2, 0.0, 0.2]);
    expect(topLabels(scores, labels, 3).map((l) => l.label)).toEqual(['dog', 'cat', 'eagle']);
  });

  it('answers every label when k is larger, and none when k is 0', () => {
    const scores = Float64Array.from([0.5, 0.1, 0.2, 0.1, 0.1]);
    expect(topLabels(scores, labels, 10).map((l) => l.label)).toEqual([
      'cat',
      'eagle',
      'dog',
      'pelican',
      'heron',
    ]);
    expect(topLabels(scores, labels, 0)).toEqual([]);
  });
});
