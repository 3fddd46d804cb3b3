// Loads the built dist/module.js the way Grafana does (an AMD module whose dependencies Grafana
// provides) and checks what it exports. Skipped until `npm run build` has run.
const fs = require('fs');
const path = require('path');

const bundle = path.resolve(__dirname, '..', '..', 'dist', 'module.js');
const built = fs.existsSync(bundle);

(built ? describe : describe.skip)(built ? 'dist/module.js' : 'dist/module.js (skipped: run npm run build)', () => {
  test('is an AMD module exporting the datasource plugin with its editors', () => {
    let exported;
    const define = (deps, factory) => {
      exported = factory(...deps.map((d) => require(d)));
    };
    new Function('define', fs.readFileSync(bundle, 'utf8'))(define);
    const { DataSourcePlugin } = require('@grafana/data');
    expect(exported.plugin).toBeInstanceOf(DataSourcePlugin);
    expect(typeof exported.plugin.components.ConfigEditor).toBe('function');
    expect(typeof exported.plugin.components.QueryEditor).toBe('function');
    // The bundled LogQL parser works: a filter lands inside the selector.
    const settings = { id: 1, uid: 'lode', type: 'lode-logs-datasource', name: 'Lode', meta: {}, jsonData: {} };
    const templateSrv = { replace: (s) => s };
    const ds = new exported.plugin.DataSourceClass(settings, templateSrv);
    const q = ds.modifyQuery({ refId: 'A', expr: '{app="api"} |= "x"' }, { type: 'ADD_FILTER', options: { key: 'ns', value: 'prod' } });
    expect(q.expr).toBe('{app="api", ns="prod"} |= "x"');
    expect(ds.getSupportedSupplementaryQueryTypes()).toEqual(['LogsVolume', 'LogsSample']);
    expect(typeof ds.variables.query).toBe('function');
  });
});
