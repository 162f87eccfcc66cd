import {
  cohereFormat,
  cohereV2Format,
  jinaFormat,
  mixedbreadFormat,
  nativeFormat,
  type RerankFormat,
  teiFormat,
  voyageFormat,
} from '@rerank-kit/protocol'

/** The API families a handler answers, each in its own vendor's request, answer and error format. */
export type RouteFamily = 'native' | 'cohere' | 'cohere-v2' | 'jina' | 'voyage' | 'mixedbread' | 'tei'

interface FamilyRoutes {
  readonly format: RerankFormat
  /** Where the family is mounted unless told otherwise: its vendor's base URL is `<server><prefix>`. */
  readonly prefix: string
  /** The rerank route under the family's prefix, as the vendor's clients post it. */
  readonly rerank: string
  /** Its GET routes under the prefix (TEI's `/info`). */
  readonly get?: readonly string[]
}

/**
 * Each family at the path its vendor's clients post to, given their base URL: Cohere's SDKs join `/v1/rerank`
 * and `/v2/rerank` to the server, Together's join `/rerank` to `<server>/v1`, Jina's is `/api/v1/rerank`
 * (under Jina's own host, `/v1/rerank`), mixedbread's `/v1/reranking`. Voyage's `/v1/rerank` and TEI's
 * `/rerank` would collide with Cohere's and ours, so they live under `/voyage` and `/tei`: the Voyage SDK takes
 * `baseUrl: <server>/voyage/v1`, a TEI caller `<server>/tei`.
 */
export const routeFamilies: Readonly<Record<RouteFamily, FamilyRoutes>> = {
  native: { format: nativeFormat, prefix: '', rerank: '/rerank' },
  cohere: { format: cohereFormat, prefix: '', rerank: '/v1/rerank' },
  'cohere-v2': { format: cohereV2Format, prefix: '', rerank: '/v2/rerank' },
  jina: { format: jinaFormat, prefix: '/api', rerank: '/v1/rerank' },
  voyage: { format: voyageFormat, prefix: '/voyage', rerank: '/v1/rerank' },
  mixedbread: { format: mixedbreadFormat, prefix: '', rerank: '/v1/reranking' },
  tei: { format: teiFormat, prefix: '/tei', rerank: '/rerank', get: ['/info'] },
}

export const routeFamilyNames = Object.keys(routeFamilies) as RouteFamily[]

/** Where each family is mounted (relative to the handler's prefix), or `false` for a family not served. */
export type RouteFamilyPrefixes = Partial<Record<RouteFamily, string | false>>

/** The handler's route table: rerank paths with their format, and the GET paths a family adds. */
export interface RouteTable {
  readonly post: ReadonlyMap<string, RerankFormat>
  /** GET routes of a family (TEI's `/info`), with the family's format for their errors. */
  readonly familyGet: ReadonlyMap<string, { family: RouteFamily; format: RerankFormat }>
  /** The family of each of those paths, rerank and GET (the metrics' `family` label). */
  readonly families: ReadonlyMap<string, RouteFamily>
}

const normalPrefix = (prefix: string) => {
  const trimmed = prefix.trim().replace(/\/+$/, '')
  return trimmed === '' || trimmed.startsWith('/') ? trimmed : `/${trimmed}`
}

/** The routes every handler has, whatever its families: monitoring, models and documentation. */
export const builtInGetRoutes = [
  '/health',
  '/ready',
  '/v1/models',
  '/stats',
  '/lb/stats',
  '/metrics',
  '/openapi.json',
  '/docs',
] as const

/**
 * The routes of every family at its prefix. Two families (or a family and a monitoring route) on one path is
 * a configuration mistake: refused here, at start, rather than one of them silently never answering.
 */
export function routeTableOf(
  prefixes: RouteFamilyPrefixes = {},
  reserved: readonly string[] = [],
): RouteTable {
  const post = new Map<string, RerankFormat>()
  const familyGet = new Map<string, { family: RouteFamily; format: RerankFormat }>()
  const owner = new Map<string, string>(reserved.map((path) => [path, 'a built-in GET route']))
  const families = new Map<string, RouteFamily>()
  const claim = (path: string, family: RouteFamily) => {
    const taken = owner.get(path)
    if (taken !== undefined) {
      throw new Error(
        `route ${path} of the ${family} family is already ${taken}: give one of them another prefix`,
      )
    }
    owner.set(path, `the ${family} family's`)
  }
  for (const family of Object.keys(prefixes)) {
    if (!Object.hasOwn(routeFamilies, family)) {
      throw new Error(`unknown route family "${family}" (families: ${routeFamilyNames.join(', ')})`)
    }
  }
  for (const family of routeFamilyNames) {
    const given = prefixes[family]
    if (given === false) continue
    const routes = routeFamilies[family]
    const prefix = normalPrefix(given ?? routes.prefix)
    claim(`${prefix}${routes.rerank}`, family)
    post.set(`${prefix}${routes.rerank}`, routes.format)
    families.set(`${prefix}${routes.rerank}`, family)
    for (const path of routes.get ?? []) {
      claim(`${prefix}${path}`, family)
      familyGet.set(`${prefix}${path}`, { family, format: routes.format })
      families.set(`${prefix}${path}`, family)
    }
  }
  return { post, familyGet, families }
}

/**
 * `family=prefix` pairs, comma-separated (`tei=/,native=/native,voyage=off`), as the standalone server's
 * RERANKER_ROUTE_PREFIXES gives them; `off` (or `none`) leaves a family out.
 */
export function parseRouteFamilyPrefixes(raw: string): RouteFamilyPrefixes {
  const prefixes: RouteFamilyPrefixes = {}
  for (const pair of raw.split(',').map((part) => part.trim())) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    if (equals === -1) throw new Error(`"${pair}" is not family=prefix`)
    const family = pair.slice(0, equals).trim()
    const value = pair.slice(equals + 1).trim()
    if (!Object.hasOwn(routeFamilies, family)) {
      throw new Error(`unknown route family "${family}" (families: ${routeFamilyNames.join(', ')})`)
    }
    prefixes[family as RouteFamily] = value === 'off' || value === 'none' ? false : value === '/' ? '' : value
  }
  // Two families on one path are refused here, as the setting is read: before a model starts loading.
  routeTableOf(prefixes, builtInGetRoutes)
  return prefixes
}
