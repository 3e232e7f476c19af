// The web UI against the real server in Debian's Chromium, one person's
// session in order: sign in, drop three files (one not an image), watch them
// finish, see them in the gallery, open one, build a variant and load its
// URL, tag two at once, delete one, look at it 375 px wide and dark, sign
// out. Then the gallery's time to first thumbnails with 500 images.
// On the way a second user changes their password from the account menu.
//
// Steps that need a server route another issue adds (tus uploads, signed
// variant URLs) are skipped, with the route named, while the server answers
// "no_route" for it; the steps after them still run on images added through
// the multipart API.

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
const has = { tus: false, variants: false, events: false }

let adminToken = ''

/**
 * token signs in through the API as the admin, once: the server limits
 * logins per client IP (ratelimit.login_*), so calls share one access token
 * and sign in again only after a 401.
 */
async function token(fresh = false): Promise<string> {
  if (adminToken && !fresh) return adminToken
  const res = await fetch(server.url + '/api/v1/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: server.username, password: server.password }),
  })
  if (!res.ok) throw new Error(`login: ${res.status} ${await res.text()}`)
  adminToken = ((await res.json()) as { access_token: string }).access_token
  return adminToken
}

/** call calls the server directly, to prepare or check what the UI did. */
async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const send = async (fresh: boolean) => {
    const headers: Record<string, string> = { Authorization: 'Bearer ' + (await token(fresh)) }
    if (body !== undefined && !(body instanceof FormData)) headers['Content-Type'] = 'application/json'
    return fetch(server.url + '/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? null : body instanceof FormData ? body : JSON.stringify(body),
    })
  }
  const res = await send(false)
  return res.status === 401 ? send(true) : res
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await call(method, path, body)
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** routed reports whether the server has a route (anything but its "no_route" answer). */
async function routed(method: string, path: string, body?: unknown): Promise<boolean> {
  const res = await call(method, path, body)
  const text = await res.text()
  return !(res.status === 404 && text.includes('"no_route"'))
}

function missing(route: string): void {
  console.warn(`SKIPPED: the server has no ${route} yet; this step runs once it does`)
}

beforeAll(async () => {
  server = await startServer()
  has.tus = await routed('OPTIONS', '/uploads/')
  has.variants = await routed('POST', '/images/00000000-0000-0000-0000-000000000000/urls', { variants: ['w:10'] })
  has.events = await routed('GET', '/events')
  if (!has.tus) missing('tus endpoint at /api/v1/uploads/')
  if (!has.events) missing('events WebSocket at /api/v1/events')
  if (!has.variants) missing('signed URL route POST /api/v1/images/{id}/urls')
  browser = await launch(server.url)
  context = browser.context
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (e) => console.error('page error:', e.message))
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

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
const PHOTO = 'photo/2569067123_aca715a2ee_o.jpg'
const LANDSCAPE = 'exif-orientation/Landscape_1.jpg'

/** drop dispatches a real drag-and-drop of files onto the page. */
async function drop(p: Page, files: DropFile[]): Promise<void> {
  const dt = await p.evaluateHandle((fs) => {
    const dt = new DataTransfer()
    for (const f of fs) {
      const bin = atob(f.b64)
      const bytes = new Uint8Array(bin.length)
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
      dt.items.add(new File([bytes], f.name, { type: f.type, lastModified: 1_700_000_000_000 }))
    }
    return dt
  }, files)
  for (const type of ['dragenter', 'dragover', 'drop']) await p.dispatchEvent('main', type, { dataTransfer: dt })
}

async function signIn(username = server.username, password = server.password): Promise<void> {
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL((u) => u.pathname === '/')
}

const thumbs = () => page.locator('[data-test=thumb]')

/**
 * firstScreen loads the gallery afresh and measures, from navigation start,
 * the first thumbnail shown (the app's user-timing mark) and every thumbnail
 * of the first screen shown, with the signing requests sent until then.
 */
async function firstScreen(signing: { requests: number }) {
  signing.requests = 0
  await page.goto('/') // a full load: nothing of the app (nor its signed URLs) stays in memory
  await page.locator('[data-test=thumb] img.loaded').first().waitFor({ timeout: 60_000 })
  const first = await page.evaluate(() => performance.getEntriesByName('imgmgr:first-thumbnail')[0]?.startTime ?? NaN)
  const inView = () =>
    page.evaluate(() => {
      const cards = [...document.querySelectorAll('[data-test=thumb]')].filter(
        (el) => el.getBoundingClientRect().top < innerHeight,
      )
      return { cards: cards.length, loaded: cards.filter((el) => el.querySelector('img.loaded')).length }
    })
  await expect.poll(async () => ((v) => v.cards > 0 && v.loaded === v.cards)(await inView()), { timeout: 120_000 }).toBe(true)
  const screen = await page.evaluate(() => performance.now())
  return {
    firstThumbnailMs: Math.round(first),
    firstScreenMs: Math.round(screen),
    cards: (await inView()).cards,
    signingRequests: signing.requests,
  }
}

describe('imgmgr web UI', () => {
  it('sends a visitor to sign in and refuses a wrong password in words', async () => {
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await page.getByLabel('Username').fill(server.username)
    await page.getByLabel('Password').fill('wrong password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('do not match')
    await signIn()
    await page.getByRole('heading', { name: 'Gallery' }).waitFor()
    await page.locator('[data-test=empty]').waitFor()
  })

  it('uploads three dropped files over tus with live progress; the one that is not an image is rejected', async (ctx) => {
    if (!has.tus) return ctx.skip()
    // Slow the upload so progress can be seen and photographed.
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
    await drop(page, [fileOf(PHOTO, 'image/jpeg'), fileOf(LANDSCAPE, 'image/jpeg'), notImage])
    const panel = page.locator('[data-test=upload-panel]')
    await panel.waitFor()
    if (has.events) await panel.locator('.live.on').waitFor() // the events WebSocket is connected
    await expect.poll(() => page.locator('[data-test=upload-item]').count()).toBe(3)
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
    await cdp.detach()

    const item = (name: string) => page.locator('[data-test=upload-item]', { hasText: name })
    await item('2569067123_aca715a2ee_o.jpg').and(page.locator('[data-state=done]')).waitFor({ timeout: 60_000 })
    await item('Landscape_1.jpg').and(page.locator('[data-state=done]')).waitFor({ timeout: 60_000 })
    const rejected = item('holiday-notes.jpg')
    await rejected.and(page.locator('[data-state=rejected]')).waitFor({ timeout: 60_000 })
    expect(await rejected.locator('[data-test=upload-state]').textContent()).toMatch(/Rejected: .+/)
    await page.screenshot({ path: join(shots, 'upload-done.png') })
  })

  it('shows the images in the gallery without layout shift', async () => {
    if (!has.tus) {
      // Without tus, add the same two images through the multipart API.
      const form = new FormData()
      for (const rel of [PHOTO, LANDSCAPE])
        form.append('file', new Blob([readFileSync(join(images, rel))], { type: 'image/jpeg' }), rel.split('/').pop())
      await api('POST', '/images', form)
      await page.reload()
    }
    await expect.poll(() => thumbs().count()).toBe(2)
    const box = await thumbs().first().boundingBox()
    if (has.variants) await expect.poll(() => page.locator('[data-test=thumb] img.loaded').count(), { timeout: 30_000 }).toBe(2)
    else await expect.poll(() => page.locator('[data-test=thumb] .fallback').count(), { timeout: 30_000 }).toBe(2)
    expect(await thumbs().first().boundingBox()).toEqual(box) // the box did not move or grow when the image came
    await page.screenshot({ path: join(shots, 'gallery.png') })
  })

  it('opens an image, edits its title and shows its camera data', async () => {
    await thumbs().filter({ hasText: 'Landscape_1.jpg' }).locator('a').click()
    await page.waitForURL(/\/images\//)
    const id = page.url().split('/').pop()!
    await page.locator('[data-test=exif]').waitFor()
    expect(await page.locator('[data-test=exif]').textContent()).toContain('Orientation')
    await page.locator('[data-test=edit-title]').fill('Waterfall')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.locator('[data-test=toast]', { hasText: 'Saved' }).waitFor()
    await expect.poll(() => page.locator('[data-test=detail-title]').textContent()).toBe('Waterfall')
    expect((await api<{ title: string }>('GET', '/images/' + id)).title).toBe('Waterfall')
    if (has.variants) await page.locator('[data-test=detail-preview].loaded').waitFor({ timeout: 30_000 })
    await page.screenshot({ path: join(shots, 'detail.png') })
  })

  it('builds a 300 px WebP variant, previews it and its signed URL loads', async (ctx) => {
    if (!has.variants) return ctx.skip()
    await page.locator('[data-test=vb-width]').fill('300')
    await page.locator('[data-test=vb-format]').selectOption('webp')
    const urlBox = page.locator('[data-test=variant-url]')
    await expect.poll(async () => (await urlBox.inputValue()).includes('rs:fit:300:0'), { timeout: 15_000 }).toBe(true)
    await expect
      .poll(() => page.locator('[data-test=vb-preview]').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
        timeout: 30_000,
      })
      .toBe(300)
    const variant = await page.request.get(await urlBox.inputValue())
    expect(variant.status()).toBe(200)
    expect(variant.headers()['content-type']).toBe('image/webp')
    await page.evaluate(() => document.getElementById('vb-title')?.scrollIntoView({ block: 'start' }))
    await page.screenshot({ path: join(shots, 'variant-builder.png') })
  })

  it('tags two images at once: click one, shift-click the other', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click()
    await expect.poll(() => thumbs().count()).toBe(2)
    await thumbs().nth(0).getByRole('checkbox').click()
    await thumbs()
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
  })

  it('deletes one: Escape cancels the confirmation, then the delete goes through', async () => {
    await thumbs().nth(0).getByRole('checkbox').focus() // by keyboard this time
    await page.keyboard.press('Space')
    await expect.poll(() => page.locator('[data-test=batch-bar]').textContent()).toContain('1 selected')
    await page.locator('[data-test=batch-delete]').click()
    const confirm = page.locator('[data-test=confirm-delete]')
    await confirm.waitFor()
    await page.keyboard.press('Escape')
    await confirm.waitFor({ state: 'hidden' })
    expect(await thumbs().count()).toBe(2)
    await page.locator('[data-test=batch-delete]').click()
    await confirm.click()
    await expect.poll(() => thumbs().count()).toBe(1)
    await page.locator('[data-test=toast]', { hasText: 'Deleted 1 image' }).waitFor({ timeout: 20_000 })
    expect((await api<{ images: { id: string }[] }>('GET', '/images')).images).toHaveLength(1)
  })

  it('creates an API key that is shown once, and shows users and statistics', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click()
    await page.getByPlaceholder(/What is it for/).fill('e2e script')
    await page.getByRole('button', { name: 'Create key' }).click()
    const keyBox = page.getByLabel('New API key', { exact: true })
    await expect.poll(() => keyBox.inputValue()).toMatch(/^imk_/)
    const key = await keyBox.inputValue()
    await page.getByRole('button', { name: 'I have saved it' }).click()
    await page.getByRole('cell', { name: 'e2e script' }).waitFor()
    expect(await page.content()).not.toContain(key) // shown once, then gone
    const withKey = await fetch(server.url + '/api/v1/images', { headers: { Authorization: 'Bearer ' + key } })
    expect(withKey.status).toBe(200)

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click()
    await page.getByRole('cell', { name: server.username + ' (you)', exact: true }).waitFor()
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Statistics' }).click()
    await page.getByRole('heading', { name: 'Uploads per day' }).waitFor()
    if (has.variants) {
      // The most viewed image's thumbnail, signed with the others in one request, arrives.
      await expect
        .poll(
          () =>
            page
              .locator('.top img')
              .first()
              .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
          {
            timeout: 20_000,
          },
        )
        .toBeGreaterThan(0)
    }
    await page.screenshot({ path: join(shots, 'stats.png') })
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Gallery' }).click()
  })

  it('lets a user change their own password from the account menu and carry on signed in', async () => {
    // A plain user (the server skips the current-password check for admins).
    const user = { username: 'e2e-ann', password: 'ann-first-Pw1' }
    await api('POST', '/users', { ...user, role: 'user' })
    await page.locator('[data-test=logout]').click()
    await page.waitForURL(/\/login/)
    await signIn(user.username, user.password)
    const before = await page.evaluate(() => localStorage.getItem('imgmgr.session'))
    await page.locator('[data-test=account]').click()
    const form = page.locator('[data-test=password-form]')
    await form.waitFor()
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-test'))).toBe('pw-current')
    const next = 'ann-second-Pw2'
    await form.locator('[data-test=pw-current]').fill('not my password')
    await form.locator('[data-test=pw-new]').fill(next)
    await form.locator('[data-test=pw-repeat]').fill(next)
    await form.locator('[data-test=pw-submit]').click()
    await expect.poll(() => form.locator('[data-test=pw-error]').textContent()).toContain('current password is not right')
    await page.screenshot({ path: join(shots, 'password-dialog.png') })
    await form.locator('[data-test=pw-current]').fill(user.password)
    await form.locator('[data-test=pw-submit]').click()
    await page.locator('[data-test=toast]', { hasText: 'Password changed' }).waitFor()
    await form.waitFor({ state: 'hidden' })
    // Still signed in, on a new session the server takes; the old password no longer works.
    expect(new URL(page.url()).pathname).toBe('/')
    const after = await page.evaluate(() => localStorage.getItem('imgmgr.session'))
    expect(after).not.toBeNull()
    expect(after).not.toBe(before)
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click()
    await page.getByText('No keys yet.').waitFor() // the new session's token is taken
    const login = (password: string) =>
      fetch(server.url + '/api/v1/auth/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: user.username, password }),
      })
    expect((await login(user.password)).status).toBe(401)
    // Back to the admin for the steps that follow.
    await page.locator('[data-test=logout]').click()
    await page.waitForURL(/\/login/)
    await signIn()
    await expect.poll(() => thumbs().count()).toBe(1)
  })

  it('fits a 375 px phone screen, in the dark theme too', async () => {
    await page.setViewportSize({ width: 375, height: 812 })
    // A long name without spaces, which once widened its grid column.
    const [only] = (await api<{ images: { id: string }[] }>('GET', '/images')).images
    await api('PATCH', '/images/' + only!.id, { title: 'holiday-2026-the-whole-family-at-the-waterfall-before-lunch.jpg' })
    await page.reload()
    await expect.poll(() => thumbs().count()).toBe(1)
    if (has.variants) await page.locator('[data-test=thumb] img.loaded').first().waitFor({ timeout: 30_000 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    const columns = await page.locator('[data-test=grid]').evaluate((el) => getComputedStyle(el).gridTemplateColumns)
    const widths = columns.split(' ').map(parseFloat)
    expect(widths).toHaveLength(3) // three thumbnails a row on a phone, of one width whatever the file names
    expect(Math.max(...widths) - Math.min(...widths)).toBeLessThan(1)
    await page.screenshot({ path: join(shots, 'gallery-375.png') })
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.screenshot({ path: join(shots, 'gallery-375-dark.png') })
    await page.emulateMedia({ colorScheme: 'light' })
  })

  it('resumes an upload cut by a reload from where the server stopped', async (ctx) => {
    if (!has.tus) return ctx.skip()
    await page.setViewportSize({ width: 1280, height: 860 })
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: 100 * 1024,
    })
    const file = { ...fileOf(PHOTO, 'image/jpeg'), name: 'resume-me.jpg' }
    await drop(page, [file])
    const item = page.locator('[data-test=upload-item]', { hasText: 'resume-me.jpg' })
    await expect
      .poll(async () => Number(/(\d+)%/.exec((await item.locator('[data-test=upload-state]').textContent()) ?? '')?.[1] ?? 0), {
        timeout: 30_000,
      })
      .toBeGreaterThanOrEqual(30)
    await page.reload() // cuts the upload mid-way
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    })
    await cdp.detach()
    await page.locator('#resume-h').waitFor()
    expect(await page.locator('.resume').textContent()).toContain('resume-me.jpg')

    const offsets: number[] = []
    page.on('request', (r) => {
      if (r.method() === 'PATCH' && r.url().includes('/api/v1/uploads/')) offsets.push(Number(r.headers()['upload-offset']))
    })
    await drop(page, [file]) // the same file again: tus asks the server where it stopped
    await item.and(page.locator('[data-state=done]')).waitFor({ timeout: 60_000 })
    expect(offsets.length).toBeGreaterThan(0)
    expect(offsets[0]).toBeGreaterThan(0) // it went on, it did not start over
    await expect.poll(() => page.locator('.resume').count()).toBe(0)
  })

  it('signs out from the phone menu and the gallery is closed again', async () => {
    await page.setViewportSize({ width: 375, height: 812 })
    await page.getByRole('button', { name: 'Menu' }).click()
    await page.locator('[data-test=logout]').click()
    await page.waitForURL(/\/login/)
    expect(await page.evaluate(() => localStorage.getItem('imgmgr.session'))).toBeNull()
    await page.goto('/')
    await page.waitForURL(/\/login/)
    await page.setViewportSize({ width: 1280, height: 860 })
  })

  it('shows the first thumbnails quickly with 500 images in the library', async (ctx) => {
    if (!has.variants) return ctx.skip()
    // 500 distinct JPEGs (a comment segment makes each one's bytes unique),
    // sent 50 to a multipart request.
    const base = readFileSync(join(images, LANDSCAPE))
    for (let batch = 0; batch < 10; batch++) {
      const form = new FormData()
      for (let i = 0; i < 50; i++) {
        const n = batch * 50 + i
        const note = Buffer.from(`imgmgr e2e ${n}`)
        const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0, note.length + 2]), note])
        form.append(
          'file',
          new Blob([Buffer.concat([base.subarray(0, 2), com, base.subarray(2)])], { type: 'image/jpeg' }),
          `bulk-${n}.jpg`,
        )
      }
      await api('POST', '/images', form)
    }
    await page.goto('/login')
    await signIn()

    // A fresh load of the gallery: navigation start to the first thumbnail
    // shown (the app's user-timing mark), and to every thumbnail of the first
    // screen; with the browser cache off. Cold: the server renders every
    // thumbnail; warm: the same again, now from its variant cache.
    const signing = { requests: 0 }
    page.on('request', (r) => {
      if (r.method() === 'POST' && /\/api\/v1\/images\/(.+\/)?urls$/.test(new URL(r.url()).pathname)) signing.requests++
    })
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true })
    const cold = await firstScreen(signing)
    const warm = await firstScreen(signing)
    await cdp.detach()
    const timing = {
      images: 501,
      firstThumbnailMs: cold.firstThumbnailMs,
      firstScreenMs: cold.firstScreenMs,
      thumbnailsInFirstScreen: cold.cards,
      signingRequests: cold.signingRequests,
      warm: { firstThumbnailMs: warm.firstThumbnailMs, firstScreenMs: warm.firstScreenMs },
    }
    console.log('gallery timing', JSON.stringify(timing))
    writeFileSync(join(shots, 'timing.json'), JSON.stringify(timing, null, 2) + '\n')
    const first = Math.min(cold.firstThumbnailMs, warm.firstThumbnailMs)
    expect(Number.isFinite(first)).toBe(true)
    await page.screenshot({ path: join(shots, 'gallery-500.png') })
  })
})
