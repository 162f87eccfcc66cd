import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'

const missingMessage =
  'redis-server is not installed or not on the PATH: the router tests share state through a real Redis ' +
  '(`.ci/run` installs the Debian package redis-server)'

/**
 * A throwaway `redis-server` on a free local port, without persistence. `kill()` and `start()` again on the
 * same port simulate an outage; `stop()` in afterAll.
 */
export class RedisServer {
  private process: ChildProcess | undefined
  private output = ''

  private constructor(
    readonly port: number,
    private readonly password: string | undefined,
  ) {}

  /** Fails (never skips) when redis-server is missing: a skipped test would hide that Redis is untested. */
  static async start(options: { password?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.password)
    await server.start()
    return server
  }

  get running(): boolean {
    return this.process !== undefined
  }

  /** A redis:// URL, with the password when there is one. */
  get url(): string {
    const auth = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`
    return `redis://${auth}127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    if (this.process) throw new Error('redis-server is already running')
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
    if (this.password !== undefined) args.push('--requirepass', this.password)
    this.output = ''
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.process = child
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4_000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new Error(missingMessage) : error)
      })
      child.once('exit', (code, signal) => {
        reject(new Error(`redis-server exited at start (${code ?? signal}):\n${this.output}`))
      })
    })
    failed.catch(() => {}) // observed through the race below; afterwards an exit is expected (kill, stop)
    try {
      await Promise.race([this.waitForPong(), failed])
    } catch (error) {
      this.process = undefined
      child.kill('SIGKILL')
      throw error
    }
  }

  /** SIGKILL: the server vanishes as in a crash, its clients see their connections drop. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL')
  }

  /** SIGSTOP: the server keeps its connections but answers nothing, as a stalled or overloaded Redis. */
  pause(): void {
    this.process?.kill('SIGSTOP')
  }

  resume(): void {
    this.process?.kill('SIGCONT')
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM')
  }

  private async signal(signal: NodeJS.Signals) {
    const child = this.process
    this.process = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    child.kill('SIGCONT') // a paused server only acts on SIGTERM once it runs again
    await exited
  }

  /** Polls with a raw PING (AUTH first when needed) until the server answers PONG; 10 s at most. */
  private async waitForPong() {
    const deadline = Date.now() + 10_000
    for (;;) {
      if (await this.answersPing()) return
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer PING within 10 s:\n${this.output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  private answersPing(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: this.port })
      let reply = ''
      const done = (answered: boolean) => {
        socket.destroy()
        resolve(answered)
      }
      socket.setTimeout(1_000, () => done(false))
      socket.on('error', () => done(false))
      socket.on('connect', () => {
        socket.write(`${this.password === undefined ? '' : `AUTH ${this.password}\r\n`}PING\r\n`)
      })
      socket.on('data', (chunk) => {
        reply += chunk.toString()
        if (reply.includes('+PONG')) done(true)
        else if (reply.includes('-')) done(false) // an error reply (e.g. LOADING): try again
      })
    })
  }
}

/** A port nothing listens on now: the kernel's pick for port 0, released again. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return address.port
}
