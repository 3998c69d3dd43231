import { describe, expect, it } from '@jest/globals';
import { buildDescribePrompt, parseDescription } from '../../../src/index.ts';

describe('buildDescribePrompt', () => {
  it('asks for the JSON shape the parser reads', () => {
    const prompt = buildDescribePrompt();
    expect(prompt).toContain('{"caption": string, "tags": string[]}');
    expect(prompt).not.toContain('classifier');
  });

  it('offers the classifier labels as hints when given', () => {
    const prompt = buildDescribePrompt([
      { label: 'bald eagle', score: 0.54 },
      { label: 'kite', score: 0.42 },
    ]);
    expect(prompt).toContain('bald eagle (0.54), kite (0.42)');
  });
});

describe('parseDescription', () => {
  const expected = { caption: 'A bald eagle perched on a branch.', tags: ['eagle', 'bird'] };

  it.each([
    ['bare JSON', '{"caption": "A bald eagle perched on a branch.", "tags": ["eagle", "bird"]}'],
    [
      'a json code fence',
      '```json\n{"caption": "A bald eagle perched on a branch.", "tags": ["eagle", "bird"]}\n```',
    ],
    [
      'leading prose and trailing text',
      'Sure! Here you go: {"caption": "A bald eagle perched on a branch.", "tags": ["eagle", "bird"]} Let me know.',
    ],
    [
      'braces inside strings',
      'Note {draft}: {"caption": "A bald eagle perched on a branch.", "tags": ["eagle", "bird"], "x": "}{"}',
    ],
    [
      'an object nested in a wrapper',
      '{"result": {"caption": "A bald eagle perched on a branch.", "tags": ["eagle", "bird"]}}',
    ],
  ])('reads %s', (_case, text) => {
    expect(parseDescription('bedrock', text)).toEqual(expected);
  });

  it('trims, lowercases and de-duplicates tags, and keeps at most ten', () => {
    const tags = [' Eagle ', 'BIRD', 'eagle', ...Array.from({ length: 12 }, (_, i) => `t${i}`)];
    const parsed = parseDescription('azure', JSON.stringify({ caption: '  An eagle. ', tags }));
    expect(parsed.caption).toBe('An eagle.');
    expect(parsed.tags).toEqual(['eagle', 'bird', 't0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
  });

  it.each([
    ['prose', 'An eagle on a branch.', 'no JSON object found'],
    ['broken JSON', '{"caption": "An eagle", "tags": ["bird",]}', 'malformed JSON'],
    ['unclosed JSON', '{"caption": "An eagle", "tags": ["bird"]', 'no JSON object found'],
    ['a missing field', '{"caption": "An eagle"}', 'wrong shape'],
    ['tags as a string', '{"caption": "An eagle", "tags": "bird, eagle"}', 'wrong shape'],
    ['an empty caption', '{"caption": "   ", "tags": []}', 'wrong shape'],
    ['an empty answer', '', 'no JSON object found'],
  ])('rejects %s with InvalidModelResponse', (_case, text, problem) => {
    let caught: unknown;
    try {
      parseDescription('bedrock', text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ name: 'InvalidModelResponse', provider: 'bedrock' });
    expect((caught as Error).message).toContain(problem);
  });

  it('keeps the unguarded answer out of the error message', () => {
    expect(() => parseDescription('azure', 'Call Jo on 555-0100')).toThrow(/\(19 characters\)/);
    expect(() => parseDescription('azure', 'Call Jo on 555-0100')).not.toThrow(/555-0100/);
  });
});
