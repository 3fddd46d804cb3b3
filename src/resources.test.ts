import { dateTime } from '@grafana/data';

import { CACHE_TTL_MS, LodeResources, validationMarker } from './resources';
import { ValidationResult } from './types';

function fakeApi(answers: Record<string, unknown> = {}) {
  const calls: Array<{ path: string; params?: Record<string, string | undefined> }> = [];
  return {
    calls,
    getResource: jest.fn(async (path: string, params?: Record<string, string | undefined>) => {
      calls.push({ path, params });
      if (path === 'fail') {
        throw new Error('boom');
      }
      return answers[path] as never;
    }),
  };
}

describe('LodeResources', () => {
  it('asks for label names in the range, in nanoseconds, and sorts them', async () => {
    const api = fakeApi({ labels: { status: 'success', data: ['pod', 'app'] } });
    const r = new LodeResources(api, () => 0);
    r.setRange({ from: dateTime(1_700_000_000_000), to: dateTime(1_700_000_360_000), raw: { from: '', to: '' } });
    expect(await r.labelNames('{app="api"}')).toEqual(['app', 'pod']);
    expect(api.calls[0]).toEqual({ path: 'labels', params: { start: '1699999980000000000', end: '1700000400000000000', query: '{app="api"}' } });
  });

  it('caches answers for a while, then asks again', async () => {
    let now = 10_000_000;
    const api = fakeApi({ 'label/app/values': { data: ['web', 'api'] } });
    const r = new LodeResources(api, () => now);
    expect(await r.labelValues('app')).toEqual(['api', 'web']);
    await r.labelValues('app');
    expect(api.getResource).toHaveBeenCalledTimes(1);
    now += CACHE_TTL_MS + 1;
    await r.labelValues('app');
    expect(api.getResource).toHaveBeenCalledTimes(2);
  });

  it('never asks for values of an invalid label name', async () => {
    const api = fakeApi();
    expect(await new LodeResources(api).labelValues('a/../b')).toEqual([]);
    expect(api.getResource).not.toHaveBeenCalled();
  });
});

describe('validationMarker', () => {
  it.each([
    ['spans the word at the position', { valid: false, message: 'unexpected identifier', line: 1, column: 15 }, '{app="api"} | jsn', [1, 15, 18]],
    ['second line', { valid: false, message: 'x', line: 2, column: 3 }, '{a="b"}\n| json', [2, 3, 7]],
    ['no position: end of text', { valid: false, error: 'unexpected end' }, '{a="b"', [1, 7, 8]],
    ['position past the end is clamped', { valid: false, message: 'x', line: 9, column: 99 }, 'ab', [1, 3, 4]],
  ])('%s', (_name, r, text, [line, start, end]) => {
    const res = r as ValidationResult;
    const m = validationMarker(res, text)!;
    expect([m.startLineNumber, m.startColumn, m.endColumn]).toEqual([line, start, end]);
    expect(m.message).toBe(res.message ?? res.error);
  });

  it('has no marker for a valid query', () => {
    expect(validationMarker({ valid: true }, '{a="b"}')).toBeUndefined();
  });
});
