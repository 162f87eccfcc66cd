import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadSettings } from '@rerank-kit/cli'
import { LocalReranker } from '@rerank-kit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { RedisServer } from '../packages/router/src/test-support/redis-server'

// deploy/ cannot run here (no Docker, no systemd): this runs what its files say outside them. Every command,
// variable and path comes from the files themselves, so a change to one of them is tested, not a copy of it.

const root = join(import.meta.dirname, '..')
const deploy = join(root, 'deploy')
const fixture = join(root, 'fixtures/models/tiny-bert-reranker')
const cliPackage = join(root, 'packages/cli')
// tsx is a devDependency of @rerank-kit/cli (the CLI's own tests load it the same way).
const tsx = pathToFileURL(createRequire(join(cliPackage, 'package.json')).resolve('tsx')).href

const read = (name: string) => readFileSync(join(deploy, name), 'utf8')

// ---- Dockerfile --------------------------------------------------------------------------------------------

interface Dockerfile {
  env: Record<string, string>
  user: string
  cmd: string[]
  healthcheck: string[]
  exposed: string[]
}

/** The instructions this test needs; continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Dockerfile {
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/)
      return { keyword: keyword!.toUpperCase(), args: line.slice(keyword!.length).trim(), words: rest }
    })
  const only = (keyword: string) => {
    const found = instructions.filter((instruction) => instruction.keyword === keyword)
    // Docker uses the last one; more than one would be confusing in a file this small.
    expect(found, `one ${keyword}`).toHaveLength(1)
    return found[0]!
  }
  const env: Record<string, string> = {}
  for (const instruction of instructions.filter(({ keyword }) => keyword === 'ENV')) {
    for (const pair of instruction.words) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=([^"'\s]*)$/.exec(pair)
      if (!match) throw new Error(`ENV ${instruction.args}: expected unquoted KEY=value pairs`)
      env[match[1]!] = match[2]!
    }
  }
  const health = /^(?:--[a-z-]+=\S+\s+)*CMD\s+(\[.*\])$/.exec(only('HEALTHCHECK').args)
  if (!health) throw new Error('HEALTHCHECK: expected [options] CMD ["exec", "form"]')
  return {
    env,
    user: only('USER').args,
    cmd: JSON.parse(only('CMD').args) as string[],
    healthcheck: JSON.parse(health[1]!) as string[],
    exposed: instructions.filter(({ keyword }) => keyword === 'EXPOSE').flatMap(({ words }) => words),
  }
}

const dockerfile = parseDockerfile(read('Dockerfile'))

/**
 * The Dockerfile's CMD run from source: `node <script> <args>` becomes node with tsx and the source condition,
 * the script's src/*.ts instead of dist/*.js, and the same arguments after it.
 */
function fromSource(command: readonly string[]): string[] {
  const [program, script, ...args] = command
  expect(program).toBe('node')
  const source = script!.replace(/\/dist\/([^/]+)\.js$/, '/src/$1.ts')
  expect(source, `${script} is a build output under dist/`).not.toBe(script)
  expect(existsSync(join(root, source))).toBe(true)
  return ['--import', tsx, '--conditions=@rerank-kit/source', source, ...args]
}

// ---- processes -------------------------------------------------------------------------------------------

const running: ChildProcess[] = []

/** The machine's HF_* and RERANKER_* settings must not leak into the commands under test. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('HF_') && !name.startsWith('RERANKER_')),
  )
  return { ...clean, ...env }
}

/** One `serve` process from the Dockerfile's CMD, with the given RERANKER_* environment. */
function startServer(name: string, env: Record<string, string>) {
  const child = spawn(process.execPath, fromSource(dockerfile.cmd), { cwd: root, env: cleanEnv(env) })
  running.push(child)
  let stderr = ''
  child.stdout.resume()
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)))
  /** Its port (from its log: the environment says port 0), once it answers /ready with 200. */
  const ready = async (): Promise<number> => {
    const deadline = Date.now() + 120_000
    let port: number | undefined
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${stderr}`)
      port ??= Number(/listening on http:\/\/[^:]+:(\d+)/.exec(stderr)?.[1]) || undefined
      if (port !== undefined) {
        const key = env.RERANKER_API_KEY?.split(',')[0]
        const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {}
        const status = await fetch(`http://127.0.0.1:${port}/ready`, { headers }).then(
          async (response) => {
            await response.body?.cancel()
            return response.status
          },
          () => 0,
        )
        if (status === 200) return port
      }
      await new Promise((done) => setTimeout(done, 200))
    }
    throw new Error(`${name} not ready within 120 s:\n${stderr}`)
  }
  const stop = async () => {
    child.kill('SIGTERM')
    return exited
  }
  return { ready, stop, stderr: () => stderr }
}

/** Runs a command (the HEALTHCHECK) to its end, with the container's environment, and gives its exit code. */
async function exitCodeOf(command: readonly string[], env: Record<string, string>): Promise<number | null> {
  const [program, ...args] = command
  const child = spawn(program === 'node' ? process.execPath : program!, args, {
    stdio: 'ignore',
    env: cleanEnv(env),
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)))
  clearTimeout(timer)
  return code
}

const request = {
  query: 'capital of France',
  documents: ['Paris is the capital of France.', 'Bananas.', 'France is in Europe.'],
}

async function scoresFrom(url: string, model?: string): Promise<number[]> {
  const response = await fetch(`${url}/rerank`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...(model && { model }), ...request }),
  })
  const body = (await response.json()) as { results?: { index: number; relevance_score: number }[] }
  expect(response.status, JSON.stringify(body)).toBe(200)
  return body.results!.sort((a, b) => a.index - b.index).map((result) => result.relevance_score)
}

let expectedScores: number[]
let temp: string
let redis: RedisServer | undefined

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'rerank-kit-deploy-'))
  const reranker = await LocalReranker.create({ models: [{ model: fixture, workers: 1 }] })
  try {
    const { results } = await reranker.rerank(request)
    expectedScores = results.sort((a, b) => a.index - b.index).map((result) => result.score)
  } finally {
    await reranker.close()
  }
}, 120_000)

afterAll(async () => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await redis?.stop()
  await rm(temp, { recursive: true, force: true })
})

// The image would download its default model; here the repository's tiny test model stands in.
const noDownload = { RERANKER_MODEL_PATH: fixture }

describe('deploy/Dockerfile', () => {
  it('runs `rerank-kit serve` as a user other than root, on the port it exposes', () => {
    expect(dockerfile.user).not.toMatch(/^(root|0)(:|$)/)
    // The build of packages/cli/src/cli.ts (the rerank-kit command), run by node.
    expect(fromSource(dockerfile.cmd).slice(3)).toEqual(['packages/cli/src/cli.ts', 'serve'])
    expect(dockerfile.exposed).toEqual([dockerfile.env.RERANKER_PORT])
    // The HEALTHCHECK asks /ready on RERANKER_PORT as the container sees it (the image's, or docker run -e).
    expect(dockerfile.healthcheck.join(' ')).toContain('127.0.0.1:')
    expect(dockerfile.healthcheck.join(' ')).toContain('process.env.RERANKER_PORT')
    expect(dockerfile.healthcheck.join(' ')).toContain('/ready')
  })

  it('CMD serves with the image ENV; the HEALTHCHECK passes once ready and fails when it is down', async () => {
    // Port 0 instead of the image's: a free one, read from the log. Everything else is the image's ENV.
    const server = startServer('the image CMD', { ...dockerfile.env, ...noDownload, RERANKER_PORT: '0' })
    const port = await server.ready()
    // The HEALTHCHECK as the image has it, in the container's environment with the port the server got.
    const container = { ...dockerfile.env, RERANKER_PORT: String(port) }

    expect(await exitCodeOf(dockerfile.healthcheck, container)).toBe(0)
    // Another port: nothing answers there, so it follows RERANKER_PORT rather than a fixed one.
    expect(
      await exitCodeOf(dockerfile.healthcheck, { ...container, RERANKER_PORT: String(port + 1) }),
    ).not.toBe(0)
    expect(await scoresFrom(`http://127.0.0.1:${port}`)).toEqual(expectedScores)

    expect(await server.stop()).toBe(0)
    expect(await exitCodeOf(dockerfile.healthcheck, container)).not.toBe(0)
  }, 180_000)

  it('the HEALTHCHECK passes with RERANKER_API_KEY set: /ready is public, and the key is sent when it is not', async () => {
    const keys = 'deploy-key,second-key'
    const image = { ...dockerfile.env, ...noDownload, RERANKER_PORT: '0', RERANKER_API_KEY: keys }
    const open = startServer('keyed, /ready public', image)
    const closed = startServer('keyed, /ready keyed', { ...image, RERANKER_PUBLIC_ROUTES: '/health' })
    const [openPort, closedPort] = await Promise.all([open.ready(), closed.ready()])
    const container = (port: number, key?: string) => ({
      ...dockerfile.env,
      RERANKER_PORT: String(port),
      ...(key !== undefined && { RERANKER_API_KEY: key }),
    })
    // By default /ready needs no key: the check passes with the container's keys, and without any.
    expect(await exitCodeOf(dockerfile.healthcheck, container(openPort, keys))).toBe(0)
    expect(await exitCodeOf(dockerfile.healthcheck, container(openPort))).toBe(0)
    const unkeyed = await fetch(`http://127.0.0.1:${openPort}/rerank`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    })
    expect(unkeyed.status).toBe(401)
    // With /ready keyed, the check passes because it sends the first key: not without it, nor with a wrong one.
    expect((await fetch(`http://127.0.0.1:${closedPort}/ready`)).status).toBe(401)
    expect(await exitCodeOf(dockerfile.healthcheck, container(closedPort, keys))).toBe(0)
    expect(await exitCodeOf(dockerfile.healthcheck, container(closedPort))).not.toBe(0)
    expect(await exitCodeOf(dockerfile.healthcheck, container(closedPort, 'wrong-key'))).not.toBe(0)
    expect(await Promise.all([open.stop(), closed.stop()])).toEqual([0, 0])
  }, 180_000)
})

describe('deploy/Dockerfile.cuda (not built here: no GPU)', () => {
  const cuda = parseDockerfile(read('Dockerfile.cuda'))

  it('serves the same command with the same health check, not as root, on the CUDA device', () => {
    expect(cuda.cmd).toEqual(dockerfile.cmd)
    expect(cuda.healthcheck).toEqual(dockerfile.healthcheck)
    expect(cuda.user).not.toMatch(/^(root|0)(:|$)/)
    expect(cuda.exposed).toEqual(dockerfile.exposed)
    // The image's settings, plus the device; all of them valid settings.
    const { RERANKER_DEVICE, ...rest } = Object.fromEntries(
      Object.entries(cuda.env).filter(([name]) => name.startsWith('RERANKER_')),
    )
    expect(RERANKER_DEVICE).toBe('cuda')
    expect(rest).toEqual(
      Object.fromEntries(Object.entries(dockerfile.env).filter(([name]) => name.startsWith('RERANKER_'))),
    )
    expect(loadSettings(cuda.env, [], join(deploy, 'none.env')).device).toBe('cuda')
  })
})

describe('the image build (deploy/test-image.sh builds and runs it where Docker can run)', () => {
  it('keeps local installs, builds, models and history out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
    for (const pattern of ['**/node_modules', '**/dist', '.git', 'bench-models', 'models'])
      expect(ignored).toContain(pattern)
  })

  it('deploy/test-image.sh is valid bash', () => {
    const result = spawnSync('bash', ['-n', join(deploy, 'test-image.sh')], { encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})

// ---- compose.yaml + router.yaml ---------------------------------------------------------------------------

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string }
  environment?: Record<string, string>
  volumes?: string[]
  ports?: string[]
  depends_on?: Record<string, { condition: string }>
}

// merge: compose reads YAML 1.1 merge keys (`<<: *rerank-image`), which YAML 1.2 (yaml's default) does not have.
const compose = parseYaml(read('compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>
}
const routerYaml = read('router.yaml')
const routerConfig = parseYaml(routerYaml) as {
  model_list: { litellm_params: { api_base: string; model: string; format: string } }[]
  router_settings: { redis_url: string; health_check_path: string }
}

describe('deploy/compose.yaml with deploy/router.yaml', () => {
  const { services } = compose
  const servers = ['rerank-a', 'rerank-b']
  const routerService = services.router!

  it('builds this Dockerfile for the servers and the router, which waits for healthy dependencies', () => {
    for (const name of [...servers, 'router']) {
      const build = services[name]!.build!
      expect(resolve(deploy, build.context, build.dockerfile)).toBe(join(deploy, 'Dockerfile'))
    }
    expect(services.redis!.image).toMatch(/^redis:7/)
    expect(routerService.environment!.RERANKER_LOAD_BALANCER_ENABLED).toBe('true')
    const mounted = routerService.volumes!.map((volume) => volume.split(':'))
    expect(mounted).toContainEqual(['./router.yaml', routerService.environment!.RERANKER_CONFIG_PATH, 'ro'])
    expect(routerService.ports).toEqual([`${dockerfile.env.RERANKER_PORT}:${dockerfile.env.RERANKER_PORT}`])
    expect(Object.keys(routerService.depends_on!).sort()).toEqual(['redis', ...servers].sort())
    for (const dependency of Object.values(routerService.depends_on!))
      expect(dependency.condition).toBe('service_healthy')
    // One group over both servers, each asked for the model it serves.
    expect(routerConfig.model_list.map((entry) => entry.litellm_params.api_base)).toEqual(
      servers.map((name) => `http://${name}:${dockerfile.env.RERANKER_PORT}`),
    )
    for (const [index, name] of servers.entries())
      expect(routerConfig.model_list[index]!.litellm_params.model).toBe(
        services[name]!.environment!.RERANKER_MODEL_NAME,
      )
    expect(new URL(routerConfig.router_settings.redis_url).hostname).toBe('redis')
  })

  it('routes through Redis over both servers with the local scores, and stops on SIGTERM', async () => {
    redis = await RedisServer.start()
    // The servers: the image ENV plus their compose environment; a free port and the test model here.
    const backends = servers.map((name) =>
      startServer(name, {
        ...dockerfile.env,
        ...services[name]!.environment,
        ...noDownload,
        RERANKER_PORT: '0',
      }),
    )
    const ports = await Promise.all(backends.map((backend) => backend.ready()))

    // router.yaml with the compose hostnames pointed at the processes here; nothing else changed.
    const addresses: [string, string][] = [
      ...servers.map((name, index): [string, string] => [
        `http://${name}:${dockerfile.env.RERANKER_PORT}`,
        `http://127.0.0.1:${ports[index]}`,
      ]),
      [routerConfig.router_settings.redis_url, redis.url],
    ]
    let rewritten = routerYaml
    for (const [inCompose, here] of addresses) {
      expect(rewritten).toContain(inCompose)
      rewritten = rewritten.replaceAll(inCompose, here)
    }
    let restored = rewritten
    for (const [inCompose, here] of addresses) restored = restored.replaceAll(here, inCompose)
    expect(restored).toBe(routerYaml)
    const configPath = join(temp, basename(routerService.environment!.RERANKER_CONFIG_PATH!))
    await writeFile(configPath, rewritten)

    const router = startServer('router', {
      ...dockerfile.env,
      ...routerService.environment,
      RERANKER_CONFIG_PATH: configPath,
      RERANKER_PORT: '0',
    })
    const url = `http://127.0.0.1:${await router.ready()}`

    // Bursts of concurrent calls: least-busy sends each call of a burst to the server with fewer in flight.
    for (let burst = 0; burst < 4; burst++) {
      const scores = await Promise.all(Array.from({ length: 4 }, () => scoresFrom(url, 'rerank')))
      for (const score of scores) expect(score).toEqual(expectedScores)
    }
    expect(await scoresFrom(url)).toEqual(expectedScores) // one group: no model needed

    const stats = (await (await fetch(`${url}/lb/stats`)).json()) as {
      state: string
      deployments: { id: string; group: string; successes: number }[]
    }
    expect(stats.state).toBe('redis')
    expect(stats.deployments.map((deployment) => deployment.group)).toEqual(['rerank', 'rerank'])
    for (const deployment of stats.deployments) expect(deployment.successes).toBeGreaterThan(0)
    expect(stats.deployments.reduce((sum, deployment) => sum + deployment.successes, 0)).toBe(17)

    // The router first (it holds the Redis connection and the health checks), then the servers.
    expect(await router.stop()).toBe(0)
    expect(await Promise.all(backends.map((backend) => backend.stop()))).toEqual([0, 0])
    expect(router.stderr()).toMatch(/SIGTERM[\s\S]*stopped/)
  }, 300_000)
})

// ---- rerank-kit.service + rerank-kit.env.example ----------------------------------------------------------

/** `[Section]` and `Key=value` lines; a key given twice keeps every value, in order. */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {}
  let section: Record<string, string[]> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header) {
      section = {}
      sections[header[1]!] = section
      continue
    }
    const match = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (!match || !section) throw new Error(`unexpected unit line: ${line}`)
    section[match[1]!] = [...(section[match[1]!] ?? []), match[2]!]
  }
  return sections
}

describe('deploy/rerank-kit.service', () => {
  const service = parseUnit(read('rerank-kit.service')).Service!
  const one = (key: string) => {
    expect(service[key], key).toHaveLength(1)
    return service[key]![0]!
  }

  it('starts the command of the image, as an unprivileged user, from the built checkout', () => {
    const [node, ...args] = one('ExecStart').split(/\s+/)
    expect(node).toMatch(/^\//) // systemd wants an absolute program
    expect(basename(node!)).toBe(dockerfile.cmd[0])
    expect(args).toEqual(dockerfile.cmd.slice(1))
    expect(one('User')).not.toMatch(/^(root|0)$/)
    expect(one('WorkingDirectory')).toMatch(/^\//)
    expect(one('EnvironmentFile')).toMatch(/^-?\//)
    expect(one('KillSignal')).toBe('SIGTERM')
    expect(one('Restart')).toBe('on-failure')
  })

  it('its environment file example holds valid settings, with the model cache among the writable paths', () => {
    const example = join(deploy, 'rerank-kit.env.example')
    const settings = loadSettings({}, [], example)
    const writable = one('ReadWritePaths').split(/\s+/)
    expect(writable.some((path) => `${settings.modelCacheDir}/`.startsWith(`${path}/`))).toBe(true)
    expect(one('ProtectSystem')).toBe('strict')
    // The commented-out settings are valid too, once uncommented.
    const commented = readFileSync(example, 'utf8')
      .split('\n')
      .map((line) => /^#\s*(RERANKER_[A-Z0-9_]+)=(.*)$/.exec(line))
      .filter((match) => match !== null)
    expect(commented.length).toBeGreaterThan(3)
    expect(() =>
      loadSettings(
        Object.fromEntries(commented.map((match) => [match[1]!, match[2]!])),
        [],
        join(deploy, 'none.env'),
      ),
    ).not.toThrow()
  })
})
