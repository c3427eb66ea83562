/* npy.c: the .npy reader; see npy.h.
 * The header is a Python literal: it is parsed by a small recursive-descent
 * parser that accepts what numpy writes (any key order, either quote,
 * trailing commas, Python 2's "3L") and refuses anything else by name.  The
 * header is trusted only after the data it announces has been checked
 * against the bytes the source holds, so a corrupt shape gives a message,
 * not a huge allocation or a tensor with garbage in it. */
#include "npy.h"
#include "core/error.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* elements converted per pass through the staging buffer */
#define CHUNK ((size_t)1 << 16)

typedef struct {
    char descr[24]; /* as written, for messages */
    char kind;      /* 'b' bool, 'u', 'i', 'f' */
    int size;       /* bytes per element */
    bool swap;      /* the file's byte order is not the host's */
    bool fortran;
    int ndim;
    int64_t shape[AE_MAX_DIMS];
    uint64_t count, bytes;
} header;

/* the header's text and a position in it */
typedef struct {
    const char *s;
    size_t pos, n;
    const char *what;
} parser;

static bool host_is_little(void)
{
    const uint16_t probe = 1;
    return *(const unsigned char *)&probe == 1;
}

/* "(3, 4)", "(3,)", "()" as numpy prints shapes; buf holds AE_SHAPE_STR */
static const char *shape_str(int ndim, const int64_t *shape, char *buf)
{
    size_t n = 0;
    n += (size_t)snprintf(buf, AE_SHAPE_STR, "(");
    for (int i = 0; i < ndim && n < AE_SHAPE_STR; i++)
        n += (size_t)snprintf(buf + n, AE_SHAPE_STR - n, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (n < AE_SHAPE_STR) snprintf(buf + n, AE_SHAPE_STR - n, ndim == 1 ? ",)" : ")");
    return buf;
}

/* n bytes unless the source ends first: the count read, or -1 */
static int64_t read_full(const ae_npy_source *src, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int64_t r = src->read(src->ctx, (unsigned char *)buf + got, n - got);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

/* ---- the header's dict ---- */

static int syntax(const parser *p, const char *expected)
{
    /* the text at the error, printable characters only, at most 20 */
    char near[24];
    size_t k = 0;
    for (size_t i = p->pos; i < p->n && k < 20; i++) near[k++] = p->s[i] >= 32 && p->s[i] < 127 ? p->s[i] : '?';
    near[k] = 0;
    return ae_failc("%s: corrupt header: expected %s at byte %zu of the header's dict, found '%s'", p->what, expected,
                    p->pos, k ? near : "the end");
}

static void skip_space(parser *p)
{
    while (p->pos < p->n &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool accept(parser *p, char c)
{
    skip_space(p);
    if (p->pos < p->n && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

/* a quoted string into out (cut to cap - 1 characters) */
static int parse_string(parser *p, char *out, size_t cap)
{
    skip_space(p);
    if (p->pos >= p->n || (p->s[p->pos] != '\'' && p->s[p->pos] != '"')) return syntax(p, "a quoted string");
    char q = p->s[p->pos++];
    size_t k = 0;
    while (p->pos < p->n && p->s[p->pos] != q) {
        if (p->s[p->pos] == '\\' && p->pos + 1 < p->n) p->pos++;
        if (k + 1 < cap) out[k++] = p->s[p->pos];
        p->pos++;
    }
    out[k] = 0;
    if (p->pos >= p->n) return syntax(p, "the string's closing quote");
    p->pos++;
    return 0;
}

static int parse_shape(parser *p, header *h)
{
    if (!accept(p, '(')) return syntax(p, "the shape, a tuple such as (3, 4)");
    int ndim = 0;
    for (;;) {
        skip_space(p);
        if (accept(p, ')')) break;
        if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9') return syntax(p, "a dimension (an integer)");
        int64_t v = 0;
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return ae_failc("%s: corrupt header: a dimension of the shape is larger than 2^63", p->what);
            v = v * 10 + (p->s[p->pos++] - '0');
        }
        if (p->pos < p->n && p->s[p->pos] == 'L') p->pos++; /* Python 2's long */
        if (ndim == AE_MAX_DIMS)
            return ae_failc("%s: the array has more than %d dimensions, the most a tensor can have", p->what,
                            AE_MAX_DIMS);
        h->shape[ndim++] = v;
        if (!accept(p, ',')) {
            if (!accept(p, ')')) return syntax(p, "',' or ')' in the shape");
            break;
        }
    }
    h->ndim = ndim;
    return 0;
}

static int parse_bool(parser *p, bool *out)
{
    skip_space(p);
    if (p->n - p->pos >= 4 && !strncmp(p->s + p->pos, "True", 4)) {
        p->pos += 4;
        *out = true;
    } else if (p->n - p->pos >= 5 && !strncmp(p->s + p->pos, "False", 5)) {
        p->pos += 5;
        *out = false;
    } else {
        return syntax(p, "True or False");
    }
    return 0;
}

/* the dtype string: byte order, kind, size */
static int parse_descr(const parser *p, header *h)
{
    const char *d = h->descr;
    char order = 0;
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=') order = *d++;
    char kind = *d ? *d++ : 0;
    char *end;
    long size = *d >= '0' && *d <= '9' ? strtol(d, &end, 10) : 0;
    const char *why = NULL;
    switch (kind) {
    case 'O':
        why = "it is an object array (dtype object, pickled Python objects): save a numeric array instead, "
              "e.g. np.save(path, a.astype(np.float32))";
        break;
    case 'c': why = "complex numbers are not supported: save a.real, a.imag or np.abs(a)"; break;
    case 'U':
    case 'S':
    case 'a': why = "it holds strings, not numbers"; break;
    case 'M':
    case 'm': why = "datetimes and timedeltas are not supported: save a.astype(np.int64) or a float array"; break;
    case 'V': why = "it is a structured or raw (void) dtype: save each field as an array of its own"; break;
    case 'b':
    case 'u':
    case 'i':
    case 'f': break;
    default: why = "it is not a NumPy dtype this reader knows"; break;
    }
    if (!why && (size <= 0 || *end)) why = "the element size is missing or not a number";
    if (!why && kind == 'b' && size != 1) why = "a bool has 1 byte";
    if (!why && (kind == 'u' || kind == 'i') && size != 1 && size != 2 && size != 4 && size != 8)
        why = "integers have 1, 2, 4 or 8 bytes";
    if (!why && kind == 'f' && size > 8)
        why = "extended precision (long double) is not supported: save a.astype(np.float64)";
    if (!why && kind == 'f' && size != 2 && size != 4 && size != 8) why = "floats have 2, 4 or 8 bytes";
    if (!why && size > 1 && (order == '|' || order == 0))
        why = "a type wider than one byte needs the byte order '<' or '>'";
    if (why) return ae_failc("%s: dtype '%s' cannot be read: %s", p->what, h->descr, why);
    h->kind = kind;
    h->size = (int)size;
    h->swap = size > 1 && ((order == '<' && !host_is_little()) || (order == '>' && host_is_little()));
    return 0;
}

static int parse_dict(parser *p, header *h)
{
    bool seen_descr = false, seen_order = false, seen_shape = false;
    if (!accept(p, '{')) return syntax(p, "'{' (the header is a Python dict)");
    while (!accept(p, '}')) {
        char key[32];
        if (parse_string(p, key, sizeof key) < 0) return -1;
        if (!accept(p, ':')) return syntax(p, "':' after a key");
        if (!strcmp(key, "descr") && !seen_descr) {
            seen_descr = true;
            skip_space(p);
            if (p->pos < p->n && p->s[p->pos] == '[')
                return ae_failc("%s: the array has a structured dtype (fields with names); only plain numeric "
                                "arrays can be read: save each field as an array of its own",
                                p->what);
            if (parse_string(p, h->descr, sizeof h->descr) < 0) return -1;
        } else if (!strcmp(key, "fortran_order") && !seen_order) {
            seen_order = true;
            if (parse_bool(p, &h->fortran) < 0) return -1;
        } else if (!strcmp(key, "shape") && !seen_shape) {
            seen_shape = true;
            if (parse_shape(p, h) < 0) return -1;
        } else if (!strcmp(key, "descr") || !strcmp(key, "fortran_order") || !strcmp(key, "shape")) {
            return ae_failc("%s: corrupt header: the key '%s' appears twice", p->what, key);
        } else {
            return ae_failc("%s: corrupt header: unexpected key '%s' (a .npy header has 'descr', 'fortran_order' "
                            "and 'shape')",
                            p->what, key);
        }
        if (!accept(p, ',')) {
            if (!accept(p, '}')) return syntax(p, "',' or '}'");
            break;
        }
    }
    skip_space(p);
    while (p->pos < p->n && p->s[p->pos] == 0) p->pos++; /* some writers pad with NULs */
    if (p->pos < p->n) return syntax(p, "the end of the header after the dict");
    if (!seen_descr || !seen_order || !seen_shape)
        return ae_failc("%s: corrupt header: the key '%s' is missing", p->what,
                        !seen_descr   ? "descr"
                        : !seen_order ? "fortran_order"
                                      : "shape");
    return 0;
}

/* the magic, version and dict; returns the header's size in bytes or -1 */
static int64_t read_header(const ae_npy_source *src, header *h)
{
    unsigned char pre[12];
    int64_t got = read_full(src, pre, 10);
    if (got < 0) return -1;
    if (got >= 4 && !memcmp(pre, "PK\3\4", 4))
        return ae_failc("%s is not a .npy file: it is a zip archive (an .npz? read it with npz_read)", src->what);
    if (got < 6 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return ae_failc("%s is not a .npy file: it does not begin with NumPy's magic \\x93NUMPY", src->what);
    if (got < 10)
        return ae_failc("%s is truncated: it has %lld bytes, fewer than the 10 of a .npy preamble", src->what,
                        (long long)got);
    int major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return ae_failc("%s: .npy format version %d.%d is not supported (1.0, 2.0 and 3.0 are)", src->what, major,
                        minor);
    uint32_t len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    int64_t pre_len = 10;
    if (major > 1) {
        got = read_full(src, pre + 10, 2);
        if (got < 0) return -1;
        if (got < 2)
            return ae_failc("%s is truncated: it ends inside the .npy %d.0 preamble of 12 bytes", src->what, major);
        len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
        pre_len = 12;
    }
    if (len > AE_NPY_MAX_HEADER)
        return ae_failc("%s: corrupt header: it claims %lu bytes, more than the %lu a .npy header may have", src->what,
                        (unsigned long)len, (unsigned long)AE_NPY_MAX_HEADER);
    if (src->size >= 0 && (int64_t)len > src->size - pre_len)
        return ae_failc("%s is truncated: its header claims %lu bytes, the file has %lld after the preamble", src->what,
                        (unsigned long)len, (long long)(src->size - pre_len));
    char *text = malloc(len + 1);
    if (!text) return ae_failc("%s: out of memory for the header", src->what);
    got = read_full(src, text, len);
    if (got < 0 || (uint32_t)got < len) {
        free(text);
        if (got < 0) return -1;
        return ae_failc("%s is truncated: it ends inside the header (%lld of %lu bytes)", src->what, (long long)got,
                        (unsigned long)len);
    }
    text[len] = 0;
    parser p = {text, 0, len, src->what};
    int rc = parse_dict(&p, h);
    free(text);
    if (rc < 0 || parse_descr(&p, h) < 0) return -1;
    return pre_len + len;
}

/* ---- the data ---- */

static float half_to_float(uint16_t v)
{
    uint32_t sign = (uint32_t)(v >> 15) << 31, exp = (v >> 10) & 0x1f, mant = v & 0x3ff, bits;
    if (exp == 0x1f) bits = sign | 0x7f800000u | mant << 13; /* inf, NaN */
    else if (exp) bits = sign | (exp + 112) << 23 | mant << 13;
    else {
        /* zero and subnormals: mant * 2^-24, exact in float32 */
        float f = (float)mant * 0x1p-24f;
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static void swap_bytes(unsigned char *p, size_t n, int size)
{
    for (size_t i = 0; i < n; i++, p += size)
        for (int a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* "(2, 5)", the numpy index of flat position i */
static const char *index_str(const header *h, uint64_t i, char *buf)
{
    int64_t idx[AE_MAX_DIMS];
    for (int d = h->ndim - 1; d >= 0; d--) {
        idx[d] = (int64_t)(i % (uint64_t)h->shape[d]);
        i /= (uint64_t)h->shape[d];
    }
    return shape_str(h->ndim, idx, buf);
}

/* one loop per element type, each loading with memcpy (the staging
 * buffer has no declared type) and converting as C's cast does: to the
 * nearest float32, ties to even, as numpy's astype(np.float32) */
static void from_u8(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)raw[i];
}

static void from_i8(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)(int8_t)raw[i];
}

static void from_u16(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v;
        memcpy(&v, raw + 2 * i, 2);
        out[i] = (float)v;
    }
}

static void from_i16(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        int16_t v;
        memcpy(&v, raw + 2 * i, 2);
        out[i] = (float)v;
    }
}

static void from_u32(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, raw + 4 * i, 4);
        out[i] = (float)v;
    }
}

static void from_i32(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        int32_t v;
        memcpy(&v, raw + 4 * i, 4);
        out[i] = (float)v;
    }
}

static void from_u64(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t v;
        memcpy(&v, raw + 8 * i, 8);
        out[i] = (float)v;
    }
}

static void from_i64(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        memcpy(&v, raw + 8 * i, 8);
        out[i] = (float)v;
    }
}

static void from_f16(const unsigned char *raw, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t v;
        memcpy(&v, raw + 2 * i, 2);
        out[i] = half_to_float(v);
    }
}

/* f8 to f4; a finite value that becomes infinite is an error (numpy would
 * give inf with a warning): its position is the first element's, first,
 * plus its place in raw */
static int from_f64(const ae_npy_source *src, const header *h, const unsigned char *raw, size_t n, float *out,
                    uint64_t first)
{
    for (size_t i = 0; i < n; i++) {
        double v;
        memcpy(&v, raw + 8 * i, 8);
        out[i] = (float)v;
        if (isinf(out[i]) && !isinf(v)) {
            char b[AE_SHAPE_STR];
            return ae_failc("%s: the value %.17g at index %s is outside float32's range (largest %g); "
                            "scale the data before saving it",
                            src->what, v, index_str(h, first + i, b), (double)FLT_MAX);
        }
    }
    return 0;
}

/* n elements of raw (in the host's order by now) into out */
static int convert(const ae_npy_source *src, const header *h, const unsigned char *raw, size_t n, float *out,
                   uint64_t first)
{
    bool is_signed = h->kind == 'i';
    switch (h->kind) {
    case 'b':
        for (size_t i = 0; i < n; i++) out[i] = raw[i] != 0;
        return 0;
    case 'u':
    case 'i':
        if (h->size == 1) (is_signed ? from_i8 : from_u8)(raw, n, out);
        else if (h->size == 2) (is_signed ? from_i16 : from_u16)(raw, n, out);
        else if (h->size == 4) (is_signed ? from_i32 : from_u32)(raw, n, out);
        else (is_signed ? from_i64 : from_u64)(raw, n, out);
        return 0;
    default:
        if (h->size == 2) from_f16(raw, n, out);
        else if (h->size == 4) memcpy(out, raw, 4 * n);
        else return from_f64(src, h, raw, n, out, first);
        return 0;
    }
}

static int truncated(const ae_npy_source *src, const header *h, uint64_t have)
{
    char b[AE_SHAPE_STR];
    return ae_failc("%s is truncated: its header says shape %s of '%s', %llu bytes of data, and the file has %llu",
                    src->what, shape_str(h->ndim, h->shape, b), h->descr, (unsigned long long)h->bytes,
                    (unsigned long long)have);
}

static int trailing(const ae_npy_source *src, const header *h, const char *extra)
{
    char b[AE_SHAPE_STR];
    return ae_failc("%s has %s bytes after its data (shape %s of '%s', %llu bytes): several arrays saved into one "
                    "file, or a corrupt header? Save one array per file, or several into an .npz",
                    src->what, extra, shape_str(h->ndim, h->shape, b), h->descr, (unsigned long long)h->bytes);
}

static int read_data(const ae_npy_source *src, const header *h, float *out)
{
    bool direct = h->kind == 'f' && h->size == 4 && !h->swap;
    unsigned char *buf = direct ? NULL : malloc(CHUNK * (size_t)h->size);
    if (!direct && !buf) return ae_failc("%s: out of memory", src->what);
    uint64_t done = 0;
    int rc = 0;
    while (done < h->count) {
        size_t n = h->count - done < CHUNK ? (size_t)(h->count - done) : CHUNK;
        size_t want = n * (size_t)h->size;
        unsigned char *dst = direct ? (unsigned char *)(out + done) : buf;
        int64_t got = read_full(src, dst, want);
        if (got < 0 || (size_t)got < want) {
            rc = got < 0 ? -1 : truncated(src, h, done * (uint64_t)h->size + (uint64_t)got);
            break;
        }
        if (!direct) {
            if (h->swap) swap_bytes(buf, n, h->size);
            if (convert(src, h, buf, n, out + done, done) < 0) {
                rc = -1;
                break;
            }
        }
        done += n;
    }
    free(buf);
    if (rc < 0) return rc;
    /* the end of the source: also where a zip member's CRC is checked */
    unsigned char extra;
    int64_t got = read_full(src, &extra, 1);
    if (got < 0) return -1;
    if (got > 0) return trailing(src, h, "more");
    return 0;
}

ae_tensor *ae_npy_read_source(const ae_npy_source *src)
{
    header h;
    memset(&h, 0, sizeof h);
    int64_t header_bytes = read_header(src, &h);
    if (header_bytes < 0) return NULL;
    int nontrivial = 0;
    for (int i = 0; i < h.ndim; i++) nontrivial += h.shape[i] > 1;
    if (h.fortran && nontrivial > 1)
        return ae_fail("%s is in Fortran (column-major) order, which this reader does not take: save "
                       "np.ascontiguousarray(a) instead",
                       src->what);
    /* the count, refusing more bytes than 2^62 (no file is that large) */
    uint64_t count = 1, limit = (uint64_t)1 << 62;
    for (int i = 0; i < h.ndim; i++) {
        if (h.shape[i] == 0) {
            count = 0;
            break;
        }
        if (count > limit / (uint64_t)h.shape[i] / (uint64_t)h.size) {
            char b[AE_SHAPE_STR];
            return ae_fail("%s: corrupt header: shape %s of '%s' is more than 2^62 bytes", src->what,
                           shape_str(h.ndim, h.shape, b), h.descr);
        }
        count *= (uint64_t)h.shape[i];
    }
    h.count = count;
    h.bytes = count * (uint64_t)h.size;
    if (src->size >= 0) {
        uint64_t have = (uint64_t)(src->size - header_bytes);
        if (have < h.bytes) {
            truncated(src, &h, have);
            return NULL;
        }
        if (have > h.bytes) {
            char extra[32];
            snprintf(extra, sizeof extra, "%llu", (unsigned long long)(have - h.bytes));
            trailing(src, &h, extra);
            return NULL;
        }
    }
    ae_tensor *t = ae_empty(h.ndim, h.shape);
    if (!t) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", ae_error());
        return ae_fail("%s: %s", src->what, msg);
    }
    if (read_data(src, &h, ae_data(t)) < 0) {
        ae_release(t);
        return NULL;
    }
    return t;
}

typedef struct {
    FILE *f;
    const char *what;
} file_ctx;

static int64_t file_read(void *ctx, void *buf, size_t n)
{
    file_ctx *c = ctx;
    size_t got = fread(buf, 1, n, c->f);
    if (got < n && ferror(c->f)) return ae_failc("%s: read error: %s", c->what, strerror(errno));
    return (int64_t)got;
}

ae_tensor *ae_npy_read(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return ae_fail("cannot open NumPy file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ae_fail("cannot read NumPy file '%s': it is a directory, not a file", path);
    FILE *f = fopen(path, "rb");
    if (!f) return ae_fail("cannot open NumPy file '%s': %s", path, strerror(errno));
    size_t len = strlen(path) + 32;
    char *what = malloc(len);
    if (!what) {
        fclose(f);
        return ae_fail("out of memory");
    }
    snprintf(what, len, "NumPy file '%s'", path);
    file_ctx ctx = {f, what};
    ae_npy_source src = {file_read, &ctx, S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1, what};
    ae_tensor *t = ae_npy_read_source(&src);
    fclose(f);
    free(what);
    return t;
}
