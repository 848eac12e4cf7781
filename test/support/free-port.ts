// A TCP port free on 127.0.0.1 right now (the OS picks it): for the embedded PostgreSQL and the servers
// the tests and the start-up bench spawn.
import { createServer, type AddressInfo } from 'node:net';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
