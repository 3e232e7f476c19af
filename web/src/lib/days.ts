// Uploads per day as the chart shows them: one slot for every day of a
// window of at least two weeks, days without uploads as zero, so one busy
// day is one bar among others rather than a bar the width of the chart.

export const MIN_DAYS = 14

/** everyDay fills the days between the first and the last reported (at least MIN_DAYS up to the last). */
export function everyDay(byDay: { day: string; count: number }[], minDays = MIN_DAYS): { label: string; value: number }[] {
  if (!byDay.length) return []
  const counts = new Map<string, number>()
  for (const d of byDay) {
    const k = d.day.slice(0, 10)
    counts.set(k, (counts.get(k) ?? 0) + d.count)
  }
  const keys = [...counts.keys()].sort()
  const last = Date.parse(keys[keys.length - 1]! + 'T00:00:00Z')
  const first = Math.min(Date.parse(keys[0]! + 'T00:00:00Z'), last - (minDays - 1) * 86_400_000)
  const out: { label: string; value: number }[] = []
  for (let t = first; t <= last; t += 86_400_000) {
    const label = new Date(t).toISOString().slice(0, 10)
    out.push({ label, value: counts.get(label) ?? 0 })
  }
  return out
}
