// Helpers of the tus end-to-end suite: the server process, the API, test files.
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const here = dirname(fileURLToPath(import.meta.url))
export { repoRoot, serverBinary, freePort } from '../common.mjs'
import { repoRoot } from '../common.mjs'
export const adminPassword = 'correct-horse-battery-staple'

// Server is one server process on a fixed port and data directory, so that
// it can be killed and started again on the same state.
export class Server {
  // env adds variables, e.g. IMGMGR_REDIS_URL, which both the test server
  // and cmd/imgmgr read.
  constructor (bin, port, dataDir, env = {}) {
    Object.assign(this, { bin, port, dataDir, env })
    this.url = `http://127.0.0.1:${port}`
  }

  start () {
    return new Promise((resolve, reject) => {
      const args = ['--port', String(this.port), '--data-dir', this.dataDir]
      const p = spawn(this.bin, args, {
        env: { ...process.env, ...this.env, IMGMGR_ADMIN_USERNAME: 'admin', IMGMGR_ADMIN_PASSWORD: adminPassword },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      this.proc = p
      let log = ''
      const onData = (b) => {
        log += b
        if (/listening/.test(log)) {
          p.stdout.off('data', onData)
          p.stderr.off('data', onData)
          resolve(this)
        }
      }
      p.stdout.on('data', onData)
      p.stderr.on('data', onData)
      p.once('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)))
      setTimeout(() => reject(new Error('server not listening after 60s:\n' + log)), 60000).unref()
    })
  }

  // kill sends sig and waits for the process to end.
  kill (sig = 'SIGTERM') {
    const p = this.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      p.once('exit', () => resolve())
      p.kill(sig)
    })
  }
}

export async function api (server, method, path, token, body) {
  const headers = {}
  if (token) headers.Authorization = 'Bearer ' + token
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

export async function login (server) {
  const res = await api(server, 'POST', '/api/v1/auth/login', '', { username: 'admin', password: adminPassword })
  if (res.status !== 200) throw new Error('login: ' + JSON.stringify(res))
  return res.body.access_token
}

export function sha256 (buf) {
  return createHash('sha256').update(buf).digest('hex')
}

export const photo = () => readFileSync(join(repoRoot, 'testdata/images/photo/concert.jpg'))

// paddedJPEG is a valid JPEG of about size bytes: a real photo with random
// comment segments after its start marker, unique on every call.
export function paddedJPEG (size) {
  const jpeg = readFileSync(join(repoRoot, 'testdata/images/photo/2569067123_aca715a2ee_o.jpg'))
  const parts = [jpeg.subarray(0, 2)]
  let need = size - jpeg.length
  while (need >= 5) {
    const n = Math.min(65533, need - 4)
    const seg = Buffer.alloc(n + 4)
    seg[0] = 0xff
    seg[1] = 0xfe
    seg.writeUInt16BE(n + 2, 2)
    randomBytes(n).copy(seg, 4)
    parts.push(seg)
    need -= n + 4
  }
  parts.push(jpeg.subarray(2))
  return Buffer.concat(parts)
}
