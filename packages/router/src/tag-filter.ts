import { RerankError } from '@rerank-kit/protocol'
import type { DeploymentRuntime } from './deployment-runtime'

const defaultTag = 'default'

/**
 * The members a request may use under LiteLLM's tag routing (`enable_tag_filtering`): with request tags, the
 * deployments carrying any of them, else those tagged `default`; without request tags, those tagged `default`,
 * else all. LiteLLM filters the deployments that are healthy at that moment; here every member is filtered, so a
 * matching deployment that is cooling down is reported as cooling down, not as "no deployment for these tags".
 *
 * @returns the usable members, and the skipped ones with why
 * @throws RerankError invalid_request (param `tags`) when no member fits the request's tags (LiteLLM: "Not
 *   allowed to access model due to tags configuration").
 */
export function membersForTags(
  group: string,
  members: readonly DeploymentRuntime[],
  requestTags: readonly string[] | undefined,
): { usable: Set<DeploymentRuntime>; why: string } {
  const tagged = (deployment: DeploymentRuntime, tag: string) =>
    deployment.config.tags?.includes(tag) === true
  const defaults = members.filter((deployment) => tagged(deployment, defaultTag))
  const asked = requestTags ?? []
  if (asked.length > 0) {
    const matching = members.filter((deployment) => asked.some((tag) => tagged(deployment, tag)))
    if (matching.length > 0) return { usable: new Set(matching), why: "does not carry the request's tags" }
    if (defaults.length > 0) return { usable: new Set(defaults), why: `is not tagged "${defaultTag}"` }
    throw new RerankError(
      'invalid_request',
      `No deployment of "${group}" accepts the tags ${asked.map((tag) => JSON.stringify(tag)).join(', ')}`,
      { param: 'tags' },
    )
  }
  if (defaults.length > 0) return { usable: new Set(defaults), why: `is not tagged "${defaultTag}"` }
  return { usable: new Set(members), why: '' }
}
