// Checks and packages the built plugin folder (dist/): what Grafana needs to load it, and the
// zip layout Grafana's plugin installer expects. No dependencies beyond Node itself.
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

/** Platforms the plugin backend ships for, as <executable>_<os>_<arch>[.exe]. */
const PLATFORMS = [
  { os: 'linux', arch: 'amd64' },
  { os: 'linux', arch: 'arm64' },
  { os: 'darwin', arch: 'arm64' },
  { os: 'windows', arch: 'amd64' },
];

/** The binary file name Grafana starts for a platform. */
function binaryName(executable, p) {
  return `${executable}_${p.os}_${p.arch}${p.os === 'windows' ? '.exe' : ''}`;
}

/** Reads the executable format and CPU of a binary from its header. */
function binaryKind(buf) {
  if (buf.length >= 20 && buf.readUInt32BE(0) === 0x7f454c46) {
    // ELF: e_machine at 18 (little endian on the platforms we ship).
    const machine = buf.readUInt16LE(18);
    return { os: 'linux', arch: machine === 0x3e ? 'amd64' : machine === 0xb7 ? 'arm64' : `elf-${machine}` };
  }
  if (buf.length >= 8 && buf.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = buf.readUInt32LE(4);
    return { os: 'darwin', arch: cpu === 0x0100000c ? 'arm64' : cpu === 0x01000007 ? 'amd64' : `macho-${cpu}` };
  }
  if (buf.length >= 64 && buf.toString('latin1', 0, 2) === 'MZ') {
    const pe = buf.readUInt32LE(60);
    if (buf.length >= pe + 6 && buf.toString('latin1', pe, pe + 4) === 'PE\0\0') {
      const machine = buf.readUInt16LE(pe + 4);
      return { os: 'windows', arch: machine === 0x8664 ? 'amd64' : machine === 0xaa64 ? 'arm64' : `pe-${machine}` };
    }
  }
  return { os: 'unknown', arch: 'unknown' };
}

function readHead(file, n) {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = fs.readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

function checkPluginJSON(dist, rootPluginJSON, errors) {
  const file = path.join(dist, 'plugin.json');
  if (!fs.existsSync(file)) {
    errors.push('plugin.json is missing');
    return undefined;
  }
  let pj;
  try {
    pj = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    errors.push(`plugin.json is not JSON: ${e.message}`);
    return undefined;
  }
  const need = {
    id: pj.id,
    type: pj.type,
    name: pj.name,
    'info.version': pj.info && pj.info.version,
    'dependencies.grafanaDependency': pj.dependencies && pj.dependencies.grafanaDependency,
  };
  for (const [k, v] of Object.entries(need)) {
    if (!v) {
      errors.push(`plugin.json has no ${k}`);
    }
  }
  if (pj.type && pj.type !== 'datasource') {
    errors.push(`plugin.json type is ${pj.type}, not datasource`);
  }
  if (pj.id && !/^[a-z0-9]+(-[a-z0-9]+)*-(datasource|panel|app)$/.test(pj.id)) {
    errors.push(`plugin.json id ${pj.id} is not of the form <org>-<name>-datasource`);
  }
  if (pj.backend) {
    if (!pj.executable || /[\\/]/.test(pj.executable)) {
      errors.push('plugin.json has backend: true but no executable name (without path)');
    }
  }
  for (const [size, logo] of Object.entries((pj.info && pj.info.logos) || {})) {
    if (!fs.existsSync(path.join(dist, logo))) {
      errors.push(`the ${size} logo ${logo} named by plugin.json is missing`);
    }
  }
  if (rootPluginJSON && fs.existsSync(rootPluginJSON) && fs.readFileSync(rootPluginJSON, 'utf8') !== fs.readFileSync(file, 'utf8')) {
    errors.push('dist/plugin.json differs from the root plugin.json: rebuild');
  }
  return pj;
}

function checkModule(dist, errors) {
  const file = path.join(dist, 'module.js');
  if (!fs.existsSync(file)) {
    errors.push('module.js is missing: run npm run build');
    return;
  }
  const head = readHead(file, 64).toString('utf8');
  if (!head.startsWith('define(')) {
    errors.push('module.js is not an AMD module (Grafana loads plugins with define())');
  }
}

function checkBinaries(dist, pj, requireBinaries, errors, warnings) {
  const found = [];
  if (!pj || !pj.backend || !pj.executable) {
    return found;
  }
  const expected = PLATFORMS.map((p) => ({ ...p, name: binaryName(pj.executable, p) }));
  const present = expected.filter((b) => fs.existsSync(path.join(dist, b.name)));
  if (present.length === 0) {
    const msg = `no plugin backend binaries (${expected.map((b) => b.name).join(', ')}): build them with go run github.com/magefile/mage -v pluginBackend`;
    (requireBinaries ? errors : warnings).push(msg);
    return found;
  }
  for (const b of expected) {
    const file = path.join(dist, b.name);
    if (!fs.existsSync(file)) {
      errors.push(`${b.name} is missing (the backend build covers ${PLATFORMS.length} platforms)`);
      continue;
    }
    const st = fs.statSync(file);
    const kind = binaryKind(readHead(file, 4096));
    if (kind.os !== b.os || kind.arch !== b.arch) {
      errors.push(`${b.name} is a ${kind.os}/${kind.arch} binary, not ${b.os}/${b.arch}`);
    }
    if (b.os !== 'windows' && (st.mode & 0o111) === 0) {
      errors.push(`${b.name} is not executable`);
    }
    found.push(b.name);
  }
  const stray = fs.readdirSync(dist).filter((f) => f.startsWith(`${pj.executable}_`) && !expected.some((b) => b.name === f));
  for (const f of stray) {
    warnings.push(`${f} is not a platform Grafana is expected to run (it will be shipped anyway)`);
  }
  return found;
}

/**
 * Checks a built plugin folder. Returns { errors, warnings, pluginJSON, binaries }; errors is
 * empty when Grafana can load the folder as it is. Without requireBinaries, a folder with no
 * backend binary at all is only a warning (the frontend build alone was run).
 */
function checkDist(dist, { requireBinaries = false, rootPluginJSON } = {}) {
  const errors = [];
  const warnings = [];
  if (!fs.existsSync(dist)) {
    return { errors: [`${dist} does not exist: run npm run build`], warnings, binaries: [] };
  }
  const pj = checkPluginJSON(dist, rootPluginJSON, errors);
  checkModule(dist, errors);
  if (!fs.existsSync(path.join(dist, 'README.md'))) {
    errors.push('README.md is missing (Grafana shows it on the plugin page)');
  }
  const binaries = checkBinaries(dist, pj, requireBinaries, errors, warnings);
  return { errors, warnings, pluginJSON: pj, binaries };
}

// Zip writing (store + deflate, no dependencies), with Unix modes kept so that the backend
// binaries stay executable, and a fixed timestamp so that the same folder gives the same zip.

const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01

function listFiles(dir, prefix = '') {
  const out = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    const rel = prefix ? `${prefix}/${name}` : name;
    const st = fs.statSync(full);
    if (st.isDirectory()) {
      out.push({ rel: `${rel}/`, full, dir: true, mode: 0o40755 });
      out.push(...listFiles(full, rel));
    } else if (st.isFile()) {
      out.push({ rel, full, dir: false, mode: 0o100000 | (st.mode & 0o777) });
    }
  }
  return out;
}

/**
 * Writes a zip of dir whose entries sit under the folder `root` (Grafana's installer expects
 * <plugin id>/ at the top of the zip). Returns the number of entries.
 */
function zipFolder(dir, root, outFile) {
  const entries = [{ rel: `${root}/`, dir: true, mode: 0o40755 }, ...listFiles(dir, root)];
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.rel, 'utf8');
    const raw = e.dir ? Buffer.alloc(0) : fs.readFileSync(e.full);
    const crc = zlib.crc32(raw);
    const deflated = e.dir ? raw : zlib.deflateRawSync(raw);
    const useDeflate = !e.dir && deflated.length < raw.length;
    const data = useDeflate ? deflated : raw;
    const method = useDeflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    chunks.push(local, name, data);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(0x0800, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(DOS_TIME, 12);
    cd.writeUInt16LE(DOS_DATE, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(data.length, 20);
    cd.writeUInt32LE(raw.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(((e.mode << 16) | (e.dir ? 0x10 : 0)) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += local.length + name.length + data.length;
    if (offset > 0xffffffff) {
      throw new Error('the plugin folder is too large for a zip without zip64');
    }
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, Buffer.concat([...chunks, cdBuf, end]));
  return entries.length;
}

module.exports = { PLATFORMS, binaryName, binaryKind, checkDist, zipFolder };
