import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../src/adapters/state-store.js';
import { writeAll, type Sink } from '../../src/adapters/sink.js';
import { Webhook, type WebhookOptions } from '../../src/adapters/webhook.js';
import { parseConfig } from '../../src/config/schema.js';
import { resolveCell } from '../../src/config/cell-setup.js';
import type { AlertEvent } from '../../src/domain/alerts/incidents.js';
import { Lab, type LabEvent } from '../../src/domain/lab.js';
import { incidentEvent } from '../support/alert-event.js';

const ALERT: AlertEvent = incidentEvent({
  cell: 'c1',
  kind: 'hard_short',
  level: 'critical',
  previous: 'ok',
  t: Date.UTC(2026, 0, 1),
  value: 300,
  threshold: 200,
  unit: 'mV',
  message: 'hard_short critical: …',
});

async function server(statuses: number[]): Promise<{ url: string; bodies: string[]; close: () => Promise<void> }> {
  const bodies: string[] = [];
  const s = createServer((req: IncomingMessage, res) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      bodies.push(b);
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) =>
    s.listen(0, '127.0.0.1', () => {
      r();
    }),
  );
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () =>
      new Promise((r) =>
        s.close(() => {
          r();
        }),
      ),
  };
}

describe('webhook', () => {
  const opts = (url: string, format: WebhookOptions['format']): WebhookOptions => ({
    url,
    format,
    timeout_ms: 2_000,
    retries: 3,
    levels: ['warning', 'critical', 'ok'],
  });

  it('posts the alert as JSON, retrying a failing endpoint, without blocking the caller', async () => {
    const srv = await server([500, 503]);
    const w = new Webhook(opts(srv.url, 'json'));
    w.send(ALERT);
    expect(srv.bodies).toHaveLength(0); // send() only queues: nothing has reached the server yet
    expect(await w.stop(15_000)).toBe(0);
    expect(srv.bodies).toHaveLength(3);
    expect(JSON.parse(srv.bodies[2]!)).toMatchObject({ cell: 'c1', kind: 'hard_short', level: 'critical', time: '2026-01-01T00:00:00.000Z' });
    expect(w.sent).toBe(1);
    await srv.close();
  });

  it('speaks Slack ({"text": …}) and gives up on a 4xx without retrying', async () => {
    const srv = await server([400]);
    const w = new Webhook(opts(srv.url, 'slack'));
    w.send(ALERT);
    expect(await w.stop(5_000)).toBe(1);
    expect(srv.bodies).toHaveLength(1);
    expect((JSON.parse(srv.bodies[0]!) as { text: string }).text).toContain('oep c1: hard_short critical');
    await srv.close();
  });
});

describe('state store', () => {
  it('a restored lab keeps each cell mid-step, its counters, its alert states and open incidents', () => {
    const cfg = parseConfig({ alignment: { lateness_ms: 1_000 }, defaults: { minStepDuration_s: 1 } });
    const setup = (id: string) => resolveCell(cfg, id);
    const T = Date.UTC(2026, 0, 1);
    const feed = (lab: Lab, from: number, to: number): LabEvent[] => {
      const ev: LabEvent[] = [];
      for (let s = from; s < to; s++) {
        const charging = Math.floor(s / 600) % 2 === 0;
        lab.ingest(
          'c1',
          [
            { cell: 'c1', channel: 'current', ts: T + s * 1000, value: charging ? 1 : -1 },
            { cell: 'c1', channel: 'pressure', ts: T + s * 1000, value: 15 + (charging ? s % 600 : 600 - (s % 600)) * 1e-3 },
            // a voltage drop during a charge: a hard-short alert that is still critical at the snapshot
            { cell: 'c1', channel: 'voltage', ts: T + s * 1000, value: s === 1450 ? 3.5 : 4.0 },
          ],
          T + s * 1000,
          ev,
        );
      }
      return ev;
    };
    const whole = new Lab(setup);
    const all = feed(whole, 0, 3000);
    const dir = mkdtempSync(join(tmpdir(), 'oep-state-'));
    const first = new Lab(setup);
    const before = feed(first, 0, 1500);
    new StateStore(dir).save(first, { savedAt: 0, journal: { seq: 0, recent: [] } });
    const second = new Lab(setup);
    expect(new StateStore(dir).restore(second)?.cells).toBe(1);
    expect(first.cell('c1').alerts.kinds.hard_short?.level).toBe('critical');
    expect(second.cell('c1').alerts.kinds.hard_short?.level).toBe('critical');
    const after = feed(second, 1500, 3000);
    const summary = (e: LabEvent[]) =>
      e.map((x) =>
        x.type === 'step'
          ? `${x.record.kind}@${x.record.tStart}:${x.record.q_mAh.toFixed(9)}`
          : x.type === 'alert'
            ? `${x.alert.kind}:${x.alert.level}@${x.alert.t}`
            : x.type,
      );
    expect(summary([...before, ...after])).toEqual(summary(all));
    expect(second.cell('c1').counters.accepted).toBe(whole.cell('c1').counters.accepted);
    // the incident opened before the restart is the same open incident after it (no second open)
    expect(summary(before).filter((x) => x.startsWith('hard_short:critical'))).toHaveLength(1);
    expect(summary(after).filter((x) => x.startsWith('hard_short:'))).toEqual([]);
    expect(second.cell('c1').incidents.open.hard_short?.id).toBe(first.cell('c1').incidents.open.hard_short?.id);
    expect(second.cell('c1').incidents.open.hard_short?.id).toBeDefined();
  });
});

describe('sinks', () => {
  it('a sink that throws does not keep a batch from the others; the daemon hears of it', () => {
    const got: string[] = [];
    const sink = (name: string, fail: boolean): Sink => ({
      name,
      write: (events) => {
        if (fail) throw new Error(`${name} broke`);
        got.push(`${name}:${events.length}`);
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve({ written: 0, lost: 0 }),
    });
    const errors: string[] = [];
    const batch = [{ type: 'failure', cell: 'c1', message: 'x', t: 0 }] as const;
    writeAll([sink('a', false), sink('b', true), sink('c', false)], batch, (s, e) => errors.push(`${s.name}: ${e instanceof Error ? e.message : ''}`));
    expect(got).toEqual(['a:1', 'c:1']);
    expect(errors).toEqual(['b: b broke']);
    expect(() => {
      writeAll([sink('b', true), sink('d', false)], batch);
    }).toThrow('b broke');
    expect(got).toEqual(['a:1', 'c:1', 'd:1']);
  });
});
