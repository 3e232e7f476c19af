// The web UI against the real server in Debian's Chromium: sign in, drop
// three files (one not an image), watch them finish, see them in the
// gallery, open one, build a variant and load its URL, tag two at once,
// delete one, look at it 375 px wide, sign out. Then the gallery's time to
// first thumbnails with 500 images in the library.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launch } from './browser'
import { startServer, type Server } from './server'

const shots = resolve(import.meta.dirname, 'screenshots')
const images = resolve(import.meta.dirname, '..', '..', 'testdata', 'images')
mkdirSync(shots, { recursive: true })

let server: Server
let browser: Awaited<ReturnType<typeof launch>>
let context: BrowserContext
let page: Page

beforeAll(async () => {
  server = await startServer()
  browser = await launch(server.url)
  context = browser.context
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

/** api calls the server directly, as the admin, to check what the UI did. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const login = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: server.username, password: server.password }),
  })
  const { access_token } = (await login.json()) as { access_token: string }
  const res = await fetch(server.url + '/api/v1' + path, {
    method,
    headers: { Authorization: 'Bearer ' + access_token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? null : body instanceof FormData ? body : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

interface DropFile {
  name: string
  type: string
  b64: string
}

const fileOf = (rel: string, type: string): DropFile => ({
  name: rel.split('/').pop()!,
  type,
  b64: readFileSync(join(images, rel)).toString('base64'),
})

/** drop dispatches a real drag-and-drop of files onto the page. */
async function drop(p: Page, files: DropFile[]): Promise<void> {
  const dt = await p.evaluateHandle((fs) => {
    const dt = new DataTransfer()
    for (const f of fs) {
      const bin = atob(f.b64)
      const bytes = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
      dt.items.add(new File([bytes], f.name, { type: f.type }))
    }
    return dt
  }, files)
  for (const type of ['dragenter', 'dragover', 'drop']) await p.dispatchEvent('main', type, { dataTransfer: dt })
}

describe('imgmgr web UI', () => {
  it('signs in, uploads, browses, edits, builds a variant, batch-tags, deletes, signs out', async () => {
    // Sign in (the app sends signed-out visitors to the login page).
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await page.getByLabel('Username').fill(server.username)
    await page.getByLabel('Password').fill('wrong password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('do not match')
    await page.getByLabel('Password').fill(server.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL((u) => u.pathname === '/')
    await page.getByRole('heading', { name: 'Gallery' }).waitFor()
    await page.locator('[data-test=empty]').waitFor()

    // Drop three files, one of them text dressed as a JPEG; slow the network
    // so progress can be seen.
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 150 * 1024,
    })
    const notImage: DropFile = {
      name: 'holiday-notes.jpg',
      type: 'image/jpeg',
      b64: Buffer.from('These are my holiday notes, not a photo.\n'.repeat(40)).toString('base64'),
    }
    await drop(page, [
      fileOf('photo/2569067123_aca715a2ee_o.jpg', 'image/jpeg'),
      fileOf('exif-orientation/Landscape_1.jpg', 'image/jpeg'),
      notImage,
    ])
    const panel = page.locator('[data-test=upload-panel]')
    await panel.waitFor()
    await expect.poll(() => page.locator('[data-test=upload-item]').count()).toBe(3)
    await page.locator('[data-test=upload-item][data-state=uploading]').first().waitFor()
    await expect
      .poll(async () => (await panel.locator('[data-test=upload-state]').allTextContents()).some((t) => /\d+%.*left/.test(t)), {
        timeout: 20_000,
      })
      .toBe(true)
    await page.screenshot({ path: join(shots, 'upload-in-progress.png') })
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    })

    const item = (name: string) => page.locator('[data-test=upload-item]', { hasText: name })
    await item('2569067123_aca715a2ee_o.jpg').and(page.locator('[data-state=done]')).waitFor({ timeout: 60_000 })
    await item('Landscape_1.jpg').and(page.locator('[data-state=done]')).waitFor({ timeout: 60_000 })
    const rejected = item('holiday-notes.jpg')
    await rejected.and(page.locator('[data-state=rejected]')).waitFor({ timeout: 60_000 })
    expect(await rejected.locator('[data-test=upload-state]').textContent()).toMatch(/Rejected: .+/)

    // Both images are in the gallery with loaded thumbnails.
    const thumbs = page.locator('[data-test=thumb]')
    await expect.poll(() => thumbs.count()).toBe(2)
    await expect.poll(() => page.locator('[data-test=thumb] img.loaded').count(), { timeout: 30_000 }).toBe(2)
    await page.screenshot({ path: join(shots, 'gallery.png') })

    // Open one; the preview loads; build a 300 px WebP and load its URL.
    await thumbs.first().locator('a').click()
    await page.waitForURL(/\/images\//)
    await page.locator('[data-test=detail-preview].loaded').waitFor({ timeout: 30_000 })
    await page.locator('[data-test=vb-width]').fill('300')
    await page.locator('[data-test=vb-format]').selectOption('webp')
    await expect
      .poll(async () => (await page.locator('[data-test=variant-url]').inputValue()).includes('rs:fit:300:0'), {
        timeout: 15_000,
      })
      .toBe(true)
    const variantURL = await page.locator('[data-test=variant-url]').inputValue()
    await expect
      .poll(() => page.locator('[data-test=vb-preview]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
        timeout: 30_000,
      })
      .toBe(300)
    const variant = await page.request.get(variantURL)
    expect(variant.status()).toBe(200)
    expect(variant.headers()['content-type']).toBe('image/webp')
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(shots, 'detail.png') })
    await page.locator('#vb-title').scrollIntoViewIfNeeded()
    await page.screenshot({ path: join(shots, 'variant-builder.png') })

    // Tag both: click one, shift-click the other.
    await page.getByRole('link', { name: 'Gallery' }).first().click()
    await expect.poll(() => thumbs.count()).toBe(2)
    await thumbs.nth(0).getByRole('checkbox').click()
    await thumbs
      .nth(1)
      .getByRole('checkbox')
      .click({ modifiers: ['Shift'] })
    await expect.poll(() => page.locator('[data-test=batch-bar]').textContent()).toContain('2 selected')
    await page.locator('[data-test=batch-tag]').click()
    await page.locator('[data-test=batch-tag-input]').fill('e2e-trip')
    await page.locator('[data-test=batch-tag-submit]').click()
    await page.locator('[data-test=toast]', { hasText: 'Tagged 2 images' }).waitFor()
    const tagged = await api<{ images: { id: string }[] }>('GET', '/images?tag=e2e-trip')
    expect(tagged.images).toHaveLength(2)

    // Delete one: confirm, the undo window passes, the server no longer has it.
    await thumbs.nth(0).getByRole('checkbox').click()
    await page.locator('[data-test=batch-delete]').click()
    const confirm = page.locator('[data-test=confirm-delete]')
    await confirm.waitFor()
    await page.keyboard.press('Escape') // Escape closes a dialog and changes nothing
    await confirm.waitFor({ state: 'hidden' })
    expect(await thumbs.count()).toBe(2)
    await page.locator('[data-test=batch-delete]').click()
    await confirm.click()
    await expect.poll(() => thumbs.count()).toBe(1)
    await page.locator('[data-test=toast]', { hasText: 'Deleted 1 image' }).waitFor({ timeout: 20_000 })
    const left = await api<{ images: { id: string }[] }>('GET', '/images')
    expect(left.images).toHaveLength(1)

    // A phone: 375 px wide, nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 812 })
    await page.reload()
    await page.locator('[data-test=thumb] img.loaded').first().waitFor({ timeout: 30_000 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.screenshot({ path: join(shots, 'gallery-375.png') })

    // Sign out from the phone menu; the gallery is closed again.
    await page.getByRole('button', { name: 'Menu' }).click()
    await page.locator('[data-test=logout]').click()
    await page.waitForURL(/\/login/)
    expect(await page.evaluate(() => localStorage.getItem('imgmgr.session'))).toBeNull()
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await page.setViewportSize({ width: 1280, height: 860 })
  })

  it('shows the first thumbnails quickly with 500 images in the library', async () => {
    // 500 distinct JPEGs (a comment segment makes each one's bytes unique),
    // sent 50 to a multipart request.
    const base = readFileSync(join(images, 'exif-orientation', 'Landscape_1.jpg'))
    for (let batch = 0; batch < 10; batch++) {
      const form = new FormData()
      for (let i = 0; i < 50; i++) {
        const n = batch * 50 + i
        const note = Buffer.from(`imgmgr e2e ${n}`)
        const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0, note.length + 2]), note])
        const jpeg = Buffer.concat([base.subarray(0, 2), com, base.subarray(2)])
        form.append('file', new Blob([jpeg], { type: 'image/jpeg' }), `bulk-${n}.jpg`)
      }
      await api('POST', '/images', form)
    }
    await page.goto('/login')
    await page.getByLabel('Username').fill(server.username)
    await page.getByLabel('Password').fill(server.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL((u) => u.pathname === '/')

    // A cold load of the gallery: navigation start to the first thumbnail
    // painted, and to every thumbnail in the first screen.
    await page.goto('/')
    await page.locator('[data-test=thumb] img.loaded').first().waitFor({ timeout: 60_000 })
    const first = await page.evaluate(() => performance.getEntriesByName('imgmgr:first-thumbnail')[0]?.startTime ?? NaN)
    const visible = await page.evaluate(() => {
      const inView = [...document.querySelectorAll('[data-test=thumb]')].filter(
        (el) => el.getBoundingClientRect().top < innerHeight,
      )
      return inView.length
    })
    await expect
      .poll(
        () =>
          page.evaluate(
            () =>
              [...document.querySelectorAll('[data-test=thumb]')].filter(
                (el) => el.getBoundingClientRect().top < innerHeight && el.querySelector('img.loaded'),
              ).length,
          ),
        { timeout: 120_000 },
      )
      .toBe(visible)
    const screen = await page.evaluate(() => performance.now())
    const timing = {
      images: 501,
      firstThumbnailMs: Math.round(first),
      firstScreenMs: Math.round(screen),
      thumbnailsInFirstScreen: visible,
    }
    console.log('gallery timing', JSON.stringify(timing))
    writeFileSync(join(shots, 'timing.json'), JSON.stringify(timing, null, 2) + '\n')
    expect(visible).toBeGreaterThan(0)
    await page.screenshot({ path: join(shots, 'gallery-500.png') })
  })
})
