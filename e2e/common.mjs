// Helpers shared by the end-to-end suites under e2e/: the real server
// binary and free loopback ports. Node built-ins only, so that every suite
// can import it whatever its own packages.
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// serverBinary is the real imgmgr binary: IMGMGR_E2E_BIN or IMGMGR_BIN
// (make test exports it), else built from this repo.
export function serverBinary () {
  const given = process.env.IMGMGR_E2E_BIN || process.env.IMGMGR_BIN
  if (given) return given
  const out = join(mkdtempSync(join(tmpdir(), 'imgmgr-e2e-bin-')), 'imgmgr')
  execFileSync('go', ['build', '-o', out, './cmd/imgmgr'], { cwd: repoRoot, stdio: 'inherit' })
  return out
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

