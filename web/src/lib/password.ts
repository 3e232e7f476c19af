// Checks a new password in the browser before it is sent, with the server's
// own rule (auth.ValidatePassword: 10 to 256 characters), and words for what
// the server answers to a change of one's own password.

import { ApiError, humanError } from '../api/errors'

export const MIN_PASSWORD = 10
export const MAX_PASSWORD = 256

/** passwordProblem returns a sentence about the first problem of the form, or "" when it can be sent. */
export function passwordProblem(current: string, next: string, repeat: string): string {
  if (!current) return 'Enter your current password.'
  if (next.length < MIN_PASSWORD) return `The new password needs at least ${MIN_PASSWORD} characters.`
  if (next.length > MAX_PASSWORD) return `The new password can have at most ${MAX_PASSWORD} characters.`
  if (next === current) return 'The new password is the same as the current one.'
  if (next !== repeat) return 'The two new passwords do not match.'
  return ''
}

/** passwordChangeError puts a failed change in words; a 403 here means the current password was wrong. */
export function passwordChangeError(e: unknown): string {
  if (e instanceof ApiError && (e.code === 'invalid_credentials' || (e.status === 403 && e.code !== 'forbidden'))) {
    return 'The current password is not right.'
  }
  return humanError(e)
}
