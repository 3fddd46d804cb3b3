import { buildSelector, selectorWithout } from './labelBrowser';

describe('buildSelector', () => {
  it.each([
    ['nothing', {}, ''],
    ['one value', { app: ['api'] }, '{app="api"}'],
    ['several values as an escaped regex', { app: ['web.v2', 'api'] }, '{app=~"api|web\\\\.v2"}'],
    ['labels sorted, empty ones left out', { pod: [], namespace: ['prod'], app: ['api'] }, '{app="api", namespace="prod"}'],
    ['quotes escaped', { msg: ['say "hi"'] }, '{msg="say \\"hi\\""}'],
  ])('%s', (_name, sel, want) => {
    expect(buildSelector(sel)).toBe(want);
  });

  it('narrows a label by the others only', () => {
    expect(selectorWithout({ app: ['api'], ns: ['prod'] }, 'app')).toBe('{ns="prod"}');
    expect(selectorWithout({ app: ['api'] }, 'app')).toBeUndefined();
  });
});
