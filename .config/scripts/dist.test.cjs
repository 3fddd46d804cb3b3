/**
 * @jest-environment node
 */
// Tests of the dist/ checker and the zip writer, and the check of the real dist/ when it exists.
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { binaryKind, checkDist, zipFolder } = require('./dist.cjs');

const root = path.resolve(__dirname, '..', '..');
const rootPluginJSON = path.join(root, 'plugin.json');

// Minimal executable headers of each platform.
function elf(machine) {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(0x7f454c46, 0);
  b.writeUInt16LE(machine, 18);
  return b;
}
function macho(cpu) {
  const b = Buffer.alloc(32);
  b.writeUInt32LE(0xfeedfacf, 0);
  b.writeUInt32LE(cpu, 4);
  return b;
}
function pe(machine) {
  const b = Buffer.alloc(256);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(128, 60);
  b.write('PE\0\0', 128, 'latin1');
  b.writeUInt16LE(machine, 132);
  return b;
}

const BINARIES = {
  gpx_lode_linux_amd64: elf(0x3e),
  gpx_lode_linux_arm64: elf(0xb7),
  gpx_lode_darwin_arm64: macho(0x0100000c),
  'gpx_lode_windows_amd64.exe': pe(0x8664),
};

function makeDist({ binaries = BINARIES, module = 'define(["react"],function(){});', skip = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-dist-'));
  const pj = JSON.parse(fs.readFileSync(rootPluginJSON, 'utf8'));
  fs.copyFileSync(rootPluginJSON, path.join(dir, 'plugin.json'));
  fs.mkdirSync(path.join(dir, 'img'));
  for (const logo of Object.values(pj.info.logos)) {
    fs.writeFileSync(path.join(dir, logo), '<svg/>');
  }
  fs.writeFileSync(path.join(dir, 'module.js'), module);
  fs.writeFileSync(path.join(dir, 'README.md'), '# Lode');
  for (const [name, data] of Object.entries(binaries)) {
    fs.writeFileSync(path.join(dir, name), data, { mode: 0o755 });
  }
  for (const f of skip) {
    fs.rmSync(path.join(dir, f), { recursive: true });
  }
  return dir;
}

describe('checkDist', () => {
  test('accepts a complete folder', () => {
    const res = checkDist(makeDist(), { requireBinaries: true, rootPluginJSON });
    expect(res.errors).toEqual([]);
    expect(res.binaries).toHaveLength(4);
  });

  test('only warns about missing binaries unless they are required', () => {
    const dir = makeDist({ binaries: {} });
    const loose = checkDist(dir, { rootPluginJSON });
    expect(loose.errors).toEqual([]);
    expect(loose.warnings[0]).toMatch(/no plugin backend binaries .*mage -v pluginBackend/);
    expect(checkDist(dir, { requireBinaries: true, rootPluginJSON }).errors[0]).toMatch(/no plugin backend binaries/);
  });

  test.each([
    ['a missing platform', { skip: ['gpx_lode_darwin_arm64'] }, /gpx_lode_darwin_arm64 is missing/],
    ['a binary of the wrong CPU', { binaries: { ...BINARIES, gpx_lode_linux_arm64: elf(0x3e) } }, /gpx_lode_linux_arm64 is a linux\/amd64 binary, not linux\/arm64/],
    ['a missing module.js', { skip: ['module.js'] }, /module.js is missing/],
    ['a module.js that is not AMD', { module: 'export const plugin = 1;' }, /not an AMD module/],
    ['a missing logo', { skip: ['img'] }, /logo img\/logo.svg named by plugin.json is missing/],
    ['a missing README', { skip: ['README.md'] }, /README.md is missing/],
  ])('reports %s', (_name, opts, want) => {
    const res = checkDist(makeDist(opts), { requireBinaries: true, rootPluginJSON });
    expect(res.errors.join('\n')).toMatch(want);
  });

  test('reports a binary that is not executable', () => {
    const dir = makeDist();
    fs.chmodSync(path.join(dir, 'gpx_lode_linux_amd64'), 0o644);
    expect(checkDist(dir, { requireBinaries: true }).errors).toEqual(['gpx_lode_linux_amd64 is not executable']);
  });

  test('reports a plugin.json that differs from the root one', () => {
    const dir = makeDist();
    fs.writeFileSync(path.join(dir, 'plugin.json'), fs.readFileSync(rootPluginJSON, 'utf8').replace('"Lode"', '"Other"'));
    expect(checkDist(dir, { rootPluginJSON }).errors).toContain('dist/plugin.json differs from the root plugin.json: rebuild');
  });

  test('reads binary headers', () => {
    expect(binaryKind(pe(0xaa64))).toEqual({ os: 'windows', arch: 'arm64' });
    expect(binaryKind(Buffer.from('#!/bin/sh'))).toEqual({ os: 'unknown', arch: 'unknown' });
  });
});

test('package.json and plugin.json carry the same version', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const pj = JSON.parse(fs.readFileSync(rootPluginJSON, 'utf8'));
  expect(pkg.version).toBe(pj.info.version);
  expect(pkg.name).toBe(pj.id);
});

// An independent reader of the central directory, to check what zipFolder wrote.
function readZip(file) {
  const buf = fs.readFileSync(file);
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = {};
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const mode = buf.readUInt32LE(p + 38) >>> 16;
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + csize);
    const data = method === 8 ? zlib.inflateRawSync(raw) : raw;
    out[name] = { mode, data, crcOK: zlib.crc32(data) === crc };
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

describe('zipFolder', () => {
  test('puts everything under the plugin id folder, keeping contents and modes', () => {
    const dir = makeDist();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lode-zip-')), 'p.zip');
    const n = zipFolder(dir, 'lode-logs-datasource', out);
    const z = readZip(out);
    expect(Object.keys(z)).toHaveLength(n);
    expect(Object.keys(z).every((k) => k.startsWith('lode-logs-datasource/'))).toBe(true);
    expect(Object.keys(z)).toEqual(expect.arrayContaining(['lode-logs-datasource/module.js', 'lode-logs-datasource/img/logo.svg', 'lode-logs-datasource/gpx_lode_linux_amd64']));
    expect(Object.values(z).every((e) => e.crcOK)).toBe(true);
    expect(z['lode-logs-datasource/gpx_lode_linux_amd64'].mode & 0o777).toBe(0o755);
    expect(z['lode-logs-datasource/plugin.json'].data.toString()).toBe(fs.readFileSync(rootPluginJSON, 'utf8'));
    // The same folder gives the same bytes.
    const again = out + '.2';
    zipFolder(dir, 'lode-logs-datasource', again);
    expect(fs.readFileSync(again).equals(fs.readFileSync(out))).toBe(true);
  });
});

// The real build output, when `npm run build` has run. Binaries are required only when
// LODE_REQUIRE_PLUGIN_BINARIES=1 (after `mage pluginBackend`); otherwise their absence is reported.
const realDist = path.join(root, 'dist');
const built = fs.existsSync(path.join(realDist, 'module.js'));
(built ? describe : describe.skip)(built ? 'built dist/' : 'built dist/ (skipped: dist/module.js does not exist; run npm run build)', () => {
  test('has everything Grafana needs', () => {
    const requireBinaries = process.env.LODE_REQUIRE_PLUGIN_BINARIES === '1';
    const res = checkDist(realDist, { requireBinaries, rootPluginJSON });
    res.warnings.forEach((w) => console.warn(`dist/: ${w}`));
    expect(res.errors).toEqual([]);
  });
});
