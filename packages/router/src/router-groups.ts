import { RerankError } from '@rerank-kit/protocol'
import { DeploymentRuntime, type RouterDeployment } from './deployment-runtime'

/** LiteLLM's `model_group_alias` entry: requests naming the alias go to `group`; hidden ones are not listed. */
export interface GroupAlias {
  group: string
  hidden?: boolean
}

export interface GroupsOptions {
  deployments: readonly RouterDeployment[]
  fallbacks?: Record<string, string[]> | undefined
  defaultFallbacks?: string[] | undefined
  contextWindowFallbacks?: Record<string, string[]> | undefined
  groupAliases?: Record<string, GroupAlias> | undefined
}

/**
 * The router's deployments by group, and the names a request may use for a group. Everything a config can get
 * wrong about them (duplicate ids or state keys, a fallback or alias naming no group) throws here, at
 * construction: a typo would otherwise show only when the request that needs it comes.
 */
export class RouterGroups {
  readonly byName = new Map<string, DeploymentRuntime[]>()
  private readonly aliases = new Map<string, GroupAlias>()
  /** Each group's member ids, made once: every request's run record names them. */
  private readonly ids = new Map<string, readonly string[]>()

  constructor(options: GroupsOptions) {
    for (const deployment of options.deployments) {
      const members = this.byName.get(deployment.modelName) ?? []
      const id = deployment.id ?? `${deployment.modelName}#${members.length}`
      members.push(new DeploymentRuntime(id, deployment))
      this.byName.set(deployment.modelName, members)
    }
    for (const [name, members] of this.byName) this.ids.set(name, Object.freeze(members.map((m) => m.id)))
    const all = this.all()
    const ids = all.map((deployment) => deployment.id)
    if (new Set(ids).size !== ids.length) {
      throw new RerankError('invalid_request', 'Deployment ids must be unique', { param: 'deployments' })
    }
    // Two deployments on one key would share counters and cooldowns: one failing would cool the other down.
    const stateKeys = all.map((deployment) => deployment.stateKey)
    if (new Set(stateKeys).size !== stateKeys.length) {
      throw new RerankError('invalid_request', 'Deployment state keys must be unique', {
        param: 'deployments',
      })
    }
    this.checkFallbacks(options)
    for (const [alias, target] of Object.entries(options.groupAliases ?? {})) {
      // An alias shadowing a group would make that group unreachable by its own name.
      if (this.byName.has(alias)) {
        throw new RerankError('invalid_request', `Group alias "${alias}" is also the name of a group`, {
          param: 'groupAliases',
        })
      }
      if (!this.byName.has(target.group)) {
        throw new RerankError(
          'invalid_request',
          `Group alias "${alias}" names an unknown group "${target.group}"`,
          {
            param: 'groupAliases',
          },
        )
      }
      this.aliases.set(alias, target)
    }
  }

  /** Every group a fallback list names must exist. */
  private checkFallbacks(options: GroupsOptions) {
    const named = [
      ...[options.fallbacks, options.contextWindowFallbacks].flatMap((lists) =>
        Object.entries(lists ?? {}).flatMap(([group, targets]) => [group, ...targets]),
      ),
      ...(options.defaultFallbacks ?? []),
    ]
    for (const target of named) {
      if (!this.byName.has(target)) {
        throw new RerankError('invalid_request', `Fallback names an unknown group "${target}"`, {
          param: 'fallbacks',
        })
      }
    }
  }

  /** The member ids of a group (frozen: shared by every request). */
  idsOf(group: string): readonly string[] {
    return this.ids.get(group) ?? []
  }

  all(): DeploymentRuntime[] {
    return [...this.byName.values()].flat()
  }

  /** The groups, then the aliases that are not hidden: what `/v1/models` lists. */
  get modelNames(): string[] {
    const visible = [...this.aliases].filter(([, target]) => target.hidden !== true).map(([alias]) => alias)
    return [...this.byName.keys(), ...visible]
  }

  /** Whether a request naming `model` is routed (hidden aliases included). */
  accepts(model: string): boolean {
    return this.byName.has(model) || this.aliases.has(model)
  }

  /**
   * The group a request's `model` names (directly or through an alias); without one, the only group.
   *
   * @throws RerankError model_not_found for an unknown name; invalid_request when several groups could serve
   */
  groupOf(model: string | undefined): string | undefined {
    if (model !== undefined) {
      if (this.byName.has(model)) return model
      const alias = this.aliases.get(model)
      if (alias !== undefined) return alias.group
      throw new RerankError(
        'model_not_found',
        `Model "${model}" is not served here; available: ${this.modelNames.join(', ')}`,
        { param: 'model' },
      )
    }
    if (this.byName.size === 1) return [...this.byName.keys()][0]
    if (this.byName.size === 0) return undefined
    throw new RerankError(
      'invalid_request',
      `This router serves several models; name one of: ${this.modelNames.join(', ')}`,
      { param: 'model' },
    )
  }
}
