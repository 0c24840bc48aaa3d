// Slow, obvious reference implementations (O(n^2) pair loops) for the correlation kernels.

function sign (v: number): number {
  return v > 0 ? 1 : v < 0 ? -1 : 0
}

export function pairCounts (x: ArrayLike<number>, y: ArrayLike<number>) {
  let concordant = 0; let discordant = 0; let tiedX = 0; let tiedY = 0
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      const s = sign(x[i] - x[j]) * sign(y[i] - y[j])
      if (s > 0) concordant++
      else if (s < 0) discordant++
      if (x[i] === x[j]) tiedX++
      if (y[i] === y[j]) tiedY++
    }
  }
  return { concordant, discordant, tiedX, tiedY, total: x.length * (x.length - 1) / 2 }
}

/** tau-b = (C − D) / sqrt((N − Tx)(N − Ty)); NaN when either side is constant. */
export function tauB (x: ArrayLike<number>, y: ArrayLike<number>): number {
  const c = pairCounts(x, y)
  if (c.tiedX === c.total || c.tiedY === c.total) return NaN
  return (c.concordant - c.discordant) / Math.sqrt((c.total - c.tiedX) * (c.total - c.tiedY))
}

/** ReNAS: 2·concordant / C(n,2) − 1. */
export function tauA (x: ArrayLike<number>, y: ArrayLike<number>): number {
  const c = pairCounts(x, y)
  return 2 * c.concordant / c.total - 1
}

export function averageRanks (v: ArrayLike<number>): number[] {
  const ranks: number[] = []
  for (let i = 0; i < v.length; i++) {
    let less = 0; let equal = 0
    for (let j = 0; j < v.length; j++) {
      if (v[j] < v[i]) less++
      else if (v[j] === v[i]) equal++
    }
    ranks.push(less + (equal + 1) / 2)
  }
  return ranks
}

export function pearson (x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length
  let mx = 0; let my = 0
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i] }
  mx /= n; my /= n
  let sxx = 0; let syy = 0; let sxy = 0
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2
    syy += (y[i] - my) ** 2
    sxy += (x[i] - mx) * (y[i] - my)
  }
  if (sxx === 0 || syy === 0) return NaN
  return sxy / Math.sqrt(sxx * syy)
}

export function spearman (x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(averageRanks(x), averageRanks(y))
}
