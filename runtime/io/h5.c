/* h5.c: the objects in an HDF5 file (see h5.h): groups, datasets,
 * attributes and listing.  Opening, closing and the atomic commit are
 * h5_file.c's; the conventions both follow are in h5_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "h5_internal.h"

#define NAME_MAX_LEN 1024

static void drop(hid_t id)
{
    if (id >= 0) H5Idec_ref(id);
}

static int fail_plain(const ae_h5 *f, const char *obj, const char *what)
{
    return ae_failc("%s: %s: %s", f->path, obj, what);
}

/* absolute, without trailing or repeated slashes checked: "/a/b" */
static int normalize(const ae_h5 *f, const char *name, char out[NAME_MAX_LEN])
{
    if (!name) return ae_failc("%s: object name is missing", f->path);
    size_t len = strlen(name);
    if (len + 2 > NAME_MAX_LEN) return ae_failc("%s: object name is too long (%zu bytes)", f->path, len);
    size_t o = 0;
    if (name[0] != '/') out[o++] = '/';
    memcpy(out + o, name, len + 1);
    o += len;
    while (o > 1 && out[o - 1] == '/') out[--o] = '\0';
    if (strstr(out, "//")) return ae_failc("%s: invalid object name \"%s\" (empty path component)", f->path, name);
    return 0;
}

static int require_writable(const ae_h5 *f, const char *obj)
{
    return f->writable ? 0 : fail_plain(f, obj, "the file is open read-only");
}

/* --- objects ---------------------------------------------------------- */

/* AE_H5_MISSING if any component of the path is missing.  H5Lexists wants
 * every parent to exist, so the components are checked one at a time. */
static int link_exists(const ae_h5 *f, const char *abs)
{
    if (!strcmp(abs, "/")) return 1;
    char buf[NAME_MAX_LEN];
    strcpy(buf, abs);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            htri_t e = H5Lexists(f->file, buf, H5P_DEFAULT);
            if (e < 0) {
                /* the component before this one exists but is no group */
                char *up = strrchr(buf, '/');
                if (up != buf) *up = '\0';
                return ae_failc("%s: %s: not found (%s is a dataset, not a group)", f->path, abs, buf);
            }
            if (e == 0) return 0;
            *p = c;
            if (c == '\0') return 1;
        }
    }
}

static int kind_of(hid_t obj)
{
    switch (H5Iget_type(obj)) {
    case H5I_GROUP: return AE_H5_GROUP;
    case H5I_DATASET: return AE_H5_DATASET;
    default: return AE_H5_OTHER;
    }
}

int ae_h5_kind(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0) return -1;
    int e = link_exists(f, abs);
    if (e <= 0) return e;
    hid_t obj = H5Oopen(f->file, abs, H5P_DEFAULT);
    if (obj < 0) return ae_h5_fail_at(f, abs, "cannot open");
    int k = kind_of(obj);
    H5Oclose(obj);
    return k;
}

/* opens an existing object, with "not found" for a missing one */
static hid_t open_object(const ae_h5 *f, const char *abs)
{
    int e = link_exists(f, abs);
    if (e < 0) return -1;
    if (e == 0) return fail_plain(f, abs, "not found");
    hid_t obj = H5Oopen(f->file, abs, H5P_DEFAULT);
    if (obj < 0) return ae_h5_fail_at(f, abs, "cannot open");
    return obj;
}

static hid_t open_dataset(const ae_h5 *f, const char *abs)
{
    hid_t obj = open_object(f, abs);
    if (obj < 0) return -1;
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return fail_plain(f, abs, "is a group, not a dataset");
    }
    return obj;
}

int ae_h5_create_group(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0 || require_writable(f, abs) < 0) return -1;
    int e = link_exists(f, abs);
    if (e < 0) return -1;
    if (e > 0) {
        int k = ae_h5_kind(f, abs);
        if (k < 0) return -1;
        return k == AE_H5_GROUP ? 0 : fail_plain(f, abs, "exists and is not a group");
    }
    hid_t g = H5Gcreate2(f->file, abs, ae_h5_lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return ae_h5_fail_at(f, abs, "cannot create group");
    H5Gclose(g);
    return 0;
}

typedef struct names {
    char **v;
    size_t n, cap;
    bool failed;
} names;

/* adds a copy of name; out of memory stops the iteration, marked failed */
static herr_t collect(names *ns, const char *name)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v) goto oom;
        ns->v = v;
        ns->cap = cap;
    }
    if (!(ns->v[ns->n] = strdup(name))) goto oom;
    ns->n++;
    return 0;
oom:
    ns->failed = true;
    return -1;
}

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g, (void)info;
    return collect(data, name);
}

static herr_t collect_attr(hid_t o, const char *name, const H5A_info_t *info, void *data)
{
    (void)o, (void)info;
    return collect(data, name);
}

void ae_h5_free_names(char **v, size_t count)
{
    for (size_t i = 0; i < count; i++) free(v[i]);
    free(v);
}

/* The names of the links of a group (attributes false) or of the
 * attributes of any object, in name order; the two differ only in the
 * HDF5 iteration and in that links need a group. */
static int list_names(ae_h5 *f, const char *obj, bool attributes, char ***out, size_t *count)
{
    char abs[NAME_MAX_LEN];
    *out = NULL;
    *count = 0;
    if (normalize(f, obj, abs) < 0) return -1;
    hid_t o = open_object(f, abs);
    if (o < 0) return -1;
    if (!attributes && H5Iget_type(o) != H5I_GROUP) {
        H5Oclose(o);
        return fail_plain(f, abs, "is a dataset, not a group");
    }
    names ns = {0};
    hsize_t idx = 0;
    herr_t walked = attributes ? H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &ns)
                               : H5Literate(o, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &ns);
    int rc = 0;
    if (walked < 0)
        rc = ns.failed ? fail_plain(f, abs, "out of memory")
                       : ae_h5_fail_at(f, abs, attributes ? "cannot list attributes" : "cannot list");
    H5Oclose(o);
    if (rc < 0) {
        ae_h5_free_names(ns.v, ns.n);
        return -1;
    }
    *out = ns.v;
    *count = ns.n;
    return 0;
}

int ae_h5_list(ae_h5 *f, const char *group, char ***out, size_t *count)
{
    return list_names(f, group, false, out, count);
}

/* the dataspace's rank and dims; scalar is rank 0.  -1 for null spaces and
 * ranks beyond AE_MAX_DIMS */
static int space_dims(const ae_h5 *f, const char *abs, hid_t space, int64_t shape[AE_MAX_DIMS])
{
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_SCALAR) return 0;
    if (cls != H5S_SIMPLE) return fail_plain(f, abs, "holds no data (a null dataspace)");
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) return ae_h5_fail_at(f, abs, "cannot read the shape");
    if (rank > AE_MAX_DIMS)
        return ae_failc("%s: %s: has %d dimensions, at most %d are supported", f->path, abs, rank, AE_MAX_DIMS);
    hsize_t dims[AE_MAX_DIMS];
    H5Sget_simple_extent_dims(space, dims, NULL);
    for (int i = 0; i < rank; i++) shape[i] = (int64_t)dims[i];
    return rank;
}

int ae_h5_shape(ae_h5 *f, const char *name, int64_t shape[AE_MAX_DIMS])
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0) return -1;
    hid_t d = open_dataset(f, abs);
    if (d < 0) return -1;
    hid_t space = H5Dget_space(d);
    int rank = space < 0 ? ae_h5_fail_at(f, abs, "cannot read the shape") : space_dims(f, abs, space, shape);
    drop(space);
    H5Dclose(d);
    return rank;
}

/* --- datasets --------------------------------------------------------- */

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

/* an existing object at abs is removed so that a new dataset can take the
 * name; a dataset of the same type and shape is reused in place */
static hid_t reuse_or_unlink(const ae_h5 *f, const char *abs, hid_t ftype, hid_t space)
{
    hid_t d = open_object(f, abs);
    if (d < 0) return -1;
    if (H5Iget_type(d) == H5I_DATASET) {
        hid_t t = H5Dget_type(d), s = H5Dget_space(d);
        bool same = t >= 0 && s >= 0 && H5Tequal(t, ftype) > 0 && H5Sextent_equal(s, space) > 0;
        drop(t);
        drop(s);
        if (same) return d;
    }
    H5Oclose(d);
    if (H5Ldelete(f->file, abs, H5P_DEFAULT) < 0) return ae_h5_fail_at(f, abs, "cannot replace");
    return 0;
}

/* writes n elements of mtype from data as a dataset of ftype and shape */
static int write_dataset(ae_h5 *f, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *shape,
                         const void *data)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0 || require_writable(f, abs) < 0) return -1;
    if (!strcmp(abs, "/")) return fail_plain(f, abs, "the root group cannot be a dataset");
    hsize_t dims[AE_MAX_DIMS];
    for (int i = 0; i < rank; i++) dims[i] = (hsize_t)shape[i];
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t d = H5I_INVALID_HID;
    int rc = -1;
    if (space < 0) {
        ae_h5_fail_at(f, abs, "cannot create a dataspace");
        goto done;
    }
    int e = link_exists(f, abs);
    if (e < 0) goto done;
    if (e > 0) {
        hid_t r = reuse_or_unlink(f, abs, ftype, space);
        if (r < 0) goto done;
        if (r > 0) d = r;
    }
    if (d < 0) d = H5Dcreate2(f->file, abs, ftype, space, ae_h5_lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) {
        ae_h5_fail_at(f, abs, "cannot create dataset");
        goto done;
    }
    if (H5Sget_simple_extent_npoints(space) > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        ae_h5_fail_at(f, abs, "cannot write");
        goto done;
    }
    rc = 0;
done:
    if (d >= 0 && H5Dclose(d) < 0 && rc == 0) rc = ae_h5_fail_at(f, abs, "cannot write");
    drop(space);
    return rc;
}

int ae_h5_write_tensor(ae_h5 *f, const char *name, ae_tensor *t)
{
    ae_tensor *c = ae_contiguous(t);
    if (!c) return -1;
    int rc = write_dataset(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c->ndim, c->shape, ae_data(c));
    ae_release(c);
    return rc;
}

int ae_h5_write_f64(ae_h5 *f, const char *name, const double *v, int64_t n)
{
    return write_dataset(f, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v);
}

int ae_h5_write_bytes(ae_h5 *f, const char *name, const void *data, size_t n)
{
    int64_t len = (int64_t)n;
    return write_dataset(f, name, H5T_STD_U8LE, H5T_NATIVE_UCHAR, 1, &len, data);
}

/* an open numeric dataset and its shape, or -1 naming what it holds */
typedef struct opened {
    hid_t d, type;
    H5T_class_t cls;
    int rank;
    int64_t shape[AE_MAX_DIMS];
    int64_t numel;
} opened;

static int open_data(ae_h5 *f, const char *name, char abs[NAME_MAX_LEN], opened *o)
{
    o->d = o->type = H5I_INVALID_HID;
    if (normalize(f, name, abs) < 0) return -1;
    if ((o->d = open_dataset(f, abs)) < 0) return -1;
    hid_t space = H5Dget_space(o->d);
    o->type = H5Dget_type(o->d);
    if (space < 0 || o->type < 0) {
        ae_h5_fail_at(f, abs, "cannot read its type");
        goto fail;
    }
    o->cls = H5Tget_class(o->type);
    o->rank = space_dims(f, abs, space, o->shape);
    if (o->rank < 0) goto fail;
    o->numel = 1;
    for (int i = 0; i < o->rank; i++) o->numel *= o->shape[i];
    drop(space);
    return 0;
fail:
    drop(space);
    drop(o->type);
    H5Dclose(o->d);
    return -1;
}

static void close_data(opened *o)
{
    drop(o->type);
    H5Dclose(o->d);
}

static int check_numeric(const ae_h5 *f, const char *abs, const opened *o)
{
    if (o->cls == H5T_INTEGER || o->cls == H5T_FLOAT) return 0;
    return ae_failc("%s: %s: holds %s data; only integer and float datasets can be read as numbers", f->path, abs,
                    class_name(o->cls));
}

ae_tensor *ae_h5_read_tensor(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    opened o;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    ae_tensor *t = NULL;
    if (check_numeric(f, abs, &o) < 0 || ae_check_shape(abs, o.rank, o.shape) < 0) goto done;
    if (!(t = ae_empty(o.rank, o.shape))) goto done;
    if (o.numel > 0 && H5Dread(o.d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ae_data(t)) < 0) {
        ae_h5_fail_at(f, abs, "cannot read");
        ae_release(t);
        t = NULL;
    }
done:
    close_data(&o);
    return t;
}

double *ae_h5_read_f64(ae_h5 *f, const char *name, int64_t *n)
{
    char abs[NAME_MAX_LEN];
    opened o;
    *n = 0;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    double *v = NULL;
    if (check_numeric(f, abs, &o) < 0) goto done;
    if (!(v = malloc(((size_t)o.numel + 1) * sizeof *v))) {
        fail_plain(f, abs, "out of memory");
        goto done;
    }
    if (o.numel > 0 && H5Dread(o.d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        ae_h5_fail_at(f, abs, "cannot read");
        free(v);
        v = NULL;
        goto done;
    }
    *n = o.numel;
done:
    close_data(&o);
    return v;
}

unsigned char *ae_h5_read_bytes(ae_h5 *f, const char *name, size_t *n)
{
    char abs[NAME_MAX_LEN];
    opened o;
    *n = 0;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    unsigned char *v = NULL;
    hid_t mtype = H5I_INVALID_HID;
    if (!((o.cls == H5T_INTEGER || o.cls == H5T_OPAQUE) && H5Tget_size(o.type) == 1)) {
        ae_failc("%s: %s: holds %s data of %zu-byte elements, not bytes", f->path, abs, class_name(o.cls),
                 H5Tget_size(o.type));
        goto done;
    }
    /* opaque bytes are read as they are; integers through the native type */
    mtype = o.cls == H5T_OPAQUE ? H5Tcopy(o.type) : H5Tcopy(H5T_NATIVE_UCHAR);
    if (!(v = malloc((size_t)o.numel + 1))) {
        fail_plain(f, abs, "out of memory");
        goto done;
    }
    if (mtype < 0 || (o.numel > 0 && H5Dread(o.d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)) {
        ae_h5_fail_at(f, abs, "cannot read");
        free(v);
        v = NULL;
        goto done;
    }
    *n = (size_t)o.numel;
done:
    drop(mtype);
    close_data(&o);
    return v;
}

/* --- attributes ------------------------------------------------------- */

/* the object that carries attributes, created as a group when missing */
static hid_t attr_target(ae_h5 *f, const char *abs, bool create)
{
    if (create) {
        int e = link_exists(f, abs);
        if (e < 0) return -1;
        if (e == 0 && ae_h5_create_group(f, abs) < 0) return -1;
    }
    return open_object(f, abs);
}

static int set_attr(ae_h5 *f, const char *obj, const char *key, hid_t ftype, hid_t mtype, const void *value)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, obj, abs) < 0 || require_writable(f, abs) < 0) return -1;
    if (!key || !key[0]) return fail_plain(f, abs, "attribute name is empty");
    hid_t o = attr_target(f, abs, true);
    if (o < 0) return -1;
    hid_t space = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    htri_t had = H5Aexists(o, key);
    if (had < 0 || (had > 0 && H5Adelete(o, key) < 0)) {
        ae_h5_fail_at(f, abs, "cannot replace an attribute");
        goto done;
    }
    space = H5Screate(H5S_SCALAR);
    a = space < 0 ? -1 : H5Acreate2(o, key, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, value) < 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot write attribute %s", key);
        ae_h5_fail_at(f, abs, what);
        goto done;
    }
    rc = 0;
done:
    drop(a);
    drop(space);
    H5Oclose(o);
    return rc;
}

/* UTF-8, variable length: h5py reads these as str */
static hid_t utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int ae_h5_set_attr_str(ae_h5 *f, const char *obj, const char *key, const char *value)
{
    if (ae_h5_init() < 0) return -1;
    hid_t t = utf8_type();
    if (t < 0) return ae_failc("%s: cannot make a string type", f->path);
    int rc = set_attr(f, obj, key, t, t, &value);
    H5Tclose(t);
    return rc;
}

int ae_h5_set_attr_int(ae_h5 *f, const char *obj, const char *key, int64_t v)
{
    return set_attr(f, obj, key, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

int ae_h5_set_attr_f64(ae_h5 *f, const char *obj, const char *key, double v)
{
    return set_attr(f, obj, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int ae_h5_attr_names(ae_h5 *f, const char *obj, char ***out, size_t *count)
{
    return list_names(f, obj, true, out, count);
}

void ae_h5_value_free(ae_h5_value *v)
{
    if (v->str)
        for (size_t i = 0; i < v->count; i++) free(v->str[i]);
    free(v->str);
    free(v->i);
    free(v->f);
    memset(v, 0, sizeof *v);
}

/* variable-length strings: HDF5 allocates them, we copy and reclaim */
static int read_vlen_strings(hid_t a, hid_t ftype, hid_t space, ae_h5_value *out)
{
    hid_t m = H5Tcopy(H5T_C_S1);
    char **raw = calloc(out->count ? out->count : 1, sizeof *raw);
    int rc = -1;
    if (m < 0 || !raw || H5Tset_size(m, H5T_VARIABLE) < 0 || H5Tset_cset(m, H5Tget_cset(ftype)) < 0 ||
        H5Aread(a, m, raw) < 0)
        goto done;
    rc = 0;
    for (size_t i = 0; i < out->count && rc == 0; i++)
        if (!(out->str[i] = strdup(raw[i] ? raw[i] : ""))) rc = -1;
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(m, space, H5P_DEFAULT, raw);
#else
    H5Dvlen_reclaim(m, space, H5P_DEFAULT, raw);
#endif
done:
    free(raw);
    drop(m);
    return rc;
}

/* fixed-length strings: NUL- or space-padded in the file */
static int read_fixed_strings(hid_t a, hid_t ftype, ae_h5_value *out)
{
    size_t size = H5Tget_size(ftype);
    hid_t m = H5Tcopy(ftype);
    char *raw = malloc(out->count * size + 1);
    int rc = -1;
    if (m < 0 || !raw || H5Aread(a, m, raw) < 0) goto done;
    bool spaces = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    rc = 0;
    for (size_t i = 0; i < out->count && rc == 0; i++) {
        const char *s = raw + i * size;
        size_t len = strnlen(s, size);
        while (spaces && len > 0 && s[len - 1] == ' ') len--;
        if (!(out->str[i] = strndup(s, len))) rc = -1;
    }
done:
    free(raw);
    drop(m);
    return rc;
}

int ae_h5_get_attr(ae_h5 *f, const char *obj, const char *key, ae_h5_value *out)
{
    char abs[NAME_MAX_LEN];
    memset(out, 0, sizeof *out);
    if (normalize(f, obj, abs) < 0) return -1;
    hid_t o = open_object(f, abs), a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    if (o < 0) return -1;
    int rc = -1;
    char what[300];
    snprintf(what, sizeof what, "attribute %s", key);
    htri_t has = H5Aexists(o, key);
    if (has <= 0) {
        if (has < 0) ae_h5_fail_at(f, abs, what);
        else ae_failc("%s: %s: has no attribute %s", f->path, abs, key);
        goto done;
    }
    a = H5Aopen(o, key, H5P_DEFAULT);
    type = a < 0 ? -1 : H5Aget_type(a);
    space = a < 0 ? -1 : H5Aget_space(a);
    if (type < 0 || space < 0) {
        ae_h5_fail_at(f, abs, what);
        goto done;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    if (sc == H5S_NULL || count < 0) {
        ae_failc("%s: %s: attribute %s holds no value", f->path, abs, key);
        rc = AE_H5_UNSUPPORTED;
        goto done;
    }
    out->scalar = sc == H5S_SCALAR;
    out->count = (size_t)count;
    size_t n = out->count ? out->count : 1;
    H5T_class_t cls = H5Tget_class(type);
    int r = -1;
    if (cls == H5T_STRING) {
        out->kind = AE_H5_STR;
        if ((out->str = calloc(n, sizeof *out->str)))
            r = H5Tis_variable_str(type) > 0 ? read_vlen_strings(a, type, space, out)
                                             : read_fixed_strings(a, type, out);
    } else if (cls == H5T_INTEGER) {
        out->kind = AE_H5_INT;
        if ((out->i = malloc(n * sizeof *out->i))) r = H5Aread(a, H5T_NATIVE_INT64, out->i) < 0 ? -1 : 0;
    } else if (cls == H5T_FLOAT) {
        out->kind = AE_H5_F64;
        if ((out->f = malloc(n * sizeof *out->f))) r = H5Aread(a, H5T_NATIVE_DOUBLE, out->f) < 0 ? -1 : 0;
    } else {
        ae_failc("%s: %s: attribute %s is of %s type, which aerun does not read", f->path, abs, key, class_name(cls));
        rc = AE_H5_UNSUPPORTED;
        goto done;
    }
    if (r < 0) {
        ae_h5_fail_at(f, abs, what);
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) ae_h5_value_free(out);
    drop(space);
    drop(type);
    drop(a);
    H5Oclose(o);
    return rc;
}
