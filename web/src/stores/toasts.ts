import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface Toast {
  id: number
  kind: 'info' | 'success' | 'error'
  text: string
  action?: { label: string; run: () => void }
  timeout: number // ms; 0 = stays until closed
}

let seq = 0

/** useToasts shows short messages, some with one action (Undo). */
export const useToasts = defineStore('toasts', () => {
  const toasts = ref<Toast[]>([])
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

  function show(t: Omit<Toast, 'id' | 'timeout'> & { timeout?: number }): number {
    const id = ++seq
    const timeout = t.timeout ?? (t.kind === 'error' ? 8000 : 4000)
    toasts.value.push({ ...t, id, timeout })
    if (timeout > 0)
      timers.set(
        id,
        setTimeout(() => close(id), timeout),
      )
    return id
  }
  function close(id: number): void {
    clearTimeout(timers.get(id))
    timers.delete(id)
    toasts.value = toasts.value.filter((t) => t.id !== id)
  }
  /** clear drops every toast (when the session ends: nothing of it stays on screen). */
  function clear(): void {
    for (const id of timers.keys()) clearTimeout(timers.get(id))
    timers.clear()
    toasts.value = []
  }
  const info = (text: string) => show({ kind: 'info', text })
  const success = (text: string) => show({ kind: 'success', text })
  const error = (text: string) => show({ kind: 'error', text })
  return { toasts, show, close, clear, info, success, error }
})
