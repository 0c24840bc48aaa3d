// a · b for 2-D tensors, with gradients computed as plain (untransposed) products of
// explicitly transposed operands. Why: the tfjs wasm backend's BatchMatMul is fast only
// without transpose flags; the gradients tfjs derives for tf.matMul (dy · bᵀ and aᵀ · dy)
// use those flags and took 7–13× as long as the forward product in a ReNAS training step
// (a LeNet fit spent 60 % of its time there). tf.transpose itself is cheap.
import type { Tensor, Tensor2D } from '@tensorflow/tfjs'
import type { Tf } from './tf'

export function matMul2d (tf: Tf, a: Tensor, b: Tensor): Tensor2D {
  if (a.rank !== 2 || b.rank !== 2 || a.shape[1] !== b.shape[0]) {
    throw new RangeError(`matMul2d: needs [m, k] · [k, n], got [${a.shape.join(', ')}] · [${b.shape.join(', ')}]`)
  }
  const op = tf.customGrad((ai: unknown, bi: unknown, save: unknown) => {
    const as = ai as Tensor2D
    const bs = bi as Tensor2D
    ;(save as (t: Tensor[]) => void)([as, bs])
    return {
      value: tf.matMul(as, bs) as Tensor2D,
      gradFunc: (dy: Tensor2D, saved: Tensor[]) => {
        const [av, bv] = saved as Tensor2D[]
        return [tf.matMul(dy, tf.transpose(bv)), tf.matMul(tf.transpose(av), dy)]
      }
    }
  })
  return op(a, b) as Tensor2D
}
