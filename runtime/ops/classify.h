/* classify.h: what a classifier on top of codes and a PCA baseline
 * need: log-softmax, cross-entropy against class labels and the
 * eigen-decomposition of a symmetric matrix (through LAPACK's dsyevd,
 * which OpenBLAS ships).  Results are new tensors (one reference) or NULL
 * with ae_error() set; dimensions are 0-based. */
#ifndef AE_OPS_CLASSIFY_H
#define AE_OPS_CLASSIFY_H

#include "shape.h"
#include "binary.h"
#include "unary.h"
#include "compare.h"
#include "reduce.h"
#include "matmul.h"
#include "loss.h"

/* log(softmax(x)) over the last dimension, computed stably (max subtracted) */
ae_tensor *ae_log_softmax(ae_tensor *x);

/* -log softmax(logits)[label] per row, PyTorch's F.cross_entropy with class
 * indices: logits N×K, labels N holding class ids 0..K-1 (as floats, the
 * way data sets give them); no gradient flows to the labels */
ae_tensor *ae_cross_entropy(ae_tensor *logits, ae_tensor *labels, ae_reduction r);

/* eigenvalues (ascending, n) and eigenvectors (n×n, one per column) of the
 * symmetric n×n matrix a, as torch.linalg.eigh; only its lower triangle is
 * read.  Computed in double precision; no gradient. */
int ae_eigh(ae_tensor *a, ae_tensor **values, ae_tensor **vectors);

#endif
