import { documentText, type RerankError, type RerankRequest, type RerankResponse } from '@rerank-kit/protocol'
import { checkAnswer } from './answer-check'
import type { DeploymentRuntime } from './deployment-runtime'
import type { FailureAccounting } from './failure-accounting'
import { markWrongAnswer } from './failure-kinds'

/**
 * One call on a deployment the picker chose; releases the slot (and trial) the pick took, whatever happens.
 *
 * @throws RerankError the failure as the router passes it on (see FailureAccounting.failed)
 */
export async function callDeployment(
  accounting: FailureAccounting,
  deployment: DeploymentRuntime,
  trial: boolean,
  request: RerankRequest,
  signal: AbortSignal | undefined,
): Promise<RerankResponse> {
  deployment.requests++
  const started = performance.now()
  try {
    const response = await deployment.config.reranker.rerank(request, signal ? { signal } : {})
    try {
      // A 200 is not yet a success: too few, repeated or invented results fail the attempt like a 502.
      checkAnswer(response, request, deployment.id)
    } catch (wrong) {
      throw markWrongAnswer(wrong as RerankError)
    }
    const tokens = response.usage?.totalTokens ?? estimateTokens(request)
    const written = accounting.succeeded(deployment, trial, tokens, performance.now() - started)
    if (written !== undefined) await written
    return response
  } catch (thrown) {
    throw await accounting.failed(deployment, thrown, trial)
  } finally {
    deployment.attemptSeconds.observe((performance.now() - started) / 1000)
    deployment.inFlight--
    if (trial) deployment.trialInFlight = false
  }
}

/** When a backend reports no usage: about 4 characters a token, the query counted once per document. */
function estimateTokens(request: RerankRequest): number {
  const documentChars = request.documents.reduce<number>(
    (sum, document) => sum + documentText(document, request.rankFields).length,
    0,
  )
  return Math.ceil((documentChars + request.query.length * request.documents.length) / 4)
}
