/* csv.c: the CSV reader; see csv.h.
 * One pass: a byte-at-a-time state machine (RFC 4180 quoting) splits the
 * file into records, each record's cells are checked and converted at
 * once, and the floats are appended to blocks.  The record's text is the
 * only buffer that grows with the input, and only as long as one record. */
#include "csv.h"
#include "core/error.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define READ_SIZE ((size_t)1 << 20)
/* floats per block: the first holds 4096, each next one twice as many as
 * the one before, up to 2^20; a small file costs little */
#define FIRST_BLOCK ((size_t)1 << 12)
#define BLOCK ((size_t)1 << 20)

/* floats appended one by one into blocks */
typedef struct {
    float **blocks;
    size_t nblocks, cap, used, last; /* used of the last block's last floats */
} stream;

typedef struct {
    FILE *f;
    const char *path;
    char delim;
    unsigned char *buf;
    size_t size, pos, len; /* size: the buffer's, READ_SIZE or less for a small file */
    bool eof;
    int64_t line; /* the physical line the parser is on, 1-based */
    /* the record just read: cells NUL-terminated in text */
    char *text;
    size_t text_len, text_cap;
    size_t *start;
    unsigned char *quoted;
    size_t ncells, cells_cap;
    int64_t record_line;
} reader;

/* ---- failure messages ---- */

static int fail_line(const reader *r, int64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_line(const reader *r, int64_t line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ae_failc("CSV file '%s', line %lld: %s", r->path, (long long)line, msg);
}

/* a cell for a message: control characters as '?', cut to 40 bytes (at
 * the start of a UTF-8 character, so that names in any script stay whole) */
static const char *show(const char *s, char *buf)
{
    size_t k = 0;
    for (; s[k] && k < 40; k++) {
        unsigned char c = (unsigned char)s[k];
        buf[k] = c < 32 || c == 127 ? '?' : (char)c;
    }
    if (s[k]) {
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = 0;
    return buf;
}

/* ---- the byte stream ---- */

static int refill(reader *r)
{
    r->pos = r->len = 0;
    if (r->eof) return 0;
    r->len = fread(r->buf, 1, r->size, r->f);
    r->pos = 0;
    if (r->len < r->size) {
        if (ferror(r->f)) return ae_failc("cannot read CSV file '%s': %s", r->path, strerror(errno));
        r->eof = true;
    }
    return 0;
}

/* the next byte, -1 at the end of the file, -2 on a read error */
static int next(reader *r)
{
    if (r->pos == r->len) {
        if (refill(r) < 0) return -2;
        if (r->len == 0) return -1;
    }
    return r->buf[r->pos++];
}

static int peek(reader *r)
{
    if (r->pos == r->len) {
        if (refill(r) < 0) return -2;
        if (r->len == 0) return -1;
    }
    return r->buf[r->pos];
}

/* ---- records ---- */

static int put(reader *r, char c)
{
    if (r->text_len == r->text_cap) {
        size_t cap = r->text_cap ? 2 * r->text_cap : 256;
        char *t = realloc(r->text, cap);
        if (!t) return ae_failc("CSV file '%s': out of memory for line %lld", r->path, (long long)r->record_line);
        r->text = t;
        r->text_cap = cap;
    }
    r->text[r->text_len++] = c;
    return 0;
}

static int begin_cell(reader *r)
{
    if (r->ncells == r->cells_cap) {
        size_t cap = r->cells_cap ? 2 * r->cells_cap : 64;
        size_t *s = realloc(r->start, cap * sizeof *s);
        if (s) r->start = s;
        unsigned char *q = s ? realloc(r->quoted, cap) : NULL;
        if (!q) return ae_failc("CSV file '%s': out of memory for line %lld", r->path, (long long)r->record_line);
        r->quoted = q;
        r->cells_cap = cap;
    }
    r->start[r->ncells] = r->text_len;
    r->quoted[r->ncells++] = 0;
    return 0;
}

static bool is_space(const reader *r, int c) { return c == ' ' || (c == '\t' && r->delim != '\t'); }

/* ends the current cell: trailing spaces of an unquoted one go */
static int end_cell(reader *r)
{
    size_t s = r->start[r->ncells - 1];
    if (!r->quoted[r->ncells - 1])
        while (r->text_len > s && is_space(r, r->text[r->text_len - 1])) r->text_len--;
    return put(r, 0);
}

/* after a '\r' or '\n' that ends a line: one line more, "\r\n" counting once */
static int end_line(reader *r, int c)
{
    r->line++;
    if (c == '\r') {
        int n = peek(r);
        if (n == -2) return -1;
        if (n == '\n') r->pos++;
    }
    return 0;
}

enum { FIELD_START, UNQUOTED, QUOTED, AFTER_QUOTE };

/* the next record into r: 1, 0 at the end of the file, -1 on an error */
static int read_record(reader *r)
{
    int c = next(r);
    if (c == -2) return -1;
    if (c == -1) return 0;
    r->record_line = r->line;
    r->text_len = 0;
    r->ncells = 0;
    if (begin_cell(r) < 0) return -1;
    int state = FIELD_START;
    int64_t quote_line = 0;
    for (;; c = next(r)) {
        if (c == -2) return -1;
        switch (state) {
        case FIELD_START:
            if (is_space(r, c)) continue;
            if (c == '"') {
                r->quoted[r->ncells - 1] = 1;
                quote_line = r->line;
                state = QUOTED;
                continue;
            }
            state = UNQUOTED;
            /* fall through */
        case UNQUOTED:
        case AFTER_QUOTE:
            if (c == r->delim) {
                if (end_cell(r) < 0 || begin_cell(r) < 0) return -1;
                state = FIELD_START;
            } else if (c == '\n' || c == '\r' || c == -1) {
                if (end_cell(r) < 0) return -1;
                if (c != -1 && end_line(r, c) < 0) return -1;
                return 1;
            } else if (state == AFTER_QUOTE) {
                if (!is_space(r, c))
                    return fail_line(r, r->line,
                                     "column %zu: '%c' after the closing quote of a quoted field (a quote inside "
                                     "one is written \"\")",
                                     r->ncells, c >= 32 && c < 127 ? c : '?');
            } else if (put(r, (char)c) < 0) {
                return -1;
            }
            break;
        case QUOTED:
            if (c == -1)
                return fail_line(r, quote_line,
                                 "column %zu: the quoted field that opens here is not closed by the end of the file",
                                 r->ncells);
            if (c == '"') {
                int n = peek(r);
                if (n == -2) return -1;
                if (n == '"') {
                    r->pos++;
                    if (put(r, '"') < 0) return -1;
                } else {
                    state = AFTER_QUOTE;
                }
                break;
            }
            if (put(r, (char)c) < 0) return -1;
            if (c == '\n') r->line++;
            else if (c == '\r' && peek(r) != '\n') r->line++;
            break;
        }
    }
}

static const char *cell(const reader *r, size_t i) { return r->text + r->start[i]; }

/* the spaces inside a quoted data cell go too (" 1.5 " is 1.5, as Python's
 * float() and pandas read it); a header's names keep theirs */
static void trim_quoted(reader *r, size_t i)
{
    char *s = r->text + r->start[i];
    size_t n = strlen(s);
    while (n > 0 && is_space(r, s[n - 1])) s[--n] = 0;
    while (is_space(r, *s)) s++, r->start[i]++;
}

/* ---- numbers ---- */

enum { NUMBER, EMPTY, NAN_VALUE, MISSING, NOT_A_NUMBER, NOT_FINITE, TOO_LARGE };

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* a decimal number: [+-] digits [. digits] [e [+-] digits], a digit at least before the exponent */
static bool decimal(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    int digits = 0;
    while (is_digit(*s)) s++, digits++;
    if (*s == '.') {
        s++;
        while (is_digit(*s)) s++, digits++;
    }
    if (!digits) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!is_digit(*s)) return false;
        while (is_digit(*s)) s++;
    }
    return *s == 0;
}

/* what a cell holds; its value in *out when NUMBER */
static int classify(const char *s, float *out)
{
    if (!*s) return EMPTY;
    const char *u = *s == '+' || *s == '-' ? s + 1 : s;
    if (!strcasecmp(u, "nan")) return NAN_VALUE;
    if (!strcasecmp(s, "na") || !strcasecmp(s, "n/a") || !strcasecmp(s, "null") || !strcasecmp(s, "none"))
        return MISSING;
    if (!strcasecmp(u, "inf") || !strcasecmp(u, "infinity")) return NOT_FINITE;
    if (!decimal(s)) return NOT_A_NUMBER;
    char *end;
    double d = strtod(s, &end);
    if (*end) return NOT_A_NUMBER; /* a locale whose decimal point is not '.' */
    float f = (float)d;
    if (isinf(f)) return TOO_LARGE;
    *out = f;
    return NUMBER;
}

/* ---- the float blocks ---- */

static int push(stream *s, float v)
{
    if (s->nblocks == 0 || s->used == s->last) {
        if (s->nblocks == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            float **b = realloc(s->blocks, cap * sizeof *b);
            if (!b) return -1;
            s->blocks = b;
            s->cap = cap;
        }
        size_t size = s->nblocks == 0 ? FIRST_BLOCK : s->last < BLOCK ? 2 * s->last : BLOCK;
        if (!(s->blocks[s->nblocks] = malloc(size * sizeof(float)))) return -1;
        s->last = size;
        s->nblocks++;
        s->used = 0;
    }
    s->blocks[s->nblocks - 1][s->used++] = v;
    return 0;
}

static void stream_free(stream *s)
{
    for (size_t i = 0; i < s->nblocks; i++) free(s->blocks[i]);
    free(s->blocks);
}

/* the blocks into a new tensor of the given shape, each freed once copied */
static ae_tensor *stream_tensor(stream *s, int ndim, const int64_t *shape)
{
    ae_tensor *t = ae_empty(ndim, shape);
    if (!t) return NULL;
    float *out = ae_data(t);
    for (size_t i = 0; i < s->nblocks; i++) {
        size_t n = i + 1 == s->nblocks ? s->used : i < 8 ? FIRST_BLOCK << i : BLOCK;
        memcpy(out, s->blocks[i], n * sizeof(float));
        out += n;
        free(s->blocks[i]);
        s->blocks[i] = NULL;
    }
    s->nblocks = 0;
    return t;
}

/* ---- the file ---- */

typedef struct {
    reader r;
    const ae_csv_options *opts;
    ae_csv *out;
    int64_t ncols;      /* cells per row, from the first row */
    int64_t label;      /* 0-based label column, -1 none */
    char **header;      /* every column's name, when there is a header */
    bool detected;      /* the header was decided from the first row */
    int64_t first_line; /* the first row's line */
    stream xs, ys;
} parse;

/* "column 3 ('age')" or "column 3" */
static const char *column_str(const parse *p, size_t i, char *buf)
{
    char b[48];
    if (p->header) snprintf(buf, 96, "column %zu ('%s')", i + 1, show(p->header[i], b));
    else snprintf(buf, 96, "column %zu", i + 1);
    return buf;
}

/* "'a', 'b', 'c'" (cut after 30 names) or "1 to 5" */
static const char *columns_str(const parse *p, char *buf, size_t cap)
{
    if (!p->header) {
        snprintf(buf, cap, "1 to %lld", (long long)p->ncols);
        return buf;
    }
    size_t n = 0;
    buf[0] = 0;
    for (int64_t i = 0; i < p->ncols && n < cap; i++) {
        char b[48];
        if (i == 30) {
            snprintf(buf + n, cap - n, ", ... (%lld in all)", (long long)p->ncols);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, i ? ", '%s'" : "'%s'", show(p->header[i], b));
    }
    return buf;
}

static int save_header(parse *p)
{
    reader *r = &p->r;
    p->header = calloc((size_t)p->ncols, sizeof *p->header);
    if (!p->header) return ae_failc("CSV file '%s': out of memory", r->path);
    for (size_t i = 0; i < r->ncells; i++)
        if (!(p->header[i] = strdup(cell(r, i)))) return ae_failc("CSV file '%s': out of memory", r->path);
    return 0;
}

/* is the first row a header? */
static int decide_header(parse *p)
{
    reader *r = &p->r;
    if (p->opts->header >= 0) return p->opts->header;
    p->detected = true;
    bool words = false;
    for (size_t i = 0; i < r->ncells; i++) {
        float v;
        int k = classify(cell(r, i), &v);
        if (k == NUMBER || k == NAN_VALUE || k == NOT_FINITE || k == TOO_LARGE) return 0;
        if (k != EMPTY) words = true;
    }
    return words;
}

/* the label column, once the first row has given the columns */
static int resolve_label(parse *p)
{
    const reader *r = &p->r;
    const ae_csv_options *o = p->opts;
    char cols[1024];
    p->label = -1;
    if (o->label_name) {
        char b[48];
        if (!p->header)
            return ae_failc("CSV file '%s': the label column is named ('%s') but the file has no header: its first "
                            "row (line %lld) is data; pass header = true if it is a header, or give the label's "
                            "column number",
                            r->path, show(o->label_name, b), (long long)p->first_line);
        for (int64_t i = 0; i < p->ncols; i++)
            if (!strcmp(p->header[i], o->label_name)) {
                if (p->label >= 0)
                    return ae_failc("CSV file '%s': the header (line %lld) names two columns '%s' (%lld and %lld); "
                                    "give the label's column number",
                                    r->path, (long long)p->first_line, show(o->label_name, b), (long long)p->label + 1,
                                    (long long)i + 1);
                p->label = i;
            }
        if (p->label < 0)
            return ae_failc("CSV file '%s': no column is named '%s'; the columns are %s", r->path,
                            show(o->label_name, b), columns_str(p, cols, sizeof cols));
    } else if (o->label_index != 0) {
        int64_t i = o->label_index > 0 ? o->label_index : p->ncols + 1 + o->label_index;
        if (i < 1 || i > p->ncols)
            return ae_failc("CSV file '%s': there is no column %lld: the file has %lld columns (%s)", r->path,
                            (long long)o->label_index, (long long)p->ncols, columns_str(p, cols, sizeof cols));
        p->label = i - 1;
    }
    if (p->label >= 0 && p->ncols == 1)
        return ae_failc("CSV file '%s' has one column, the label: there are no other columns for x", r->path);
    return 0;
}

/* a cell that is not a number: why, in the user's words */
static int bad_cell(parse *p, size_t i, int kind)
{
    reader *r = &p->r;
    char col[96], b[48], hint[160] = "";
    const char *s = cell(r, i);
    if (p->detected && !p->header && r->record_line == p->first_line && kind == NOT_A_NUMBER)
        snprintf(hint, sizeof hint, " (if the first row is a header, pass header = true)");
    if (p->ncols == 1 && kind == NOT_A_NUMBER)
        for (const char *d = ";\t|,"; *d; d++)
            if (*d != r->delim && strchr(s, *d)) {
                snprintf(hint, sizeof hint, " (the file has one column: is its delimiter '%s'?)",
                         *d == '\t' ? "\\t" : (char[]){*d, 0});
                break;
            }
    column_str(p, i, col);
    switch (kind) {
    case EMPTY: return fail_line(r, r->record_line, "%s is empty: a missing value; fill or drop it first", col);
    case NAN_VALUE:
    case MISSING:
        return fail_line(r, r->record_line, "%s is '%s', a missing value (NaN); fill or drop it first", col,
                         show(s, b));
    case NOT_FINITE: return fail_line(r, r->record_line, "%s is '%s', not a finite number", col, show(s, b));
    case TOO_LARGE:
        return fail_line(r, r->record_line, "%s is %s, outside float32's range (largest 3.4e38)", col, show(s, b));
    default: return fail_line(r, r->record_line, "%s is '%s', not a number%s", col, show(s, b), hint);
    }
}

static int data_row(parse *p)
{
    reader *r = &p->r;
    if ((int64_t)r->ncells != p->ncols)
        return fail_line(r, r->record_line, "expected %lld columns (as line %lld has), found %zu", (long long)p->ncols,
                         (long long)p->first_line, r->ncells);
    for (size_t i = 0; i < r->ncells; i++) {
        float v = 0;
        if (r->quoted[i]) trim_quoted(r, i);
        int kind = classify(cell(r, i), &v);
        if (kind != NUMBER) return bad_cell(p, i, kind);
        if (push((int64_t)i == p->label ? &p->ys : &p->xs, v) < 0)
            return ae_failc("CSV file '%s': out of memory at line %lld", r->path, (long long)r->record_line);
    }
    p->out->rows++;
    return 0;
}

/* the first row: the columns, the header, the label */
static int first_row(parse *p)
{
    reader *r = &p->r;
    p->ncols = (int64_t)r->ncells;
    p->first_line = r->record_line;
    int header = decide_header(p);
    if (header && save_header(p) < 0) return -1;
    if (resolve_label(p) < 0) return -1;
    return header ? 0 : data_row(p);
}

static int read_all(parse *p)
{
    reader *r = &p->r;
    /* a UTF-8 byte-order mark, as spreadsheets write */
    if (peek(r) == 0xEF && r->len - r->pos >= 3 && !memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3)) r->pos += 3;
    bool first = true;
    for (;;) {
        int rc = read_record(r);
        if (rc < 0) return -1;
        if (rc == 0) break;
        if (r->ncells == 1 && r->start[0] + 1 == r->text_len && !r->quoted[0]) continue; /* a blank line */
        if (first ? first_row(p) < 0 : data_row(p) < 0) return -1;
        first = false;
    }
    if (first) return ae_failc("CSV file '%s' is empty: it has no rows", r->path);
    if (p->out->rows == 0)
        return ae_failc("CSV file '%s' has a header (line %lld) but no data rows", r->path, (long long)p->first_line);
    return 0;
}

void ae_csv_free(ae_csv *c)
{
    if (!c) return;
    ae_release(c->x);
    ae_release(c->y);
    if (c->names)
        for (int64_t i = 0; i < c->cols; i++) free(c->names[i]);
    free(c->names);
    free(c->label);
    free(c);
}

/* the tensors and the names of x's columns */
static int finish(parse *p)
{
    ae_csv *c = p->out;
    c->cols = p->ncols - (p->label >= 0);
    c->label_column = p->label + 1;
    c->has_header = p->header != NULL;
    int64_t shape[2] = {c->rows, c->cols};
    if (!(c->x = stream_tensor(&p->xs, 2, shape))) return -1;
    if (p->label >= 0 && !(c->y = stream_tensor(&p->ys, 1, shape))) return -1;
    if (!p->header) return 0;
    /* the names move from the header to the result */
    if (!(c->names = calloc((size_t)c->cols + 1, sizeof *c->names)))
        return ae_failc("CSV file '%s': out of memory", p->r.path);
    for (int64_t i = 0, k = 0; i < p->ncols; i++) {
        if (i == p->label) c->label = p->header[i];
        else c->names[k++] = p->header[i];
        p->header[i] = NULL;
    }
    return 0;
}

ae_csv *ae_csv_read(const char *path, const ae_csv_options *opts)
{
    char d = opts->delimiter;
    if (d == '"' || d == '\n' || d == '\r' || d == 0 || d == ' ')
        return ae_fail("CSV file '%s': the delimiter cannot be a quote, a space or a line end", path);
    struct stat st;
    if (stat(path, &st) != 0) return ae_fail("cannot open CSV file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ae_fail("cannot read CSV file '%s': it is a directory, not a file", path);
    parse p;
    memset(&p, 0, sizeof p);
    p.opts = opts;
    p.label = -1;
    p.r.path = path;
    p.r.delim = d;
    p.r.line = 1;
    p.r.f = fopen(path, "rb");
    if (!p.r.f) return ae_fail("cannot open CSV file '%s': %s", path, strerror(errno));
    p.r.size = S_ISREG(st.st_mode) && (uint64_t)st.st_size < READ_SIZE ? (size_t)st.st_size + 1 : READ_SIZE;
    p.r.buf = malloc(p.r.size);
    p.out = calloc(1, sizeof *p.out);
    int rc = p.r.buf && p.out ? 0 : ae_failc("CSV file '%s': out of memory", path);
    if (rc == 0) rc = read_all(&p);
    if (rc == 0) rc = finish(&p);
    fclose(p.r.f);
    free(p.r.buf);
    free(p.r.text);
    free(p.r.start);
    free(p.r.quoted);
    stream_free(&p.xs);
    stream_free(&p.ys);
    if (p.header)
        for (int64_t i = 0; i < p.ncols; i++) free(p.header[i]);
    free(p.header);
    if (rc < 0) {
        ae_csv_free(p.out);
        return NULL;
    }
    return p.out;
}
