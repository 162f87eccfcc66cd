import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import {
  describeExampleApp,
  ownRoutesSpec,
  postSearch,
  postSearchWithoutQuery,
} from '../../test-support/example-app-spec'
import { fixtureModelPath } from '../../test-support/run-example'

// The example runs as its own process (port 0); the shared spec checks its rerank routes, errors and SIGTERM.
describeExampleApp({
  name: 'express-app',
  dir: join(import.meta.dirname, '..'),
  reference: () => LocalReranker.create({ models: [{ model: fixtureModelPath }] }),
  ownRoutes: ownRoutesSpec({
    greeting: 'Hello from Express!',
    search: postSearch,
    searchWithoutQuery: postSearchWithoutQuery,
  }),
})
