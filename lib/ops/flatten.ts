// Flatten: [N, C, H, W] (or any rank) to [N, C*H*W] from startDim on. A view:
// the result shares memory with x (row-major layout makes this free).

import { invalidType, invalidValue } from '../errors';
import { checkTensor, type Tensor } from '../tensor';

export function flatten(x: Tensor, startDim = 1): Tensor {
  const xt = checkTensor(x, 'x');
  if (typeof startDim !== 'number') throw invalidType('startDim', 'an integer', startDim);
  if (!Number.isInteger(startDim) || startDim < 0 || startDim >= Math.max(1, xt.shape.length)) {
    throw invalidValue('startDim', `an integer in [0, ${Math.max(0, xt.shape.length - 1)}]`, startDim);
  }
  const head = xt.shape.slice(0, startDim);
  const tail = xt.shape.slice(startDim).reduce((a, b) => a * b, 1);
  return xt.reshape([...head, tail]);
}
