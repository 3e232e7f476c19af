// ApiError carries what the server said went wrong ({"error":{code,message}}
// with an HTTP status), and humanError turns any failure into words a person
// can act on.

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly serverMessage: string
  readonly retryAfter: number | undefined // seconds

  constructor(status: number, code: string, serverMessage: string, retryAfter?: number) {
    super(`${status} ${code}${serverMessage ? ': ' + serverMessage : ''}`)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.serverMessage = serverMessage
    this.retryAfter = retryAfter
  }
}

/** NetworkError is a request that never got an HTTP answer. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause })
    this.name = 'NetworkError'
  }
}

const byCode: Record<string, string> = {
  invalid_credentials: 'That username and password do not match.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  permission_denied: 'You are not allowed to do that.',
  not_found: 'It is not there any more. It may have been deleted.',
  conflict: 'Someone changed this at the same time. Reload and try again.',
  gone: 'This link or upload has expired.',
  precondition_failed: 'This changed since you loaded it. Reload and try again.',
  too_large: 'The file is larger than the server accepts.',
  file_too_large: 'The file is larger than the server accepts.',
  too_many_pixels: 'The image has more pixels than the server accepts.',
  too_many_frames: 'The animation has more frames than the server accepts.',
  unsupported_media_type: 'This is not an image type the server accepts.',
  unprocessable: 'The server could not read this image. It may be damaged.',
  corrupt_image: 'The image file is damaged and cannot be read.',
  malware_detected: 'The virus scanner flagged this file, so it was not stored.',
  locked: 'This upload is busy in another tab or window.',
  checksum_mismatch: 'The file was damaged on the way. Retry the upload.',
  unavailable: 'The server is busy or being updated. Try again in a moment.',
  internal: 'Something went wrong on the server. Try again; if it keeps happening, tell an administrator.',
  invalid: 'The server did not accept this request.',
  no_route: 'This server does not offer that yet. It may need updating.',
}

const byStatus: Record<number, string> = {
  400: byCode.invalid!,
  401: byCode.unauthenticated!,
  403: byCode.permission_denied!,
  404: byCode.not_found!,
  409: byCode.conflict!,
  410: byCode.gone!,
  412: byCode.precondition_failed!,
  413: byCode.too_large!,
  415: byCode.unsupported_media_type!,
  422: byCode.unprocessable!,
  423: byCode.locked!,
  460: byCode.checksum_mismatch!,
  503: byCode.unavailable!,
}

/** humanError returns a sentence for a person from any thrown value. */
export function humanError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited' || err.status === 429) {
      const s = err.retryAfter ? ` Try again in ${Math.ceil(err.retryAfter)} s.` : ' Try again in a moment.'
      return 'Too many requests.' + s
    }
    const known = byCode[err.code]
    if (known) {
      // Validation messages from the server say which field is wrong;
      // keep them when they add to the generic sentence.
      if ((err.code === 'invalid' || err.status === 400) && err.serverMessage) return capitalise(err.serverMessage)
      return known
    }
    if (err.serverMessage) return capitalise(err.serverMessage)
    return byStatus[err.status] ?? (err.status >= 500 ? byCode.internal! : `The request failed (${err.status}).`)
  }
  if (err instanceof NetworkError) return 'Cannot reach the server. Check your connection; it will retry.'
  if (err instanceof Error && err.name === 'AbortError') return 'Cancelled.'
  return 'Something went wrong. Try again.'
}

function capitalise(s: string): string {
  const t = s.trim()
  const c = t.charAt(0).toUpperCase() + t.slice(1)
  return /[.!?]$/.test(c) ? c : c + '.'
}

/** parseErrorBody reads {"error":{code,message}} from a response body, tolerating anything else. */
export function parseErrorBody(status: number, text: string, retryAfter?: string | null): ApiError {
  let code = ''
  let message = ''
  try {
    const body: unknown = JSON.parse(text)
    if (body && typeof body === 'object' && 'error' in body) {
      const e = (body as { error: unknown }).error
      if (e && typeof e === 'object') {
        const o = e as Record<string, unknown>
        if (typeof o.code === 'string') code = o.code
        if (typeof o.message === 'string') message = o.message
      }
    }
  } catch {
    // not JSON: a proxy's page or plain text; the status still tells.
  }
  const ra = retryAfter ? Number(retryAfter) : NaN
  return new ApiError(status, code || statusCode(status), message, Number.isFinite(ra) ? ra : undefined)
}

function statusCode(status: number): string {
  switch (status) {
    case 401:
      return 'unauthenticated'
    case 403:
      return 'permission_denied'
    case 404:
      return 'not_found'
    case 429:
      return 'rate_limited'
    default:
      return status >= 500 ? 'internal' : 'http_' + status
  }
}
