/**
 * An in-process MQTT broker (aedes) on a local TCP port: the embedded default's broker (`oep demo`), so
 * nothing needs to be installed to see the pipeline work.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops listening and closes the broker. */
  close(): Promise<void>;
}

/** Starts a broker on 127.0.0.1:`port` (0 = any free port). */
export async function startBroker(port: number): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the embedded broker is not listening on a TCP port');
  const actual = address.port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    close: async () => {
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await new Promise<void>((resolve) => {
        broker.close(() => {
          resolve();
        });
      });
    },
  };
}
