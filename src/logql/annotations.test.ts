import { FieldType, createDataFrame } from '@grafana/data';

import { logsToAnnotations } from './annotations';

describe('logsToAnnotations', () => {
  const frame = createDataFrame({
    fields: [
      { name: 'labels', type: FieldType.other, values: [{ app: 'api', level: 'error' }, { app: 'web', level: 'info' }] },
      { name: 'timestamp', type: FieldType.time, values: [2000, 1000] },
      { name: 'body', type: FieldType.string, values: ['deploy failed', 'deploy done'] },
    ],
  });

  it('makes one event per line, in time order, tagged and titled from labels', () => {
    expect(logsToAnnotations([frame], { tagKeys: 'app, level', titleFormat: 'Deploy of {{app}}' })).toEqual([
      { time: 1000, title: 'Deploy of web', text: 'deploy done', tags: ['web', 'info'] },
      { time: 2000, title: 'Deploy of api', text: 'deploy failed', tags: ['api', 'error'] },
    ]);
  });

  it('uses the text format and skips frames that are not logs', () => {
    const metric = createDataFrame({ fields: [{ name: 'Value', type: FieldType.number, values: [1] }] });
    const got = logsToAnnotations([metric, frame], { textFormat: '{{level}}: {{ app }}' });
    expect(got.map((e) => e.text)).toEqual(['info: web', 'error: api']);
    expect(got[0].tags).toEqual([]);
  });
});
