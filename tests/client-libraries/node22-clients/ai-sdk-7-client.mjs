// Run by ../src/ai-sdk-7.test.ts with Node 22: ai 7's rerank() through @ai-sdk/cohere 4 and @ai-sdk/togetherai
// 3, unchanged, against the server at argv[2]. Prints one JSON object: what each call returned, or its error.
import { createCohere } from '@ai-sdk/cohere'
import { createTogetherAI } from '@ai-sdk/togetherai'
import { APICallError, rerank } from 'ai'

const [url, apiKey, input] = process.argv.slice(2)
const { query, documents } = JSON.parse(input)

const providers = {
  cohere: (key) => createCohere({ apiKey: key, baseURL: `${url}/v2` }).reranking('rerank-v3.5'),
  together: (key) =>
    createTogetherAI({ apiKey: key, baseURL: `${url}/v1` }).reranking('Salesforce/Llama-Rank-v1'),
}

const ranked = (result) => ({
  ranking: result.ranking.map(({ originalIndex, score }) => ({ index: originalIndex, score })),
  rerankedDocuments: result.rerankedDocuments,
})

const output = { node: process.version }
for (const [name, model] of Object.entries(providers)) {
  const all = await rerank({ model: model(apiKey), query, documents })
  const top = await rerank({ model: model(apiKey), query, documents, topN: 2 })
  const wrongKey = await rerank({ model: model('wrong'), query, documents, maxRetries: 0 }).then(
    () => ({ rejected: false }),
    (error) => ({
      rejected: true,
      isAPICallError: APICallError.isInstance(error),
      statusCode: error.statusCode,
      responseBody: error.responseBody,
    }),
  )
  output[name] = { all: ranked(all), top: ranked(top), modelId: top.response.modelId, wrongKey }
}
process.stdout.write(JSON.stringify(output))
