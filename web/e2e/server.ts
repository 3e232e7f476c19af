// Starts the real imgmgr binary for the browser suite: on a free port, a
// fresh temp data dir, with a first admin from the environment.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export interface Server {
  url: string
  username: string
  password: string
  stop(): Promise<void>
  log(): string
}

const repoRoot = resolve(import.meta.dirname, '..', '..')

/** binary returns IMGMGR_BIN, or builds the UI and then cmd/imgmgr (which embeds web/dist) into dir. */
function binary(dir: string): string {
  const given = process.env.IMGMGR_BIN
  if (given) {
    if (!existsSync(given)) throw new Error(`IMGMGR_BIN=${given} does not exist`)
    return resolve(given)
  }
  if (!existsSync(join(repoRoot, 'cmd', 'imgmgr'))) {
    throw new Error('cmd/imgmgr is not in this tree yet: build the server or set IMGMGR_BIN to an imgmgr binary')
  }
  const out = join(dir, 'imgmgr')
  execFileSync('npm', ['run', 'build'], { cwd: join(repoRoot, 'web'), stdio: 'inherit' })
  execFileSync('go', ['build', '-o', out, './cmd/imgmgr'], { cwd: repoRoot, stdio: 'inherit' })
  return out
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.unref()
    s.on('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))))
    })
  })
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`imgmgr exited with code ${child.exitCode} before it was ready`)
    try {
      const r = await fetch(url + '/readyz')
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`imgmgr was not ready at ${url}/readyz within ${timeoutMs / 1000} s`)
}

/**
 * startServer runs imgmgr, or uses IMGMGR_E2E_URL (with IMGMGR_E2E_USERNAME
 * and IMGMGR_E2E_PASSWORD) when a server is already running.
 */
export async function startServer(): Promise<Server> {
  const external = process.env.IMGMGR_E2E_URL
  if (external) {
    return {
      url: external.replace(/\/$/, ''),
      username: process.env.IMGMGR_E2E_USERNAME ?? 'admin',
      password: process.env.IMGMGR_E2E_PASSWORD ?? '',
      stop: async () => {},
      log: () => '(external server)',
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'imgmgr-e2e-'))
  const bin = binary(dir)
  const port = await freePort()
  const username = 'e2e-admin'
  const password = 'e2e-' + Math.random().toString(36).slice(2) + '-Pw1'
  const logPath = join(dir, 'server.log')
  const logFile = createWriteStream(logPath)
  const extra = (process.env.IMGMGR_E2E_ARGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(bin, ['--port', String(port), '--data-dir', join(dir, 'data'), ...extra], {
    cwd: dir,
    env: { ...process.env, IMGMGR_ADMIN_USERNAME: username, IMGMGR_ADMIN_PASSWORD: password },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.pipe(logFile)
  child.stderr?.pipe(logFile)
  const url = `http://127.0.0.1:${port}`
  const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '')
  try {
    await waitReady(url, child, 60_000)
  } catch (e) {
    child.kill('SIGKILL')
    throw new Error(`${(e as Error).message}\n--- server log ---\n${log().slice(-4000)}`)
  }
  return {
    url,
    username,
    password,
    log,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      logFile.end()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
