// Kendall tau by Knight's algorithm in plain JavaScript, O(n log n): an independent
// implementation for sizes where the O(n^2) pair loop of correlation.ts is too slow. It is
// itself checked against that loop (test/kendall.test.ts). Counts are exact integers up to
// 2^53 pairs, and tau is formed with the same arithmetic as scipy and the native kernel.

export interface TauCounts {
  total: number      // n (n - 1) / 2
  tiedX: number      // pairs with x_i == x_j
  tiedY: number      // pairs with y_i == y_j
  tiedBoth: number   // pairs tied in x and in y
  discordant: number // pairs with (x_i - x_j)(y_i - y_j) < 0
}

const cmp = (a: number, b: number) => a < b ? -1 : a > b ? 1 : 0

export function knightCounts (x: ArrayLike<number>, y: ArrayLike<number>): TauCounts {
  const n = x.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => cmp(x[a], x[b]) || cmp(y[a], y[b]))
  let tiedX = 0; let tiedBoth = 0; let xRun = 1; let bothRun = 1
  for (let k = 1; k <= n; k++) {
    const sameX = k < n && x[order[k]] === x[order[k - 1]]
    const sameBoth = sameX && y[order[k]] === y[order[k - 1]]
    if (sameX) xRun++; else { tiedX += xRun * (xRun - 1) / 2; xRun = 1 }
    if (sameBoth) bothRun++; else { tiedBoth += bothRun * (bothRun - 1) / 2; bothRun = 1 }
  }
  // Discordant pairs = inversions of y in that order (ties in x are ordered by y, so they
  // add none; equal y values are not inversions).
  let seq = Float64Array.from(order, i => y[i])
  let tmp = new Float64Array(n)
  let discordant = 0
  for (let width = 1; width < n; width *= 2) {
    for (let s = 0; s < n; s += 2 * width) {
      const mid = Math.min(s + width, n); const end = Math.min(s + 2 * width, n)
      let i = s; let j = mid; let k = s
      while (i < mid && j < end) {
        if (seq[j] < seq[i]) { discordant += mid - i; tmp[k++] = seq[j++] } else tmp[k++] = seq[i++]
      }
      while (i < mid) tmp[k++] = seq[i++]
      while (j < end) tmp[k++] = seq[j++]
    }
    [seq, tmp] = [tmp, seq]
  }
  let tiedY = 0; let yRun = 1
  for (let k = 1; k <= n; k++) {
    if (k < n && seq[k] === seq[k - 1]) yRun++; else { tiedY += yRun * (yRun - 1) / 2; yRun = 1 }
  }
  return { total: n * (n - 1) / 2, tiedX, tiedY, tiedBoth, discordant }
}

/** tau-b as scipy.stats.kendalltau computes it (NaN when x or y is constant). */
export function tauBFromCounts (c: TauCounts): number {
  if (c.tiedX === c.total || c.tiedY === c.total) return NaN
  const conMinusDis = c.total - c.tiedX - c.tiedY + c.tiedBoth - 2 * c.discordant
  return Math.min(1, Math.max(-1, conMinusDis / Math.sqrt(c.total - c.tiedX) / Math.sqrt(c.total - c.tiedY)))
}

/** ReNAS tau-a: 2 * concordant / C(n, 2) - 1. */
export function tauAFromCounts (c: TauCounts): number {
  const concordant = c.total - c.tiedX - c.tiedY + c.tiedBoth - c.discordant
  return 2 * concordant / c.total - 1
}
