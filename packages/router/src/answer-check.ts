import { RerankError, type RerankRequest, type RerankResponse } from '@rerank-kit/protocol'

/**
 * A deployment's answer checked against the request it answers: exactly min(documents, top_n) results, each
 * index an integer inside the request and seen once, each score a finite number. A backend that drops, repeats
 * or invents results answered wrongly even with a 200: it is a failed attempt (upstream_error, retried on
 * another deployment and counted against this one), never a success handed to the caller.
 *
 * @throws RerankError upstream_error naming the deployment and what is wrong (never the backend's text).
 */
export function checkAnswer(response: RerankResponse, request: RerankRequest, deploymentId: string): void {
  const documents = request.documents.length
  const expected = request.topN === undefined ? documents : Math.min(documents, request.topN)
  const results = Array.isArray(response?.results) ? response.results : undefined
  if (results === undefined) throw badAnswer(deploymentId, 'no results list')
  if (results.length !== expected) {
    throw badAnswer(deploymentId, `${results.length} results for ${expected} expected`)
  }
  const seen = new Set<number>()
  for (const result of results) {
    const { index, score } = result
    if (!Number.isInteger(index) || index < 0 || index >= documents) {
      throw badAnswer(deploymentId, `result index ${String(index)} is outside the ${documents} documents`)
    }
    if (seen.has(index)) throw badAnswer(deploymentId, `result index ${index} repeats`)
    seen.add(index)
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw badAnswer(deploymentId, `the score of result ${index} is not a finite number`)
    }
  }
}

const badAnswer = (deploymentId: string, what: string) =>
  new RerankError('upstream_error', `Deployment ${deploymentId} answered wrongly: ${what}`)
