import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string
  /** Raw path as sent, percent-encoding kept: `/org/x/resolve/refs%2Fpr%2F1/config.json`. */
  path: string
  /** Repo-relative file for resolve and cdn paths (`onnx/model.onnx`), else undefined. */
  file?: string
  authorization?: string
}

const resolvePattern = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/

/**
 * A stand-in for the Hugging Face hub on 127.0.0.1, port 0. It serves a temp folder laid out like the hub's
 * URLs (`{root}/{org}/{name}/resolve/{encoded revision}/{file}`), records every request, and has switches for
 * the failures a real hub or network produces. Switches are keyed by repo-relative file and apply to any repo.
 */
export class FakeHub {
  readonly requests: RecordedRequest[] = []
  /** Answer this status (empty body; a 429 says `retry-after: 7`) instead of the file. */
  readonly statusFor = new Map<string, number>()
  /** When set, every request needs `Authorization: Bearer <token>`, else 401. */
  requireToken: string | undefined
  /** Send the headers and half of the body, then destroy the socket. */
  readonly closeMidBody = new Set<string>()
  /**
   * When set, a closeMidBody answer waits for this (e.g. "the client saw the first half") before closing, so
   * the test does not race the client's reader on a loaded machine; a fixed wait stands in when unset.
   */
  closeMidBodyAfter: Promise<unknown> | undefined
  /** Answer 302 to `{cdnBase}/cdn/{same path}` (cdnBase: this server unless set, e.g. another FakeHub). */
  readonly redirects = new Set<string>()
  cdnBase: string | undefined
  /** Wait before sending headers. */
  delayMs = 0
  /** Send these files' bodies `trickleBytes` at a time, `trickleMs` apart. */
  readonly trickle = new Set<string>()
  trickleMs = 20
  trickleBytes = 4

  private constructor(
    readonly root: string,
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeHub> {
    const root = await mkdtemp(join(tmpdir(), 'fake-hub-'))
    const server = createServer()
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    const { port } = server.address() as AddressInfo
    const hub = new FakeHub(root, server, `http://127.0.0.1:${port}`)
    server.on('request', (req, res) => {
      hub.handle(req, res).catch(() => res.destroy())
    })
    return hub
  }

  /** Puts files of one repo revision where the server finds them. */
  async addModel(repo: string, revision: string, files: Record<string, string | Uint8Array>): Promise<void> {
    for (const [file, content] of Object.entries(files)) {
      const path = join(this.root, repo, 'resolve', encodeURIComponent(revision), ...file.split('/'))
      await mkdir(dirname(path), { recursive: true })
      await writeFile(path, content)
    }
  }

  /** Requests for one file, in order. */
  requestsFor(file: string): RecordedRequest[] {
    return this.requests.filter((request) => request.file === file)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((done) => this.server.close(() => done()))
    await rm(this.root, { recursive: true, force: true })
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/'
    const isCdn = rawPath.startsWith('/cdn/')
    const hubPath = isCdn ? rawPath.slice('/cdn'.length) : rawPath
    const file = resolvePattern.exec(hubPath)?.[3]
    this.requests.push({
      method: req.method ?? 'GET',
      path: rawPath,
      ...(file === undefined ? {} : { file: decodeURIComponent(file) }),
      ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }),
    })
    if (this.delayMs > 0) await sleep(this.delayMs)
    if (file === undefined) return end(res, 404)
    const name = decodeURIComponent(file)

    if (
      !isCdn &&
      this.requireToken !== undefined &&
      req.headers.authorization !== `Bearer ${this.requireToken}`
    ) {
      return end(res, 401, { 'x-error-code': 'GatedRepo' })
    }
    const status = this.statusFor.get(name)
    if (status !== undefined) {
      const headers: Record<string, string> =
        status === 404 ? { 'x-error-code': 'EntryNotFound' } : status === 429 ? { 'retry-after': '7' } : {}
      return end(res, status, headers)
    }
    if (!isCdn && this.redirects.has(name)) {
      return end(res, 302, { location: `${this.cdnBase ?? ''}/cdn${hubPath}` })
    }

    // The URL layout is the folder layout; the revision segment stays percent-encoded as a folder name.
    const [, repo = '', revision = ''] = resolvePattern.exec(hubPath) ?? []
    const path = resolve(this.root, repo, 'resolve', revision, ...name.split('/'))
    if (!path.startsWith(this.root + sep)) return end(res, 404)
    let body: Buffer
    try {
      body = await readFile(path)
    } catch {
      return end(res, 404, { 'x-error-code': 'EntryNotFound' })
    }

    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
    if (this.closeMidBody.has(name)) {
      res.write(body.subarray(0, Math.floor(body.length / 2)))
      await Promise.race([this.closeMidBodyAfter ?? sleep(10), sleep(5_000)])
      res.destroy()
      return
    }
    if (this.trickle.has(name)) {
      for (let at = 0; at < body.length && !res.destroyed; at += this.trickleBytes) {
        res.write(body.subarray(at, at + this.trickleBytes))
        await sleep(this.trickleMs)
      }
    }
    res.end(this.trickle.has(name) ? undefined : body)
  }
}

function end(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': 0, ...headers })
  res.end()
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms))
}
