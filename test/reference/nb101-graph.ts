// Slow, obvious NAS-Bench-101 graph form: unpack the upper-triangle bits by walking the
// triangle row by row (counting k as it goes, not by formula), then pad the way ReNAS/NAR
// pad a matrix — append a zero row and column and swap the last two vertices, until 7 —
// so the output ends up last.

export const NB101_LABELS = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output']

export function unpackBitsRef (bits: number, v: number): number[][] {
  const m = Array.from({ length: v }, () => new Array(v).fill(0))
  let k = 0
  for (let i = 0; i < 7; i++) {
    for (let j = i + 1; j < 7; j++) {
      if (Math.floor(bits / 2 ** k) % 2 === 1) {
        if (j >= v) throw new Error(`bit ${k} beyond V`)
        m[i][j] = 1
      }
      k++
    }
  }
  return m
}

/** Packs a V×V upper-triangular matrix with the contract's formula k = i*7 − i(i+1)/2 + (j−i−1). */
export function packBits (m: number[][]): number {
  let bits = 0
  for (let i = 0; i < m.length; i++) {
    for (let j = i + 1; j < m.length; j++) {
      if (m[i][j]) bits += 2 ** (i * 7 - i * (i + 1) / 2 + (j - i - 1))
    }
  }
  return bits
}

export function graph101Ref (matrix: number[][], ops: number[]): { A: number[][]; X: number[][]; mask: number[] } {
  let A = matrix.map(r => r.slice())
  let labels: (number | null)[] = ops.slice()
  while (A.length < 7) {
    const n = A.length
    A = A.map(r => [...r, 0])
    A.push(new Array(n + 1).fill(0))
    labels.push(null)
    // swap vertices n-1 and n (rows, then columns)
    ;[A[n - 1], A[n]] = [A[n], A[n - 1]]
    for (const r of A) [r[n - 1], r[n]] = [r[n], r[n - 1]]
    ;[labels[n - 1], labels[n]] = [labels[n], labels[n - 1]]
  }
  labels = labels.slice()
  const X = labels.map(l => [0, 1, 2, 3, 4].map(f => (f === l ? 1 : 0)))
  const mask = labels.map(l => (l === null ? 0 : 1))
  return { A, X, mask }
}
