/* rnn.h: the recurrent layers' op, one direction of one layer of an LSTM
 * or a GRU over a whole batch of sequences in one call, with PyTorch's
 * gates, formulas and parameter layout:
 *
 *   LSTM (gates i, f, g, o):  c' = f·c + i·g          h' = o·tanh(c')
 *   GRU  (gates r, z, n):     n = tanh(W_in x + b_in + r·(W_hn h + b_hn))
 *                             h' = (1 - z)·n + z·h
 *
 * The input projections of every step are one GEMM; each step is then one
 * GEMM of the batch's states by W_hhᵀ and a pass over the gates.  The
 * backward through time keeps the states and gate activations per step.
 *
 * Variable lengths, as PyTorch's pack_padded_sequence /
 * pad_packed_sequence give them: element b runs lengths[b] steps (1 ≤
 * lengths[b] ≤ T, in any order); its output is 0 at the later times and
 * its state stays as it was, so h_n (and c_n) are the state after its last
 * valid step.  The reverse direction starts at each sequence's own last
 * valid step. */
#ifndef AE_OPS_RNN_H
#define AE_OPS_RNN_H

#include "core/tensor.h"

typedef enum { AE_RNN_LSTM, AE_RNN_GRU } ae_rnn_cell;

typedef struct {
    ae_tensor *output; /* T×B×H (B×T×H when batch_first) */
    ae_tensor *h_n;    /* B×H */
    ae_tensor *c_n;    /* B×H for the LSTM, NULL for the GRU */
} ae_rnn_result;

/* x: T×B×I (B×T×I when batch_first); h0, c0: B×H or NULL for zeros (c0
 * only for the LSTM); w_ih: G·H×I, w_hh: G·H×H, b_ih, b_hh: G·H or both
 * NULL, where G is 4 (LSTM) or 3 (GRU); lengths: B integers, or NULL for
 * all T.  Fills *out (three new references) and returns 0, or returns -1
 * with ae_error set and *out cleared. */
int ae_rnn(ae_rnn_cell cell, ae_tensor *x, ae_tensor *h0, ae_tensor *c0, ae_tensor *w_ih, ae_tensor *w_hh,
           ae_tensor *b_ih, ae_tensor *b_hh, const int64_t *lengths, bool reverse, bool batch_first,
           ae_rnn_result *out);

#endif
