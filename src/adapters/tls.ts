/**
 * TLS settings of a connection (MQTT over `mqtts://`, InfluxDB over `https://`): files named in the
 * config, read when the connection is made, and handed to Node's TLS as buffers.
 */
import { readFileSync } from 'node:fs';

/** As the config names them: PEM files, and whether the server's certificate must verify (default: yes). */
export interface TlsFiles {
  /** CA certificate(s) the server's certificate must chain to (default: Node's bundled CAs). */
  readonly ca?: string | undefined;
  /** Client certificate, for brokers/databases that authenticate clients by certificate. */
  readonly cert?: string | undefined;
  /** The client certificate's private key. */
  readonly key?: string | undefined;
  /** false accepts any server certificate: for a test bench only, never across a network. */
  readonly rejectUnauthorized?: boolean | undefined;
}

/** Node TLS options, the files read. */
export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
}

/** Reads the files `t` names; an unreadable file throws with its path (a config error, at start). */
export function readTls(t: TlsFiles | undefined): TlsOptions {
  if (t === undefined) return {};
  const read = (what: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`TLS ${what} ${path} cannot be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  };
  const ca = read('CA', t.ca);
  const cert = read('certificate', t.cert);
  const key = read('key', t.key);
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cert !== undefined ? { cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(t.rejectUnauthorized !== undefined ? { rejectUnauthorized: t.rejectUnauthorized } : {}),
  };
}
