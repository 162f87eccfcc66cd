import { createServer } from 'node:http'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { listening } from '../../server/src/test-support/listening'
import { OverlapReranker } from '../../server/src/test-support/overlap-reranker'
import { parsePrometheus } from '../../server/src/test-support/parse-prometheus'
import { Counter, Registry } from '../../server/src/test-support/prom-client'
import { rerankRouter } from './index'

// A host Express app that already serves /metrics from its own prom-client registry: given that registry, the
// rerank routes register their series on it, and one scrape of the host's endpoint shows its metrics and ours.

const rerank = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'capital of France',
      documents: ['Paris is the capital of France.', 'Bananas.'],
    }),
  })

describe("express: rerank-kit's metrics on the host app's own registry", () => {
  it("one scrape of the host's /metrics shows its own series and ours; two routers share the registry", async () => {
    const registry = new Registry()
    const orders = new Counter({ name: 'shop_orders_total', help: 'Orders placed.', registers: [registry] })
    // The local engine's stats as LocalReranker.stats() reports them (a batch-size histogram among them).
    const engine = {
      pairs: 2,
      batches: 1,
      workerRestarts: 0,
      batchSize: { le: [1, 2, 4], counts: [0, 1, 1], sum: 2, count: 1 },
    }
    const reranker = Object.assign(new OverlapReranker(), { stats: () => ({ overlap: engine }) })
    const app = express()
    app.post('/orders', (_req, res) => {
      orders.inc()
      res.status(201).end()
    })
    app.get('/metrics', async (_req, res) => {
      res.set('content-type', registry.contentType).send(await registry.metrics())
    })
    // Two mounts on one registry: the series are registered once (prom-client throws on a second registration).
    let second: ReturnType<typeof rerankRouter> | undefined
    app.use('/reranker', rerankRouter({ reranker, metricsRegistry: registry }))
    expect(() => {
      second = rerankRouter({ reranker: new OverlapReranker(), metricsRegistry: registry })
    }).not.toThrow()
    app.use('/reranker-b', second!)
    const server = await listening(createServer(app))
    try {
      expect((await fetch(`${server.url}/orders`, { method: 'POST' })).status).toBe(201)
      expect((await rerank(`${server.url}/reranker/rerank`)).status).toBe(200)
      expect((await rerank(`${server.url}/reranker-b/rerank`)).status).toBe(200)

      const response = await fetch(`${server.url}/metrics`)
      expect(response.status).toBe(200)
      // Express 4 moves the charset parameter first: the format version is what a scraper reads.
      expect(response.headers.get('content-type')).toContain('version=0.0.4')
      const families = parsePrometheus(await response.text())
      const family = (name: string) => families.find((entry) => entry.name === name)
      expect(family('shop_orders_total')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '1' }] })
      // Both mounts answered /rerank: one series (routes are labelled inside the mount), counted twice.
      expect(family('rerank_kit_http_requests_total')).toMatchObject({
        type: 'COUNTER',
        metrics: [
          {
            value: '2',
            labels: {
              route: '/rerank',
              family: 'native',
              status: '200',
              status_class: '2xx',
              model: 'overlap',
            },
          },
        ],
      })
      expect(family('rerank_kit_http_request_duration_seconds')).toMatchObject({
        type: 'HISTOGRAM',
        metrics: [{ labels: { route: '/rerank', family: 'native' }, count: '2' }],
      })
      expect(family('rerank_kit_engine_batch_size')).toMatchObject({
        type: 'HISTOGRAM',
        metrics: [
          { labels: { model: 'overlap' }, buckets: { 1: '0', 2: '1', 4: '1', '+Inf': '1' }, count: '1' },
        ],
      })
      // Every family once: no duplicate names on the shared registry.
      const names = families.map((entry) => entry.name)
      expect(new Set(names).size).toBe(names.length)
      // The host's registry is the one the routes' own /metrics serves, too.
      expect(await (await fetch(`${server.url}/reranker/metrics`)).text()).toContain('shop_orders_total 1')
    } finally {
      await server.close()
    }
  })
})
