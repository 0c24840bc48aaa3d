// A 2-D convolution ('same' padding, stride 1, odd square kernels) whose gradients use only
// forward convolutions. Why: the tfjs wasm backend (our CPU fallback) registers Conv2D and
// Conv2DBackpropInput but not Conv2DBackpropFilter, so tf.conv2d cannot be trained there.
// Backward pass (x: [N, H, W, Cin], w: [k, k, Cin, Cout], dy: [N, H, W, Cout], p = (k − 1)/2):
//   dx = conv2d(dy, transpose(reverse(w, [0, 1]), [0, 1, 3, 2]), 'same')     (odd k, stride 1)
//   dw = transpose(conv2d(transpose(pad(x, p), [3, 1, 2, 0]) /* [Cin, H+2p, W+2p, N] */,
//                         transpose(dy, [1, 2, 0, 3])           /* [H, W, N, Cout]   */, 'valid'),
//                  [1, 2, 0, 3])                                 /* [k, k, Cin, Cout] */
// i.e. the filter gradient is the correlation of the padded input with the output gradient,
// with the batch as the contracted channel axis. Same maths on every backend.
// Stride 2 (NB-201's reduction blocks; PyTorch's Conv2d(k, stride 2, padding (k − 1)/2), output
// ⌈H/2⌉): y = conv2d(pad(x, p), w, 2, 'valid'); dx = Conv2DBackpropInput (wasm has it) on the
// padded shape, unpadded; dw = the correlation of the padded input (cropped to the L = 2(Ho − 1) + k
// rows and columns the forward pass reads) with dy dilated by 2, i.e. a stride-1 'valid'
// conv2d with dilation 2 in the same transposed layout: [Cin, L, L, N] ⊛ [Ho, Wo, N, Cout].
import type { Tensor, Tensor4D } from '@tensorflow/tfjs'
import type { Tf } from './tf'

function filterGrad (tf: Tf, x: Tensor4D, dy: Tensor4D, p: number): Tensor4D {
  const xt = tf.transpose(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]), [3, 1, 2, 0])
  const dyt = tf.transpose(dy, [1, 2, 0, 3])
  return tf.transpose(tf.conv2d(xt, dyt, 1, 'valid'), [1, 2, 0, 3])
}

/**
 * A convolution with hand-written gradients: `forward(x, w)`, dx = `dxOf(dy, w)` (skipped when
 * `inputGrad` is false: the input is data) and dw = `dwOf(x, dy)`.
 */
function customConv (tf: Tf, x: Tensor, w: Tensor, inputGrad: boolean,
  forward: (x: Tensor4D, w: Tensor4D) => Tensor4D, dxOf: (dy: Tensor4D, w: Tensor4D) => Tensor4D, dwOf: (x: Tensor4D, dy: Tensor4D) => Tensor4D): Tensor4D {
  if (!inputGrad) {
    const xs = x as Tensor4D
    const opW = tf.customGrad((wi: unknown) => ({
      value: forward(xs, wi as Tensor4D),
      gradFunc: (dy: Tensor4D) => dwOf(xs, dy)
    }))
    return opW(w) as Tensor4D
  }
  const op = tf.customGrad((xi: unknown, wi: unknown, save: unknown) => {
    ;(save as (t: Tensor[]) => void)([xi as Tensor4D, wi as Tensor4D])
    return {
      value: forward(xi as Tensor4D, wi as Tensor4D),
      gradFunc: (dy: Tensor4D, saved: Tensor[]) => {
        const [xv, wv] = saved as Tensor4D[]
        return [dxOf(dy, wv), dwOf(xv, dy)]
      }
    }
  })
  return op(x, w) as Tensor4D
}

function checkShapes (x: Tensor, w: Tensor): number {
  const k = w.shape[0]
  if (w.rank !== 4 || w.shape[1] !== k || k % 2 !== 1) throw new RangeError(`conv2dSame: the kernel must be [k, k, Cin, Cout] with odd k, got [${w.shape.join(', ')}]`)
  if (x.rank !== 4 || x.shape[3] !== w.shape[2]) throw new RangeError(`conv2dSame: input [${x.shape.join(', ')}] does not match kernel [${w.shape.join(', ')}]`)
  return k
}

/**
 * y = conv2d(x, w, stride 1, 'same'), differentiable in w and (unless `inputGrad` is false) in x.
 * With inputGrad: false (the first layer, whose input is data) the input gradient — a
 * convolution as expensive as the forward pass — is not computed at all.
 */
export function conv2dSame (tf: Tf, x: Tensor, w: Tensor, inputGrad = true, stride: 1 | 2 = 1): Tensor4D {
  if (stride === 2) return conv2dStride2(tf, x, w, inputGrad)
  if (stride !== 1) throw new RangeError(`conv2dSame: stride must be 1 or 2, got ${String(stride)}`)
  const p = (checkShapes(x, w) - 1) / 2
  return customConv(tf, x, w, inputGrad,
    (xs, ws) => tf.conv2d(xs, ws, 1, 'same'),
    (dy, wv) => tf.conv2d(dy, tf.transpose(tf.reverse(wv, [0, 1]), [0, 1, 3, 2]), 1, 'same'),
    (xv, dy) => filterGrad(tf, xv, dy, p))
}

function conv2dStride2 (tf: Tf, x: Tensor, w: Tensor, inputGrad: boolean): Tensor4D {
  const k = checkShapes(x, w)
  const p = (k - 1) / 2
  const [n, h, wd, cin] = x.shape as number[]
  const ho = Math.floor((h + 2 * p - k) / 2) + 1
  const wo = Math.floor((wd + 2 * p - k) / 2) + 1
  const lh = 2 * (ho - 1) + k
  const lw = 2 * (wo - 1) + k
  const padded = (xs: Tensor4D): Tensor4D => tf.pad(xs, [[0, 0], [p, p], [p, p], [0, 0]])
  return customConv(tf, x, w, inputGrad,
    (xs, ws) => tf.conv2d(padded(xs), ws, 2, 'valid'),
    (dy, wv) => tf.slice(tf.conv2dTranspose(dy, wv, [n, h + 2 * p, wd + 2 * p, cin], 2, 'valid'), [0, p, p, 0], [n, h, wd, cin]),
    (xv, dy) => {
      const xt = tf.transpose(tf.slice(padded(xv), [0, 0, 0, 0], [n, lh, lw, cin]), [3, 1, 2, 0])
      const dyt = tf.transpose(dy, [1, 2, 0, 3])
      return tf.transpose(tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', 2), [1, 2, 0, 3])
    })
}
