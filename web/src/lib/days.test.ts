import { describe, expect, it } from 'vitest'
import { everyDay } from './days'

describe('everyDay', () => {
  it('shows one day among the two weeks before it', () => {
    const got = everyDay([{ day: '2026-11-25T00:00:00Z', count: 3 }])
    expect(got).toHaveLength(14)
    expect(got[0]).toEqual({ label: '2026-11-12', value: 0 })
    expect(got[13]).toEqual({ label: '2026-11-25', value: 3 })
  })

  it('fills the gaps of a longer range with zeros, in order, and adds up repeated days', () => {
    const got = everyDay(
      [
        { day: '2026-10-30', count: 2 },
        { day: '2026-10-01', count: 1 },
        { day: '2026-10-30', count: 1 },
      ],
      3,
    )
    expect(got).toHaveLength(30)
    expect(got[0]).toEqual({ label: '2026-10-01', value: 1 })
    expect(got.at(-1)).toEqual({ label: '2026-10-30', value: 3 })
    expect(got.slice(1, -1).every((d) => d.value === 0)).toBe(true)
  })

  it('has nothing to show without data', () => {
    expect(everyDay([])).toEqual([])
  })
})
