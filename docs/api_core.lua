-- docs/api_core.lua: the reference entries of the C core's functions, for
-- LDoc (config.ld); nothing loads this file.  The functions are C,
-- registered by runtime/lua/*.c into aerun.core, one file per op family;
-- their entries are kept here, one section per topic, so that the
-- reference reads by topic whatever file registers a name.  A new public
-- C function needs an entry here (tests/apidoc_spec.lua says which).

--- Tensors, autograd and the C core's functions: `local ae = require "aerun"`.
--
-- `ae` holds the C core's functions (`aerun.core`) and loads its
-- submodules (`ae.nn`, `ae.data`...) on first use.  Dimensions and positions count from 1 and
-- negative ones from the end, as in Lua and Torch7.  A tensor function is
-- also a method when its first argument is a tensor: `ae.exp(x)` is
-- `x:exp()`.  Every error is raised at the caller's line and names the
-- function (`exp: ...`) or the op and the shapes involved.
-- @module aerun

------------------------------------------------------------------------
-- Creating tensors
-- @section create

--- A float32 tensor of zeros.
-- @param ... sizes as numbers, or one table of sizes
-- @return a tensor of that shape
-- @raise when a size is negative, not an integer, or the total is too large
-- @usage assert(ae.zeros(2, 3):numel() == 6 and ae.zeros { 2, 3 }:sum():item() == 0)
-- @function zeros

--- A float32 tensor of ones.
-- @param ... sizes as numbers, or one table of sizes
-- @return a tensor
-- @raise as `zeros`
-- @usage assert(ae.ones(4):sum():item() == 4)
-- @function ones

--- A tensor whose values are left as they come (zeros in this runtime).
-- @param ... sizes as numbers, or one table of sizes
-- @return a tensor
-- @raise as `zeros`
-- @usage assert(ae.empty(3):numel() == 3)
-- @function empty

--- A tensor filled with one value.
-- @param ... sizes, then the value (or one table of sizes, then the value)
-- @return a tensor
-- @raise as `zeros`, or when the value is missing
-- @usage assert(ae.full(2, 2, 0.5):sum():item() == 2)
-- @function full

--- Uniform random values in [0, 1) from the runtime's generator.
-- @param ... sizes as numbers, or one table of sizes
-- @return a tensor
-- @raise as `zeros`
-- @usage ae.manual_seed(1); local x = ae.rand(3, 2); assert(x:min() >= 0 and x:max() < 1)
-- @function rand

--- Standard normal random values from the runtime's generator.
-- @param ... sizes as numbers, or one table of sizes
-- @return a tensor
-- @raise as `zeros`
-- @usage ae.manual_seed(1); assert(#ae.randn(1000):shape() == 1)
-- @function randn

--- Evenly spaced values: `arange(n)` is 0..n-1, `arange(a, b[, step])` is a, a+step, ... below b.
-- @param a the end (alone) or the start
-- @param[opt] b the end (excluded)
-- @param[opt=1] step the spacing, not zero
-- @return a 1-D tensor
-- @raise when step is 0 or the count is not finite
-- @usage assert(ae.arange(1, 2, 0.25):numel() == 4)
-- @function arange

--- A tensor from nested Lua tables of numbers (or one number: a 0-d tensor).
-- @param values a number or nested tables, every row the same length
-- @return a tensor in the tables' shape
-- @raise on ragged rows or values that are not numbers
-- @usage assert(ae.tensor { { 1, 2 }, { 3, 4 } }:size(2) == 2)
-- @function tensor

------------------------------------------------------------------------
-- Element-wise math (each also a tensor method)
-- @section math

--- x + y, broadcasting NumPy-style (also the `+` operator).
-- @param x a tensor or number
-- @param y a tensor or number
-- @return a tensor
-- @raise when the shapes cannot be broadcast (naming both shapes and the dimension)
-- @usage assert((ae.ones(2, 3) + ae.ones(3)):sum():item() == 12)
-- @function add

--- x - y, broadcasting (also the `-` operator).
-- @param x a tensor or number
-- @param y a tensor or number
-- @return a tensor
-- @raise when the shapes cannot be broadcast
-- @usage assert(ae.sub(ae.ones(2), 1):sum():item() == 0)
-- @function sub

--- x * y element-wise, broadcasting (also the `*` operator).
-- @param x a tensor or number
-- @param y a tensor or number
-- @return a tensor
-- @raise when the shapes cannot be broadcast
-- @usage assert(ae.mul(ae.full(2, 3), 2):sum():item() == 12)
-- @function mul

--- x / y element-wise, broadcasting (also the `/` operator).
-- @param x a tensor or number
-- @param y a tensor or number
-- @return a tensor
-- @raise when the shapes cannot be broadcast
-- @usage assert(ae.div(ae.ones(2), 4):sum():item() == 0.5)
-- @function div

--- -x (also the unary `-` operator).
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.neg(ae.ones(2)):sum():item() == -2)
-- @function neg

--- x raised to a power (also `x ^ p`).
-- @param x a tensor
-- @param p a number
-- @return a tensor
-- @usage assert(ae.pow(ae.full(2, 3), 2):sum():item() == 18)
-- @function pow

--- e^x element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.zeros(3):exp():sum():item() == 3)
-- @function exp

--- The natural logarithm element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.ones(3):log():sum():item() == 0)
-- @function log

--- |x| element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.full(2, -1):abs():sum():item() == 2)
-- @function abs

--- The square root element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.full(1, 9):sqrt():item() == 3)
-- @function sqrt

--- Values limited to [lo, hi] (gradient zero outside).
-- @param x a tensor
-- @param lo the lower bound (or nil)
-- @param hi the upper bound (or nil)
-- @return a tensor
-- @raise when lo > hi
-- @usage assert(ae.arange(5):clamp(1, 3):max() == 3)
-- @function clamp

--- max(x, 0) element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.tensor { -1, 2 }:relu():sum():item() == 2)
-- @function relu

--- 1 / (1 + e^-x) element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.zeros(1):sigmoid():item() == 0.5)
-- @function sigmoid

--- tanh element-wise.
-- @param x a tensor
-- @return a tensor
-- @usage assert(ae.zeros(1):tanh():item() == 0)
-- @function tanh

--- x for x ≥ 0, slope·x below.
-- @param x a tensor
-- @param[opt=0.01] slope the negative slope
-- @return a tensor
-- @usage assert(ae.tensor { -1 }:leaky_relu(0.5):item() == -0.5)
-- @function leaky_relu

--- x for x > 0, alpha·(e^x - 1) below.
-- @param x a tensor
-- @param[opt=1] alpha a number
-- @return a tensor
-- @usage assert(ae.tensor { 1 }:elu():item() == 1)
-- @function elu

--- log(1 + e^(beta·x)) / beta, linear above threshold (PyTorch's Softplus).
-- @param x a tensor
-- @param[opt=1] beta a number
-- @param[opt=20] threshold a number
-- @return a tensor
-- @usage assert(math.abs(ae.zeros(1):softplus():item() - math.log(2)) < 1e-6)
-- @function softplus

--- log(softmax(x)) over the last dimension, computed stably.
-- @param x a tensor N×K
-- @return a tensor N×K
-- @usage local p = ae.log_softmax(ae.zeros(2, 4)):exp(); assert(math.abs(p:sum():item() - 2) < 1e-6)
-- @function log_softmax

--- Element-wise x == v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.eq(ae.arange(3), 1):sum():item() == 1)
-- @function eq

--- Element-wise x ~= v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.ne(ae.arange(3), 1):sum():item() == 2)
-- @function ne

--- Element-wise x < v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.lt(ae.arange(3), 1):sum():item() == 1)
-- @function lt

--- Element-wise x <= v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.le(ae.arange(3), 1):sum():item() == 2)
-- @function le

--- Element-wise x > v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.gt(ae.arange(3), 1):sum():item() == 1)
-- @function gt

--- Element-wise x >= v as 0/1 floats.
-- @param x a tensor
-- @param v a number
-- @return a tensor of 0 and 1 (no graph)
-- @usage assert(ae.ge(ae.arange(3), 1):sum():item() == 2)
-- @function ge

------------------------------------------------------------------------
-- Reductions (each also a tensor method)
-- @section reduce

--- The sum of all values, or along a dimension.
-- @param x a tensor
-- @param[opt] dim the dimension (all when absent)
-- @param[opt=false] keepdim keep the reduced dimension as size 1
-- @return a tensor (0-d without dim)
-- @raise when dim is out of range
-- @usage assert(ae.ones(2, 3):sum(2):totable()[1] == 3)
-- @function sum

--- The mean of all values, or along a dimension.
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @return a tensor
-- @usage assert(ae.arange(4):mean():item() == 1.5)
-- @function mean

--- The largest value: `max(x)` gives a number and its flat position (1-based);
-- `max(x, dim[, keepdim])` gives values and positions along dim, as `torch.max(x, dim)`.
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @return the values (a number without dim)
-- @return the 1-based positions
-- @usage local v, i = ae.tensor { 3, 9, 1 }:max(); assert(v == 9 and i == 2)
-- @function max

--- The smallest value; as `max`.
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @return the values (a number without dim)
-- @return the 1-based positions
-- @usage assert(ae.tensor { 3, 9, 1 }:min() == 1)
-- @function min

--- The 1-based position of the largest value (flat without dim, as `torch.argmax(x)`).
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @return positions (a tensor)
-- @usage assert(ae.tensor { { 1, 5 }, { 7, 2 } }:argmax(2):totable()[2] == 1)
-- @function argmax

--- The 1-based position of the smallest value; as `argmax`.
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @return positions (a tensor)
-- @usage assert(ae.tensor { 4, 0, 2 }:argmin():item() == 2)
-- @function argmin

--- The variance, with Bessel's correction by default (`{correction = 0}` or
-- `{unbiased = false}` for the population variance).
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @param[opt] opts `{correction = 1}` or `{unbiased = true}`
-- @return a tensor
-- @usage assert(ae.tensor { 1, 3 }:var():item() == 2)
-- @function var

--- The standard deviation; arguments as `var`.
-- @param x a tensor
-- @param[opt] dim the dimension
-- @param[opt=false] keepdim keep the reduced dimension
-- @param[opt] opts `{correction = 1}` or `{unbiased = true}`
-- @return a tensor
-- @usage assert(ae.tensor { 1, 3 }:std({ unbiased = false }):item() == 1)
-- @function std

--- How many values are NaN or infinite.
-- @param t a tensor
-- @return an integer
-- @usage assert(ae.count_nonfinite(ae.tensor { 1, 0 / 0, math.huge }) == 2)
-- @function count_nonfinite

------------------------------------------------------------------------
-- Shapes and products
-- @section shape

--- Tensors joined along an existing dimension.
-- @param tensors a list of tensors, equal in every other dimension
-- @param[opt=1] dim the dimension
-- @return a tensor
-- @raise when the list is empty or the shapes differ (naming them)
-- @usage assert(ae.cat({ ae.ones(2, 3), ae.zeros(1, 3) }):size(1) == 3)
-- @function cat

--- Tensors of one shape stacked along a new dimension.
-- @param tensors a list of tensors of the same shape
-- @param[opt=1] dim where the new dimension goes
-- @return a tensor
-- @raise when the list is empty or the shapes differ
-- @usage assert(ae.stack({ ae.ones(3), ae.zeros(3) }):size(1) == 2)
-- @function stack

--- Values taken along dim at 1-based positions (torch.gather); also `x:gather(dim, index)`.
-- @param x a tensor
-- @param dim the dimension
-- @param index a tensor of positions, the shape of the result
-- @return a tensor
-- @raise when a position is out of range
-- @usage assert(ae.gather(ae.tensor { { 1, 2 }, { 3, 4 } }, 2, ae.tensor { { 2 }, { 1 } }):sum():item() == 5)
-- @function gather

--- A copy with value where mask is non-zero; also `x:masked_fill(mask, value)`.
-- @param x a tensor
-- @param mask a tensor broadcastable to x
-- @param value a number
-- @return a tensor
-- @usage assert(ae.masked_fill(ae.zeros(3), ae.tensor { 1, 0, 1 }, 5):sum():item() == 10)
-- @function masked_fill

--- The values where mask is non-zero, as a 1-D tensor; also `x:masked_select(mask)`.
-- @param x a tensor
-- @param mask a tensor broadcastable to x
-- @return a 1-D tensor
-- @usage assert(ae.masked_select(ae.arange(4), ae.tensor { 0, 1, 0, 1 }):numel() == 2)
-- @function masked_select

--- The matrix product (2-D, or batched with broadcasting); transposed views go to BLAS as flags.
-- @param a a tensor ...×n×k
-- @param b a tensor ...×k×m
-- @return a tensor ...×n×m
-- @raise when the inner sizes differ (naming both shapes)
-- @usage assert(ae.matmul(ae.ones(2, 3), ae.ones(3, 4)):sum():item() == 24)
-- @function matmul

--- x·Wᵀ + b, PyTorch's `F.linear`.
-- @param x a tensor N×in
-- @param W a tensor out×in
-- @param[opt] b a tensor out
-- @return a tensor N×out
-- @usage assert(ae.linear(ae.ones(2, 3), ae.ones(4, 3), ae.zeros(4)):size(2) == 4)
-- @function linear

--- Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix.
-- @param a a symmetric n×n tensor
-- @return the values (n)
-- @return the vectors (n×n)
-- @usage local v = ae.eigh(ae.tensor { { 2, 0 }, { 0, 1 } }); assert(v:totable()[1] == 1)
-- @function eigh

------------------------------------------------------------------------
-- Layers as functions (what ae.nn's modules call)
-- @section functional

--- 2-D convolution, PyTorch's `F.conv2d` argument order; sizes are numbers or {h, w}.
-- @param x input N×C×H×W
-- @param w weight out×C×kh×kw
-- @param[opt] b bias (out)
-- @param[opt=1] stride
-- @param[opt=0] padding
-- @param[opt=false] relu fuse a ReLU into the output
-- @return a tensor
-- @raise when the channels or sizes do not fit (naming the shapes)
-- @usage assert(ae.conv2d(ae.ones(1, 1, 4, 4), ae.ones(2, 1, 3, 3)):size(4) == 2)
-- @function conv2d

--- Transposed 2-D convolution, PyTorch's `F.conv_transpose2d` order.
-- @param x input N×C×H×W
-- @param w weight C×out×kh×kw
-- @param[opt] b bias
-- @param[opt=1] stride
-- @param[opt=0] padding
-- @param[opt=0] output_padding
-- @param[opt=false] relu fuse a ReLU
-- @return a tensor
-- @usage assert(ae.conv_transpose2d(ae.ones(1, 1, 2, 2), ae.ones(1, 1, 3, 3)):size(3) == 4)
-- @function conv_transpose2d

--- 1-D convolution over N×C×L, PyTorch's `F.conv1d` argument order; sizes are integers or {n}.
-- The 2-D op at height 1 on the same data (its fast paths and fused ReLU); gradients in the 1-D shapes.
-- @param x input N×C×L
-- @param w weight out×C×k
-- @param[opt] b bias (out)
-- @param[opt=1] stride
-- @param[opt=0] padding
-- @param[opt=false] relu fuse a ReLU into the output
-- @return a tensor N×out×((L + 2·padding - k) // stride + 1)
-- @raise when the channels or sizes do not fit (naming the shapes)
-- @usage assert(ae.conv1d(ae.ones(2, 3, 10), ae.ones(4, 3, 5), nil, 2, 2):size(3) == 5)
-- @function conv1d

--- Transposed 1-D convolution, PyTorch's `F.conv_transpose1d` order.
-- @param x input N×C×L
-- @param w weight C×out×k
-- @param[opt] b bias
-- @param[opt=1] stride
-- @param[opt=0] padding
-- @param[opt=0] output_padding smaller than the stride
-- @param[opt=false] relu fuse a ReLU
-- @return a tensor N×out×((L - 1)·stride - 2·padding + k + output_padding)
-- @raise when the channels or sizes do not fit, or output_padding is not below the stride
-- @usage assert(ae.conv_transpose1d(ae.ones(2, 4, 5), ae.ones(4, 3, 5), nil, 2, 2, 1):size(3) == 10)
-- @function conv_transpose1d

--- Max pooling (stride defaults to the kernel size).
-- @param x input N×C×H×W
-- @param kernel_size a number or {h, w}
-- @param[opt] stride
-- @param[opt=0] padding
-- @return a tensor
-- @usage assert(ae.max_pool2d(ae.ones(1, 1, 4, 4), 2):size(3) == 2)
-- @function max_pool2d

--- Nearest-neighbour upsampling by an integer factor.
-- @param x input N×C×H×W
-- @param scale_factor a number or {h, w}
-- @return a tensor
-- @usage assert(ae.upsample_nearest(ae.ones(1, 1, 2, 2), 2):size(4) == 4)
-- @function upsample_nearest

--- Batch normalisation, PyTorch's `F.batch_norm`; any of the four per-channel tensors may be nil.
-- @param x input N×C or N×C×H×W
-- @param weight
-- @param bias
-- @param running_mean updated in training
-- @param running_var updated in training
-- @param[opt=false] training
-- @param[opt=0.1] momentum
-- @param[opt=1e-5] eps
-- @return a tensor
-- @usage assert(ae.batch_norm(ae.rand(4, 3), nil, nil, nil, nil, true):numel() == 12)
-- @function batch_norm

--- Dropout: zeroes values with probability p and scales the rest by 1/(1-p).
-- @param x a tensor
-- @param[opt=0.5] p
-- @param[opt=true] training when false, x itself comes back
-- @return a tensor
-- @usage assert(ae.dropout(ae.ones(3), 0.5, false):sum():item() == 3)
-- @function dropout

--- One direction of one LSTM layer over a batch of sequences, the time loop in C (what nn.LSTM calls per layer and direction).
-- PyTorch's gates (i, f, g, o) and weight layout; differentiable in every tensor argument.
-- @param x input T×B×I (B×T×I with batch_first)
-- @param h0 initial hidden state B×H, or nil for zeros
-- @param c0 initial cell state B×H, or nil for zeros
-- @param w_ih weight 4H×I
-- @param w_hh weight 4H×H
-- @param[opt] b_ih bias 4H (both biases or neither)
-- @param[opt] b_hh bias 4H
-- @param[opt] opts `{reverse = false, batch_first = false, lengths = nil}`: reverse runs from each
-- sequence's last valid step back; lengths (a list or 1-D tensor of B whole numbers in 1..T, any order)
-- leaves the output 0 and the state unchanged past each sequence's end
-- @return output T×B×H (B×T×H with batch_first)
-- @return h_n B×H, the state after each sequence's last step
-- @return c_n B×H
-- @raise when a shape does not fit (naming it) or a length is outside 1..T
-- @usage local y, h, c = ae.lstm(ae.rand(5, 2, 3), nil, nil, ae.rand(8, 3), ae.rand(8, 2), nil, nil, { lengths = { 5, 3 } })
-- assert(y:size(3) == 2 and h:size(1) == 2 and y[4][2]:abs():sum():item() == 0)
-- @function lstm

--- One direction of one GRU layer, as `lstm` with PyTorch's gates (r, z, n) and no cell state.
-- @param x input T×B×I (B×T×I with batch_first)
-- @param h0 initial state B×H, or nil for zeros
-- @param w_ih weight 3H×I
-- @param w_hh weight 3H×H
-- @param[opt] b_ih bias 3H
-- @param[opt] b_hh bias 3H
-- @param[opt] opts `{reverse = false, batch_first = false, lengths = nil}` as for `lstm`
-- @return output T×B×H (B×T×H with batch_first)
-- @return h_n B×H
-- @raise as `lstm`
-- @usage local y, h = ae.gru(ae.rand(4, 2, 3), nil, ae.rand(6, 3), ae.rand(6, 2), nil, nil, { reverse = true })
-- assert(y:size(1) == 4 and (h - y[1]):abs():max() == 0)
-- @function gru

--- μ + e^(logvar/2)·ε, differentiable in μ and logvar; logvar clamped to [-30, 20].
-- @param mu a tensor
-- @param logvar a tensor of mu's shape
-- @param[opt] eps the noise (drawn from the runtime's generator when absent)
-- @return a tensor
-- @usage assert(ae.reparameterize(ae.zeros(2), ae.zeros(2), ae.ones(2)):sum():item() == 2)
-- @function reparameterize

------------------------------------------------------------------------
-- Losses, KL terms, penalties and noise
-- @section terms

--- Mean squared error, `F.mse_loss`.
-- @param xhat a tensor
-- @param x a tensor of the same shape
-- @param[opt="mean"] reduction "mean", "sum" or "none"
-- @return a tensor (0-d unless "none")
-- @raise when the shapes differ or the reduction is unknown
-- @usage assert(ae.loss.mse(ae.ones(2), ae.zeros(2)):item() == 1)
-- @function loss.mse

--- Binary cross-entropy of probabilities, `F.binary_cross_entropy` (logs clamped at -100).
-- @param p probabilities in [0, 1]
-- @param x targets in [0, 1]
-- @param[opt="mean"] reduction "mean", "sum" or "none"
-- @return a tensor
-- @usage assert(ae.loss.bce(ae.full(2, 0.5), ae.ones(2)):item() > 0)
-- @function loss.bce

--- Binary cross-entropy of logits, stable for any logit.
-- @param z logits
-- @param x targets in [0, 1]
-- @param[opt="mean"] reduction "mean", "sum" or "none"
-- @return a tensor
-- @usage assert(math.abs(ae.loss.bce_logits(ae.zeros(1), ae.ones(1)):item() - math.log(2)) < 1e-6)
-- @function loss.bce_logits

--- Cross-entropy of logits N×K against class ids 0..K-1 (a float tensor N).
-- @param logits a tensor N×K
-- @param labels a tensor N of class ids
-- @param[opt="mean"] reduction "mean", "sum" or "none"
-- @return a tensor
-- @usage assert(math.abs(ae.loss.cross_entropy(ae.zeros(1, 4), ae.tensor { 2 }):item() - math.log(4)) < 1e-6)
-- @function loss.cross_entropy

--- KL(N(μ, e^logvar) ‖ N(0, I)) summed over the latent dimension.
-- @param mu a tensor N×D
-- @param logvar a tensor N×D (clamped to [-30, 20])
-- @param[opt="mean"] reduction "mean" (batch mean of the sums), "sum" or "none"
-- @return a tensor
-- @usage assert(ae.kl.normal(ae.zeros(2, 3), ae.zeros(2, 3)):item() == 0)
-- @function kl.normal

--- Σ_j KL(ρ ‖ ρ̂_j), ρ̂_j the batch mean of unit j (sigmoid units).
-- @param h activations N×D in (0, 1)
-- @param rho the target mean activation
-- @param[opt="mean"] reduction
-- @return a tensor
-- @usage assert(ae.kl.sparsity(ae.full(4, 3, 0.05), 0.05):item() < 1e-6)
-- @function kl.sparsity

--- (1/N)·Σ|z|: the L1 activity penalty (multiply by your λ).
-- @param z a tensor N×D
-- @return a tensor
-- @usage assert(ae.penalty.l1(ae.full(2, 3, -1)):item() == 3)
-- @function penalty.l1

--- ‖∂h/∂x‖²_F for h = sigmoid(x Wᵀ + b), averaged over the batch.
-- @param h the hidden sigmoid activations N×H
-- @param W the encoder weight H×D
-- @return a tensor
-- @usage assert(ae.penalty.contractive(ae.full(2, 3, 0.5), ae.ones(3, 4)):item() > 0)
-- @function penalty.contractive

--- x plus Gaussian noise of the given std (a copy, no graph).
-- @param x a tensor
-- @param std a number ≥ 0
-- @param[opt] opts `{clip = true}` clamps to [0, 1]
-- @return a tensor
-- @usage assert(ae.noise.gaussian(ae.zeros(5), 0):sum():item() == 0)
-- @function noise.gaussian

--- x with each value set to 0 with probability p.
-- @param x a tensor
-- @param p a probability
-- @return a tensor
-- @usage assert(ae.noise.masking(ae.ones(5), 1):sum():item() == 0)
-- @function noise.masking

--- x with each value set to 0 or 1 (even odds) with probability p.
-- @param x a tensor
-- @param p a probability
-- @return a tensor
-- @usage assert(ae.noise.salt_pepper(ae.full(5, 0.5), 0):sum():item() == 2.5)
-- @function noise.salt_pepper

------------------------------------------------------------------------
-- Autograd, randomness and anomalies
-- @section autograd

--- Runs f(...) without recording a graph; returns what f returns.
-- @param f a function
-- @param ... its arguments
-- @return f's results
-- @usage local x = ae.ones(2):requires_grad_(); assert(not ae.no_grad(function() return x * 2 end).requires_grad)
-- @function no_grad

--- Switches graph recording on or off for what follows.
-- @param on a boolean
-- @usage ae.set_grad_enabled(false); assert(not ae.is_grad_enabled()); ae.set_grad_enabled(true)
-- @function set_grad_enabled

--- Whether ops record a graph.
-- @return a boolean
-- @usage assert(ae.is_grad_enabled())
-- @function is_grad_enabled

--- Seeds the one runtime generator (rand, randn, shuffling, dropout, noise).
-- @param seed an integer
-- @usage ae.manual_seed(3); local a = ae.rand(2); ae.manual_seed(3); assert((ae.rand(2) - a):abs():sum():item() == 0)
-- @function manual_seed

--- The seed last given to manual_seed.
-- @return an integer
-- @usage ae.manual_seed(7); assert(ae.initial_seed() == 7)
-- @function initial_seed

--- The generator's state, as a string of bytes.
-- @return a string
-- @usage local s = ae.rng_state(); local a = ae.rand(1):item(); ae.set_rng_state(s); assert(ae.rand(1):item() == a)
-- @function rng_state

--- Restores a state rng_state returned.
-- @param s a string from rng_state
-- @raise when s is not such a state
-- @usage ae.set_rng_state(ae.rng_state())
-- @function set_rng_state

--- Switches NaN/inf detection on every op output and gradient on or off.
-- @param on a boolean
-- @usage ae.detect_anomaly(true); local _ = ae.tensor { -1 }:log(); assert(ae.anomaly()); ae.clear_anomaly(); ae.detect_anomaly(false)
-- @function detect_anomaly

--- A description of the first non-finite tensor seen since detection began (op, shape, count, first value, line), or nil.
-- @return a string or nil
-- @usage assert(ae.anomaly() == nil)
-- @function anomaly

--- Forgets the anomaly recorded.
-- @usage ae.clear_anomaly()
-- @function clear_anomaly

------------------------------------------------------------------------
-- Optimizer steps (what ae.optim calls; use ae.optim)
-- @section steps

--- One SGD update of p in place, PyTorch's rule.
-- @param p the parameter
-- @param grad its gradient
-- @param buf the momentum buffer or nil
-- @param lr
-- @param momentum
-- @param dampening
-- @param weight_decay
-- @param nesterov a boolean
-- @param first whether this is the buffer's first step
-- @usage local p = ae.ones(2); ae.sgd_step(p, ae.ones(2), nil, 0.5, 0, 0, 0, false, true); assert(p:sum():item() == 1)
-- @function sgd_step

--- One Adam (or AdamW, decoupled) update of p in place.
-- @param p
-- @param grad
-- @param exp_avg
-- @param exp_avg_sq
-- @param step the step number (from 1)
-- @param lr
-- @param beta1
-- @param beta2
-- @param eps
-- @param weight_decay
-- @param decoupled AdamW's decay when true
-- @usage local p = ae.ones(2); ae.adam_step(p, ae.ones(2), ae.zeros(2), ae.zeros(2), 1, 0.1, 0.9, 0.999, 1e-8, 0, false); assert(p:sum():item() < 2)
-- @function adam_step

--- One Adam step for every parameter of a list that has a gradient, in one pass.
-- @param params a list of parameters
-- @param state a table; state[i] becomes {step =, exp_avg =, exp_avg_sq =}
-- @param lr
-- @param beta1
-- @param beta2
-- @param eps
-- @param weight_decay
-- @param decoupled
-- @usage local p = ae.ones(2):requires_grad_(); p:sum():backward(); local st = {}; ae.adam_step_all({ p }, st, 0.1, 0.9, 0.999, 1e-8, 0, false); assert(st[1].step)
-- @function adam_step_all

--- One RMSprop update of p in place.
-- @param p
-- @param grad
-- @param square_avg
-- @param grad_avg or nil
-- @param momentum_buffer or nil
-- @param lr
-- @param alpha
-- @param eps
-- @param weight_decay
-- @param momentum
-- @param centered
-- @usage local p = ae.ones(2); ae.rmsprop_step(p, ae.ones(2), ae.zeros(2), nil, nil, 0.01, 0.99, 1e-8, 0, 0, false); assert(p:sum():item() < 2)
-- @function rmsprop_step

--- The p-norm of a tensor's values (p = math.huge for the max).
-- @param t a tensor
-- @param p a number
-- @return a number
-- @usage assert(ae.grad_norm(ae.full(4, 1), 2) == 2)
-- @function grad_norm

--- t *= s in place (a gradient, outside the graph).
-- @param t a tensor
-- @param s a number
-- @usage local g = ae.ones(2); ae.grad_scale_(g, 3); assert(g:sum():item() == 6)
-- @function grad_scale_

------------------------------------------------------------------------
-- Files and data sets at the C level (ae.data, ae.h5 and ae.image build on these)
-- @section files

--- An IDX file (plain or gzip) as a tensor.
-- @param path
-- @return a tensor in the file's shape
-- @raise when the file is not IDX or is truncated (naming it)
-- @usage local x = ae.idx_read("data/mnist/t10k-labels-idx1-ubyte"); assert(x:numel() == 10000)
-- @function idx_read

--- A .npy file as a tensor (numpy's astype(float32)).
-- @param path
-- @return a tensor
-- @raise on Fortran order, object or complex dtypes, truncation (naming the file)
-- @usage assert(not pcall(ae.npy_read, "missing.npy"))
-- @function npy_read

--- An .npz archive: one array by name, or all of them in a table.
-- @param path
-- @param[opt] name
-- @return a tensor, or {name = tensor}
-- @usage assert(not pcall(ae.npz_read, "missing.npz"))
-- @function npz_read

--- The array names of an .npz, without reading them.
-- @param path
-- @return a list of names
-- @usage assert(not pcall(ae.npz_names, "missing.npz"))
-- @function npz_names

--- A numeric CSV file: samples, labels, column names, label name.
-- @param path
-- @param[opt] opts `{header =, label =, delimiter =}`
-- @return x, y, names, label
-- @usage local f = io.open("t.csv", "w"); f:write("a,b\n1,2\n3,4\n"); f:close(); assert(ae.csv_read("t.csv"):size(1) == 2)
-- @function csv_read

--- A PNG file as a C×H×W tensor in [0, 1].
-- @param path
-- @return a tensor
-- @usage ae.image.save("p.png", ae.ones(1, 2, 2)); assert(ae.png_read("p.png"):size(2) == 2)
-- @function png_read

--- Writes a C×H×W tensor in [0, 1] as a JPEG.
-- @param path
-- @param image a tensor
-- @param[opt=90] quality 1..100
-- @usage ae.jpeg_write("p.jpg", ae.ones(3, 8, 8))
-- @function jpeg_write

--- A folder of images: x, y, class names, file names, skipped files (what ae.data.images uses).
-- @param dir
-- @param[opt] opts
-- @return x, y, classes, files, skipped
-- @usage assert(not pcall(ae.image_folder, "no such dir"))
-- @function image_folder

--- A data set from IDX images and labels (what ae.data.idx uses).
-- @param images path
-- @param[opt] labels path
-- @param[opt] name
-- @return a Dataset
-- @usage assert(#ae.dataset_open("data/mnist/t10k-images-idx3-ubyte", "data/mnist/t10k-labels-idx1-ubyte", "t") == 10000)
-- @function dataset_open

--- A data set from tensors (what ae.data.tensor uses).
-- @param x a tensor N×...
-- @param[opt] y integer labels N
-- @param[opt="tensor"] name
-- @return a Dataset
-- @raise when N is 0 or x and y differ in length
-- @usage assert(#ae.dataset_tensor(ae.rand(5, 2)) == 5)
-- @function dataset_tensor

--- A data set from HDF5 datasets (what ae.data.h5 uses).
-- @param path
-- @param x dataset name
-- @param y labels dataset name or nil
-- @param scale or nil
-- @param stream or nil
-- @param window or nil
-- @param name or nil
-- @return a Dataset
-- @usage assert(not pcall(ae.dataset_h5, "missing.h5", "x"))
-- @function dataset_h5

--- Splits a data set into parts of the given counts, drawn at random.
-- @param ds a Dataset
-- @param counts {n1, n2, ...}
-- @param[opt] seed
-- @return a list of Datasets
-- @usage assert(#ae.dataset_split(ae.dataset_tensor(ae.rand(10, 2)), { 7, 3 }, 1)[2] == 3)
-- @function dataset_split

--- Per-feature mean and (population) std of a data set, sample-shaped.
-- @param ds a Dataset
-- @return mean, std
-- @usage local m = ae.dataset_moments(ae.dataset_tensor(ae.ones(4, 2))); assert(m:sum():item() == 2)
-- @function dataset_moments

--- Whether v is a Dataset.
-- @param v any value
-- @return a boolean
-- @usage assert(not ae.is_dataset({}))
-- @function is_dataset

--- Opens an HDF5 file (ae.h5.open checks the arguments first).
-- @param path
-- @param mode "r", "w" or "a"
-- @param[opt=false] atomic
-- @return an H5File
-- @usage assert(not pcall(ae.h5_open, "missing.h5", "r"))
-- @function h5_open

--- How many HDF5 files and objects are open in the process.
-- @return an integer
-- @usage assert(ae.h5_open_objects() >= 0)
-- @function h5_open_objects

--- A blank RGB (or grey) canvas to lay images out on (what ae.image's grids use).
-- @param width
-- @param height
-- @param[opt=3] channels 1 or 3
-- @param[opt] background a colour: a number 0..255, {r, g, b} or "#rrggbb"
-- @return a Canvas
-- @usage local c = ae.canvas(10, 5); assert(select(2, c:size()) == 5)
-- @function canvas

--- Draws a plot with cairo and writes it as a PNG: the C under
-- ae.image.plot, which checks the spec first (see docs/images.md).
-- @param path a .png
-- @param spec `{width, height, cols, title, panels = {{title, xlabel, ylabel, log, legend, xlim, ylim,
--   series = {{name, x, y, color, style = "line"|"points", size}, ...}}, ...}}`
-- @return each panel's `{box = {x0, y0, x1, y1}, xlim = {lo, hi}, ylim = {lo, hi}, log}`
-- @usage local l = ae.plot("p.png", { panels = { { series = { { y = { 1, 2 } } } } } }); assert(#l == 1)
-- @function plot

------------------------------------------------------------------------
-- The system, signals, profiling and the GEMM
-- @section system

--- Wall-clock seconds (monotonic), a float.
-- @return a number
-- @usage assert(ae.time() > 0)
-- @function time

--- Creates a directory and its missing parents.
-- @param path
-- @return true, or nil and a message
-- @usage assert(ae.mkdir_p("a/b/c"))
-- @function mkdir_p

--- Makes a symbolic link.
-- @param target
-- @param path
-- @return true, or nil and a message
-- @usage assert(ae.symlink("target", "link"))
-- @function symlink

--- The process id.
-- @return an integer
-- @usage assert(ae.getpid() > 0)
-- @function getpid

--- Whether a file descriptor is a terminal.
-- @param[opt=1] fd a file descriptor (1 is stdout)
-- @return a boolean
-- @usage assert(ae.isatty(0) == false)
-- @function isatty

--- Bytes in live tensors and in the buffer pool.
-- @return live bytes, pooled bytes
-- @usage assert(ae.memory() >= 0)
-- @function memory

--- A folder's entries (not . and ..), symbolic links followed, in no particular order.
-- @param path a folder
-- @return a list of `{name =, kind = "f"|"d"|"o", mtime =}`, or nil and a message
-- @usage ae.mkdir_p("listed/sub"); assert(ae.list_dir("listed")[1].kind == "d")
-- @function list_dir

--- Traps SIGINT and SIGTERM (runs stop cleanly at the next step) or restores them.
-- @param on a boolean
-- @return whether signals were trapped before
-- @usage local was = ae.trap_signals(true); assert(not ae.interrupted()); ae.trap_signals(was)
-- @function trap_signals

--- The signal caught since trap_signals(true), or nil.
-- @return a signal name or nil
-- @usage assert(not ae.interrupted())
-- @function interrupted

--- Time spent per op family, or nil when profiling is off.
-- Profiling is on under `aerun --profile` or with AERUN_PROFILE=1.
-- @return {total =, gemm =, conv =, ..., calls = {...}} or nil
-- @usage local p = ae.profile(); assert(p == nil or p.total)
-- @function profile

--- Clears the profile's counters.
-- @usage ae.profile_reset()
-- @function profile_reset

--- The profile as a printable report (nil when off).
-- @return a string or nil
-- @usage local r = ae.profile_report(); assert(r == nil or type(r) == "string")
-- @function profile_report

--- Floating-point operations done by the GEMM so far.
-- @return a number
-- @usage local _ = ae.matmul(ae.ones(2, 2), ae.ones(2, 2)); assert(ae.gemm_flops() > 0)
-- @function gemm_flops

--- The GEMM's name (BLAS library or built-in).
-- @return a string
-- @usage assert(type(ae.gemm_backend()) == "string")
-- @function gemm_backend

--- The GEMM's thread count; with an argument, sets it.
-- @param[opt] n threads
-- @return an integer
-- @usage assert(ae.gemm_threads() >= 1)
-- @function gemm_threads

--- The denormal mode of every thread that computes: "flush" (the
-- default: subnormal floats are read and written as zero, the CPU's FTZ and
-- DAZ flags, as `torch.set_flush_denormal(True)`) or "keep" (IEEE
-- subnormals, with `AERUN_DENORMALS=keep` in the environment).  Set once at
-- start-up; see docs/performance.md for why it is the default.
-- @return "flush" or "keep"
-- @usage assert(ae.denormals() == "flush" or ae.denormals() == "keep")
-- @function denormals

--- Runs a short parallel job and checks each thread that took part for the
-- denormal mode's flags (what the tests use).
-- @return threads that took part, how many had other flags
-- @usage local n, wrong = ae.denormals_threads(); assert(n >= 1 and wrong == 0)
-- @function denormals_threads

--- The precision of matrix products and convolutions; with an argument,
-- sets it for what follows.  "bf16" is PyTorch's CPU autocast: both
-- operands rounded to bf16, products accumulated and results kept in fp32,
-- on oneDNN's AVX512-BF16 or AMX kernels.  Everything else (activations,
-- losses, KL, reductions, the optimizer, checkpoints) stays fp32, and the
-- backward of a product made in bf16 is made in bf16.  On a CPU without
-- bf16 units (or without oneDNN) "bf16" runs fp32 and says so once.
-- @param[opt] precision "fp32" or "bf16"
-- @return the precision before the call
-- @raise for another name
-- @usage local was = ae.precision("bf16"); ae.precision(was); assert(ae.precision() == was)
-- @function precision

--- Calls `f(...)` with the products in the given precision, then restores
-- the previous one (also when f raises).
-- @param precision "fp32" or "bf16"
-- @param f a function
-- @param ... its arguments
-- @return what f returns
-- @usage local y = ae.autocast("bf16", ae.matmul, ae.ones(2, 3), ae.ones(3, 2)); assert(y[1][1]:item() == 3)
-- @function autocast

--- x's values rounded to bf16 (to nearest, ties to even), as float32: what
-- `x.bfloat16().float()` gives in PyTorch.  No graph.
-- @param x a tensor
-- @return a new tensor
-- @usage assert(ae.round_bf16(ae.full({1}, 1 + 2^-9)):item() == 1)
-- @function round_bf16

--- A tensor from float32 bytes in the machine's order, row-major (as
-- numpy's `frombuffer`); the bits are copied, never converted.
-- @param bytes a string of 4·n bytes
-- @param ... the shape, or one table of sizes
-- @return a tensor
-- @raise when the length does not fit the shape
-- @usage assert(ae.frombytes(string.pack("<f", 1.5), 1):item() == 1.5)
-- @function frombytes

--- GFLOP/s of C = A·B on random data of the given shape.
-- @param m
-- @param n
-- @param k
-- @param[opt=0.5] seconds
-- @return a number
-- @usage assert(ae.bench_gemm(8, 8, 8, 0.01) > 0)
-- @function bench_gemm

--- float32 tensors, row-major; views share storage.  Every tensor function
-- of `ae` is also a method (`x:exp()`, `x:sum(1)`); `x.grad`,
-- `x.requires_grad` and `x.is_leaf` are fields; `x[i]` is row i (a view).
-- @type Tensor

--- The sizes.
-- @return a table of sizes
-- @usage assert(ae.zeros(2, 3):shape()[2] == 3)
-- @function Tensor:shape

--- The values as float32 bytes in the machine's order, row-major (numpy's
-- `tobytes()`); the bits are copied, so subnormals and NaN payloads survive.
-- @return a string of 4·numel bytes
-- @usage assert(#ae.zeros(2, 3):tobytes() == 24)
-- @function Tensor:tobytes

--- The size of one dimension (negative from the end).
-- @param dim
-- @return an integer
-- @raise when dim is out of range
-- @usage assert(ae.zeros(2, 3):size(-1) == 3)
-- @function Tensor:size

--- The number of dimensions.
-- @return an integer
-- @usage assert(ae.zeros(2, 3):dim() == 2)
-- @function Tensor:dim

--- The number of values.
-- @return an integer
-- @usage assert(ae.zeros(2, 3):numel() == 6)
-- @function Tensor:numel

--- The one value of a one-element tensor, as a number.
-- @return a number
-- @raise when the tensor has more than one value
-- @usage assert(ae.full(1, 2):item() == 2)
-- @function Tensor:item

--- The values as nested Lua tables.
-- @return a table (a number for 0-d)
-- @usage assert(ae.ones(2, 2):totable()[2][1] == 1)
-- @function Tensor:totable

--- One line: the first values, the shape and the autograd state.
-- @return a string
-- @usage assert(ae.zeros(3):summary():find("3"))
-- @function Tensor:summary

--- Whether the values are laid out row-major without gaps.
-- @return a boolean
-- @usage assert(not ae.zeros(2, 3):t():is_contiguous())
-- @function Tensor:is_contiguous

--- A view with another shape (one size may be -1).
-- @param ... sizes or one table
-- @return a tensor
-- @raise when the count differs
-- @usage assert(ae.zeros(6):reshape(-1, 3):size(1) == 2)
-- @function Tensor:reshape

--- The transpose of a 2-D tensor (a view).
-- @return a tensor
-- @usage assert(ae.zeros(2, 3):t():size(1) == 3)
-- @function Tensor:t

--- Two dimensions swapped (a view).
-- @param d1
-- @param d2
-- @return a tensor
-- @usage assert(ae.zeros(2, 3, 4):transpose(1, 3):size(1) == 4)
-- @function Tensor:transpose

--- The dimensions in a new order (a view).
-- @param ... the dimensions
-- @return a tensor
-- @usage assert(ae.zeros(2, 3, 4):permute(3, 1, 2):size(1) == 4)
-- @function Tensor:permute

--- length entries from start along dim (a view).
-- @param dim
-- @param start 1-based
-- @param length
-- @return a tensor
-- @usage assert(ae.arange(6):narrow(1, 2, 3):sum():item() == 6)
-- @function Tensor:narrow

--- The slice at position i of dim, without that dimension (a view).
-- @param dim
-- @param i 1-based
-- @return a tensor
-- @usage assert(ae.ones(2, 3):select(1, 2):numel() == 3)
-- @function Tensor:select

--- Size-1 dimensions removed (all, or one).
-- @param[opt] dim
-- @return a tensor
-- @usage assert(ae.zeros(1, 3, 1):squeeze():dim() == 1)
-- @function Tensor:squeeze

--- A size-1 dimension inserted at dim.
-- @param dim
-- @return a tensor
-- @usage assert(ae.zeros(3):unsqueeze(1):size(1) == 1)
-- @function Tensor:unsqueeze

--- A copy with the values reversed along the given dimensions.
-- @param ... dimensions
-- @return a tensor
-- @usage assert(ae.arange(3):flip(1):totable()[1] == 2)
-- @function Tensor:flip

--- A copy of the entries at 1-based positions along dim.
-- @param dim
-- @param idx a list or 1-D tensor of positions
-- @return a tensor
-- @usage assert(ae.arange(5):index_select(1, { 5, 1 }):totable()[1] == 4)
-- @function Tensor:index_select

--- A contiguous copy (the tensor itself when already contiguous).
-- @return a tensor
-- @usage assert(ae.zeros(2, 3):t():contiguous():is_contiguous())
-- @function Tensor:contiguous

--- The same values outside the graph (shares storage).
-- @return a tensor
-- @usage assert(not (ae.ones(2):requires_grad_() * 2):detach().requires_grad)
-- @function Tensor:detach

--- A copy, recorded in the graph.
-- @return a tensor
-- @usage local x = ae.ones(2); local y = x:clone(); y:fill_(3); assert(x:sum():item() == 2)
-- @function Tensor:clone

--- Copies y's values into this tensor in place.
-- @param y a tensor broadcastable to this one
-- @return the tensor
-- @raise on graph results while grad is on
-- @usage local x = ae.zeros(2); x:copy_(ae.ones(2)); assert(x:sum():item() == 2)
-- @function Tensor:copy_

--- Sets every value in place.
-- @param v a number
-- @return the tensor
-- @usage assert(ae.zeros(3):fill_(2):sum():item() == 6)
-- @function Tensor:fill_

--- Sets every value to 0 in place.
-- @return the tensor
-- @usage assert(ae.ones(3):zero_():sum():item() == 0)
-- @function Tensor:zero_

--- Marks a leaf as requiring gradients.
-- @param[opt=true] on
-- @return the tensor
-- @usage assert(ae.ones(2):requires_grad_().requires_grad)
-- @function Tensor:requires_grad_

--- Backpropagates from this tensor into the `.grad` of every leaf; the graph is freed after.
-- @param[opt] g the gradient of the output (needed unless it has one value)
-- @raise on a second backward through the same graph
-- @usage local x = ae.ones(3):requires_grad_(); (x * 2):sum():backward(); assert(x.grad:sum():item() == 6)
-- @function Tensor:backward
