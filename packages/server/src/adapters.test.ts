import { describeAdapter } from './test-support/adapter-spec'
import { fetchBridgeServer, nodeHttpServer } from './test-support/plain-servers'

describeAdapter('node:http', nodeHttpServer, { hostRoutes: false })

// The fetch handler behind a minimal node:http -> Request bridge, as Hono's or Bun's server would call it.
describeAdapter('fetch', fetchBridgeServer, { hostRoutes: false })
