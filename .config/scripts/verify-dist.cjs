// Usage: node .config/scripts/verify-dist.cjs [--require-binaries] [dist-dir]
// Exits 1 when Grafana could not load the built plugin folder as it is.
const path = require('path');
const { checkDist } = require('./dist.cjs');

const root = path.resolve(__dirname, '..', '..');
const args = process.argv.slice(2);
const requireBinaries = args.includes('--require-binaries');
const dist = path.resolve(root, args.find((a) => !a.startsWith('--')) || 'dist');

const res = checkDist(dist, { requireBinaries, rootPluginJSON: path.join(root, 'plugin.json') });
for (const w of res.warnings) {
  console.log(`warning: ${w}`);
}
for (const e of res.errors) {
  console.error(`error: ${e}`);
}
if (res.errors.length > 0) {
  console.error(`${path.relative(root, dist)}/ is not a loadable plugin folder (${res.errors.length} problems)`);
  process.exit(1);
}
const id = res.pluginJSON.id;
console.log(`${path.relative(root, dist)}/ is a loadable ${id} ${res.pluginJSON.info.version} folder; backend binaries: ${res.binaries.length ? res.binaries.join(', ') : 'none'}`);
