/**
 * Proves the integration harness in test/support/services.ts against the real binaries.
 */
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readInfluxFields,
  startInfluxDB1,
  startMosquitto,
  startVictoriaMetrics,
  vmClose,
  type Influx1Handle,
  type MosquittoHandle,
  type VmHandle,
} from '../support/services.js';

interface Received {
  topic: string;
  payload: string;
  qos: number;
}

/**
 * Connect and collect messages from the very first packet: with a persistent session the broker sends queued
 * messages right after CONNACK, possibly in the same TCP chunk, i.e. before an awaited connectAsync() resumes.
 */
async function connectCollecting(url: string, opts: IClientOptions): Promise<{ client: MqttClient; received: Received[] }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), qos: packet.qos }));
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => {
        resolve();
      });
      client.once('error', reject);
      client.once('close', () => {
        reject(new Error(`connection to ${url} closed before CONNACK`));
      });
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return { client, received };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mosquitto', () => {
  let broker: MosquittoHandle;

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('listens on a free 127.0.0.1 port', () => {
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect([1883, 8883]).not.toContain(broker.port);
  });

  it('delivers a QoS 1 message to a subscriber', { timeout: 15_000 }, async () => {
    const sub = await connectCollecting(broker.url, { clientId: 'svc-sub-1' });
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'svc-pub-1', reconnectPeriod: 0 });
    try {
      await sub.client.subscribeAsync('oep/test/qos1', { qos: 1 });
      await pub.publishAsync('oep/test/qos1', 'hello', { qos: 1 });
      await waitFor(() => sub.received.length > 0, 'the QoS 1 message');
      expect(sub.received).toEqual([{ topic: 'oep/test/qos1', payload: 'hello', qos: 1 }]);
    } finally {
      await Promise.all([sub.client.endAsync(), pub.endAsync()]);
    }
  });

  it('keeps a persistent session and its queued QoS 1 messages across a restart', { timeout: 15_000 }, async () => {
    const clientId = 'svc-persistent-sub';
    const first = await connectCollecting(broker.url, { clientId, clean: false });
    await first.client.subscribeAsync('oep/test/persist', { qos: 1 });
    await first.client.endAsync();

    const pub = await mqtt.connectAsync(broker.url, { clientId: 'svc-pub-2', reconnectPeriod: 0 });
    await pub.publishAsync('oep/test/persist', 'queued-1', { qos: 1 });
    await pub.publishAsync('oep/test/persist', 'queued-2', { qos: 1 });
    await pub.endAsync();

    const portBefore = broker.port;
    await broker.restart();
    expect(broker.port).toBe(portBefore);

    const second = await connectCollecting(broker.url, { clientId, clean: false });
    try {
      await waitFor(() => second.received.length >= 2, 'the queued messages after the restart');
      expect(second.received).toEqual([
        { topic: 'oep/test/persist', payload: 'queued-1', qos: 1 },
        { topic: 'oep/test/persist', payload: 'queued-2', qos: 1 },
      ]);
    } finally {
      await second.client.endAsync();
    }
  });
});

describe('victoria-metrics', () => {
  let vm: VmHandle;

  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.stop();
  });

  it('stores points written through @influxdata/influxdb-client, old and recent, exactly', { timeout: 15_000 }, async () => {
    const ts2019 = Date.UTC(2019, 2, 14, 9, 26, 53, 589);
    const now = Date.now();
    const tomorrow = now + 86_400_000; // VM 1.79 accepts up to now + 2 days; later points are dropped silently
    const writeApi = new InfluxDB({ url: vm.url, token: 'x' }).getWriteApi('org', 'bucket', 'ms');
    writeApi.writePoint(new Point('svc_step').tag('cell', 'A1').floatField('q_mAh', 1234.5678).intField('n', 7).timestamp(ts2019));
    writeApi.writePoint(new Point('svc_step').tag('cell', 'A1').floatField('q_mAh', -0.1).intField('n', 8).timestamp(now));
    writeApi.writePoint(new Point('svc_step').tag('cell', 'B2').floatField('q_mAh', 3.25e-7).timestamp(now));
    writeApi.writePoint(new Point('svc_step').tag('cell', 'B2').floatField('q_mAh', 42).timestamp(tomorrow));
    writeApi.writePoint(new Point('svc_kinds').tag('cell', 'A1').stringField('kind', 'charge').booleanField('ok', true).timestamp(now));
    await writeApi.close();

    expect(await readInfluxFields(vm, 'svc_step', ['q_mAh', 'n'])).toEqual([
      { tags: { cell: 'A1' }, ts: ts2019, fields: { q_mAh: 1234.5678, n: 7 } },
      { tags: { cell: 'A1' }, ts: now, fields: { q_mAh: -0.1, n: 8 } },
      { tags: { cell: 'B2' }, ts: now, fields: { q_mAh: 3.25e-7 } },
      { tags: { cell: 'B2' }, ts: tomorrow, fields: { q_mAh: 42 } },
    ]);
    expect(await readInfluxFields(vm, 'svc_step', ['q_mAh'], { cell: 'B2' })).toHaveLength(2);

    // Documented quirks: booleans become 1/0, string fields lose their text (0 in VM 1.79).
    const kinds = await readInfluxFields(vm, 'svc_kinds', ['kind', 'ok']);
    expect(kinds).toHaveLength(1);
    expect(kinds[0]?.fields.ok).toBe(1);
    expect([undefined, 0]).toContain(kinds[0]?.fields.kind);

    const raw = await vm.exportSeries('{__name__="svc_step_q_mAh",cell="A1"}');
    expect(raw).toEqual([{ metric: { __name__: 'svc_step_q_mAh', cell: 'A1' }, values: [1234.5678, -0.1], timestamps: [ts2019, now] }]);
  });

  it('keeps about 12 significant digits, not exact float64 (documented quirk; compare with vmClose)', { timeout: 15_000 }, async () => {
    const values = [1 / 3, 1.0000000000000002, 0.1 + 0.2, Math.PI * 1e-5];
    const writeApi = new InfluxDB({ url: vm.url, token: 'x' }).getWriteApi('org', 'bucket', 'ms');
    values.forEach((v, i) => {
      writeApi.writePoint(
        new Point('svc_prec')
          .tag('i', String(i))
          .floatField('v', v)
          .timestamp(Date.UTC(2021, 0, 1)),
      );
    });
    await writeApi.close();
    const rows = await readInfluxFields(vm, 'svc_prec', ['v']);
    const back = rows.sort((a, b) => Number(a.tags.i) - Number(b.tags.i)).map((r) => r.fields.v ?? NaN);
    expect(back).toHaveLength(values.length);
    expect(back[0]).not.toBe(1 / 3);
    back.forEach((v, i) => {
      expect(vmClose(v, values[i] ?? NaN), `value ${i}: ${v} vs ${values[i]}`).toBe(true);
    });
    expect(vmClose(1.001, 1)).toBe(false);
  });

  it('reports duplicate samples and keeps data across a restart', { timeout: 15_000 }, async () => {
    const ts = Date.UTC(2020, 0, 1);
    for (const value of [1, 2]) {
      const res = await fetch(`${vm.url}/api/v2/write?org=o&bucket=b&precision=ms`, { method: 'POST', body: `svc_dup,cell=C f=${value} ${ts}` });
      expect(res.status).toBe(204);
    }
    const rows = await readInfluxFields(vm, 'svc_dup', ['f']);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.duplicates?.f?.slice().sort()).toEqual([1, 2]);

    await vm.restart();
    expect((await readInfluxFields(vm, 'svc_step', ['q_mAh'], { cell: 'A1' })).map((r) => r.fields.q_mAh)).toEqual([1234.5678, -0.1]);
  });
});

describe('influxdb 1.x', () => {
  let influx: Influx1Handle;

  beforeAll(async () => {
    influx = await startInfluxDB1();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  it('writes line protocol over /write and reads it back with InfluxQL', { timeout: 15_000 }, async () => {
    expect(influx.port).not.toBe(8086);
    await influx.query('', 'CREATE DATABASE oep_test');
    const ts2019 = Date.UTC(2019, 5, 1, 12);
    const now = Date.now();
    const body = [`svc_cycle,cell=A1 q_mAh=12.5,cycle=3i,kind="charge" ${ts2019}`, `svc_cycle,cell=A1 q_mAh=-0.25,cycle=4i,kind="rest" ${now}`].join('\n');
    const res = await fetch(`${influx.url}/write?db=oep_test&precision=ms`, { method: 'POST', body });
    expect(res.status).toBe(204);

    const result = await influx.query('oep_test', 'SELECT q_mAh, cycle, kind, cell FROM svc_cycle ORDER BY time');
    expect(result).toEqual({
      results: [
        {
          statement_id: 0,
          series: [
            {
              name: 'svc_cycle',
              columns: ['time', 'q_mAh', 'cycle', 'kind', 'cell'],
              values: [
                [ts2019, 12.5, 3, 'charge', 'A1'],
                [now, -0.25, 4, 'rest', 'A1'],
              ],
            },
          ],
        },
      ],
    });

    await influx.write('oep_test', [`svc_cycle,cell=B2 q_mAh=1 ${now}`]);
    const count = await influx.query('oep_test', 'SELECT count(q_mAh) FROM svc_cycle');
    expect(count).toMatchObject({ results: [{ series: [{ values: [[0, 3]] }] }] });
  });

  it('takes @influxdata/influxdb-client writes through v2Url and keeps float64 exactly', { timeout: 15_000 }, async () => {
    await influx.query('', 'CREATE DATABASE oep_v2');
    const ts = Date.UTC(2019, 11, 31, 23, 59, 59, 999);
    const writeApi = new InfluxDB({ url: influx.v2Url, token: 'x' }).getWriteApi('org', 'oep_v2', 'ms', { gzipThreshold: 0 });
    writeApi.writePoint(
      new Point('svc_exact')
        .tag('cell', 'A1')
        .floatField('v', 1 / 3)
        .floatField('w', 1.0000000000000002)
        .timestamp(ts),
    );
    await writeApi.close();
    expect(await influx.query('oep_v2', 'SELECT v, w FROM svc_exact')).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'svc_exact', columns: ['time', 'v', 'w'], values: [[ts, 1 / 3, 1.0000000000000002]] }] }],
    });

    // Errors come back in the v2 shape; writeFailed rejecting keeps the client from logging the error itself.
    const missing = new InfluxDB({ url: influx.v2Url, token: 'x' }).getWriteApi('org', 'no_such_db', 'ms', {
      maxRetries: 0,
      writeFailed: (err) => Promise.reject(err),
    });
    missing.writePoint(new Point('svc_exact').floatField('v', 1).timestamp(ts));
    await expect(missing.close()).rejects.toThrow('database not found: "no_such_db"');
  });
});
