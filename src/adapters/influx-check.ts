/**
 * What an InfluxDB error means for oep's points, and the start-up probe of the write endpoint.
 *
 * Three kinds: an outage (no answer, 5xx, 408/425/429: retried with backoff, the points wait), a refusal
 * of the setup (401/403 the token, 404 no `/api/v2/write` or no such bucket, 413 a batch too big: the
 * points wait too, the cause is logged once, and it is tried again now and then in case someone fixes the
 * server side), and a refusal of the data (other 4xx: that batch can never be written; it is dropped and
 * counted, `output.dir`'s points.lp still has it).
 */
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { redactUrl } from './log-text.js';
import { readTls, type TlsFiles } from './tls.js';

export type WriteErrorKind = 'outage' | 'setup' | 'data';

const SETUP_STATUSES: readonly number[] = [401, 403, 404, 413];
const OUTAGE_STATUSES: readonly number[] = [408, 425, 429];

export function writeErrorKind(e: unknown): WriteErrorKind {
  if (!(e instanceof HttpError)) return 'outage';
  const s = e.statusCode;
  if (SETUP_STATUSES.includes(s)) return 'setup';
  if (s >= 400 && s < 500 && !OUTAGE_STATUSES.includes(s)) return 'data';
  return 'outage';
}

export interface InfluxTarget {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token?: string | undefined;
  /** TLS for `https://` (CA, client certificate and key, rejectUnauthorized). */
  readonly tls?: TlsFiles | undefined;
}

/** The server's own words, short: the JSON message, or the start of the body. */
function said(e: HttpError): string {
  const text = (e.json !== undefined ? e.message : (e.body ?? '')).trim().replace(/\s+/g, ' ');
  return text === '' ? '' : `: ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`;
}

/** One line: what the server refused and what to change (for a setup refusal or a data refusal). */
export function refusalCause(e: HttpError, t: InfluxTarget): string {
  const s = e.statusCode;
  const http = `HTTP ${String(s)}${said(e)}`;
  if (s === 401 || s === 403) return `token missing or refused (${http}): set influx.token or OEP_INFLUX_TOKEN to a token that may write to bucket ${t.bucket}`;
  if (s === 404 && /bucket|database|not found:/i.test(e.body ?? '') && !/page not found/i.test(e.body ?? ''))
    return `bucket ${t.bucket} not found (${http}): create it, or set influx.bucket (InfluxDB 1.8: "database/retention-policy")`;
  if (s === 404)
    return (
      `no /api/v2/write here (${http}): is this InfluxDB 1.x? oep writes the 2.x API, which 1.8 and later also serve ` +
      '(bucket "database/retention-policy"); 1.7 and older do not; or influx.url has a wrong path'
    );
  if (s === 413) return `a batch is too big for the server (${http}): lower influx.batchSize`;
  return `the server refused the lines (${http})`;
}

export type ProbeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'setup' | 'data'; readonly cause: string }
  | { readonly ok: false; readonly kind: 'outage'; readonly cause: string };

/** How long the start-up probe waits for an answer, ms. */
export const PROBE_TIMEOUT_MS = 5_000;

/**
 * Writes zero lines to `/api/v2/write` once: the server checks the token, the org and the bucket and
 * answers 204 without storing anything (InfluxDB 2.x, 1.8+, VictoriaMetrics).
 */
export async function probeInflux(t: InfluxTarget, timeout_ms = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  const transport = new InfluxDB({ url: t.url, token: t.token ?? '', timeout: timeout_ms, transportOptions: { ...readTls(t.tls) } }).transport;
  const path = `/api/v2/write?${new URLSearchParams({ org: t.org, bucket: t.bucket, precision: 'ms' }).toString()}`;
  try {
    await transport.request(path, '', { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    return { ok: true };
  } catch (e) {
    const kind = writeErrorKind(e);
    if (e instanceof HttpError && kind !== 'outage') return { ok: false, kind, cause: refusalCause(e, t) };
    const tls = tlsRefusal(e);
    if (tls !== undefined) return { ok: false, kind: 'setup', cause: tls };
    const why = e instanceof HttpError ? `HTTP ${String(e.statusCode)}` : errorCode(e);
    return { ok: false, kind: 'outage', cause: `${redactUrl(t.url)} does not answer (${why})` };
  }
}

/**
 * A TLS handshake that failed on the certificates (the server's does not verify against the CA, names
 * another host, has expired; or the server wants a client certificate): a setup to fix, not an outage
 * to wait out. Codes: Node's (OpenSSL's verify errors, ERR_TLS_*, ERR_SSL_*).
 */
function tlsRefusal(e: unknown): string | undefined {
  const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  if (code === undefined || !/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_|ERR_SSL_|HANDSHAKE/.test(code)) return undefined;
  const message = e instanceof Error ? e.message : '';
  return (
    `the TLS handshake failed (${code}: ${message}): the server's certificate does not verify against influx.tls.ca ` +
    "(or Node's CAs without it), or the server wants a client certificate (influx.tls.cert and influx.tls.key)"
  );
}

/** `ECONNREFUSED` and the like, else the message. */
function errorCode(e: unknown): string {
  if (e instanceof Error) return 'code' in e && typeof e.code === 'string' ? e.code : e.message;
  return String(e);
}
