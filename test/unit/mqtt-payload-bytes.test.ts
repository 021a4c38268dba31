/**
 * What the MQTT adapter hands mqtt.js to publish (and mqtt.js keeps until the PUBACK): the payload's UTF-8
 * bytes, in a buffer of their own, not a slice of Node's shared 8 KB pool that a long wait for the PUBACK
 * would keep alive whole.
 */
import { describe, expect, it } from 'vitest';
import { utf8Bytes } from '../../src/adapters/mqtt.js';

describe('utf8Bytes', () => {
  it('holds the UTF-8 bytes of the payload in a buffer of their own', () => {
    const payload = JSON.stringify({ cell: 'b1', message: 'pressure_drop critical (noise σ 88.6 kPa) (800 kPa ≥ 673 kPa)' });
    const b = utf8Bytes(payload);
    expect(b.equals(Buffer.from(payload, 'utf8'))).toBe(true);
    expect(b.toString('utf8')).toBe(payload);
    expect(b.length).toBeLessThan(payload.length * 2);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(b.length);
    expect(utf8Bytes('').length).toBe(0);
  });
});
