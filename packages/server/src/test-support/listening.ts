import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MountedApp } from './adapter-spec'

/** Listens on 127.0.0.1, port 0; `close` drops open connections first so slow requests cannot hold it. */
export async function listening(server: Server): Promise<MountedApp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
