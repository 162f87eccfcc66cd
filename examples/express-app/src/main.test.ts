import { join } from 'node:path'
import { LocalReranker } from '@rerank-kit/core'
import { expect, it } from 'vitest'
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
  ownRoutes: (context) => {
    ownRoutesSpec({
      greeting: 'Hello from Express!',
      search: postSearch,
      searchWithoutQuery: postSearchWithoutQuery,
    })(context)

    it('answers a /search body that is not JSON with a JSON 400, no HTML page and no stack trace', async () => {
      const answer = await fetch(`${context.url()}/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query": ',
      })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
      const text = await answer.text()
      expect(JSON.parse(text)).toEqual({ error: 'The body is not valid JSON' })
      expect(text).not.toMatch(/node_modules|at |\.ts|\.js/)
    })
  },
})
