#!/usr/bin/env node
// Makes sure the binaries the integration tests start for themselves are installed:
// mosquitto (MQTT broker), victoria-metrics (InfluxDB line-protocol sink that can be read back),
// influxd (InfluxDB 1.x, for InfluxQL) and chromium (headless browser that opens the `oep report` HTML,
// driven by playwright-core with executablePath: playwright's own browser download is never used).
// As root, installs the missing Debian packages with apt-get.
//
// Installing the Debian packages may start system services on their default ports (1883, 8428, 8086/8088).
// That is harmless: test/support/services.ts starts private instances on free 127.0.0.1 ports with their own
// config and data folders, and never talks to the default ports.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const SERVICES = [
  { name: 'mosquitto', path: process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto', pkg: 'mosquitto' },
  { name: 'victoria-metrics', path: process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics', pkg: 'victoria-metrics' },
  { name: 'influxd', path: process.env.INFLUXD_BIN ?? '/usr/bin/influxd', pkg: 'influxdb' },
  { name: 'chromium', path: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium', pkg: 'chromium' },
];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function missing() {
  return SERVICES.filter((s) => !isExecutable(s.path));
}

function run(cmd, args) {
  console.error(`ensure-services: ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (res.error) {
    console.error(`ensure-services: could not run ${cmd}: ${res.error.message}`);
    return false;
  }
  if (res.status !== 0) {
    console.error(`ensure-services: ${cmd} ${args.join(' ')} exited with ${res.status ?? res.signal}`);
    return false;
  }
  return true;
}

let absent = missing();
if (absent.length > 0) {
  const list = absent.map((s) => `${s.name} (${s.path})`).join(', ');
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    console.error(`ensure-services: missing ${list}; installing the Debian packages`);
    if (run('apt-get', ['update'])) {
      // Install them all together, as the tests expect; already-installed ones are left alone.
      run('apt-get', ['install', '-y', ...SERVICES.map((s) => s.pkg)]);
    }
    absent = missing();
  } else {
    console.error(`ensure-services: missing ${list} and not running as root, so not installing.`);
  }
}

if (absent.length > 0) {
  for (const s of absent) {
    console.error(`ensure-services: MISSING ${s.name}: ${s.path} not found or not executable (Debian package "${s.pkg}")`);
  }
  console.error(`ensure-services: install with: apt-get install -y ${absent.map((s) => s.pkg).join(' ')}`);
  process.exit(1);
}

console.log(`ensure-services: ok (${SERVICES.map((s) => s.path).join(', ')})`);
