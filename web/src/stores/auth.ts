import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '../api/errors'
import type { EndReason } from '../api/session'
import type { User } from '../api/types'
import { services } from '../services'

/** useAuth is who is signed in. A session that ends by itself says so (endedReason). */
export const useAuth = defineStore('auth', () => {
  const { session } = services()
  const user = ref<User | null>(session.user)
  const endedReason = ref<EndReason | null>(null)
  session.subscribe((s, reason) => {
    user.value = s?.user ?? null
    if (!s && reason) endedReason.value = reason
  })
  const isAdmin = computed(() => user.value?.role === 'admin')
  const signedIn = computed(() => user.value !== null)

  async function login(username: string, password: string): Promise<void> {
    endedReason.value = null
    user.value = await session.login(username, password)
  }
  /** changePassword sets a new password and signs in again with it (the server ends every session on a change). */
  async function changePassword(current: string, next: string): Promise<void> {
    const me = user.value
    if (!me) throw new ApiError(401, 'unauthenticated', 'not signed in')
    user.value = await session.changePassword(() => services().api.changePassword(me.id, current, next), next)
  }
  async function logout(): Promise<void> {
    await session.logout()
  }
  return { user, isAdmin, signedIn, endedReason, login, changePassword, logout }
})
