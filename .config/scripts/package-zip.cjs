// Usage: node .config/scripts/package-zip.cjs [out-dir]
// Zips dist/ as Grafana's plugin installer expects: one top folder named after the plugin id,
// into <out-dir>/<id>-<version>.zip (default bin/), with a .sha256 file beside it. Refuses a
// folder that is not complete (frontend and every backend binary).
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { checkDist, zipFolder } = require('./dist.cjs');

const root = path.resolve(__dirname, '..', '..');
const dist = path.join(root, 'dist');
const outDir = path.resolve(root, process.argv[2] || 'bin');

const res = checkDist(dist, { requireBinaries: true, rootPluginJSON: path.join(root, 'plugin.json') });
if (res.errors.length > 0) {
  res.errors.forEach((e) => console.error(`error: ${e}`));
  console.error('not packaging an incomplete plugin folder: run go run github.com/magefile/mage -v pluginBackend and npm run build first');
  process.exit(1);
}
const { id, info } = res.pluginJSON;
const out = path.join(outDir, `${id}-${info.version}.zip`);
const n = zipFolder(dist, id, out);
const sum = crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex');
fs.writeFileSync(`${out}.sha256`, `${sum}  ${path.basename(out)}\n`);
console.log(`${path.relative(root, out)}: ${n} entries, ${fs.statSync(out).size} bytes, sha256 ${sum}`);
