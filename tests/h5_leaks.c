/* h5_leaks.c: runtime/io/h5.c and h5_file.c under a leak check, built and run by
 * tests/h5_spec.lua.  The linker's --wrap routes every call h5.c makes to
 * an HDF5 function that creates an identifier through a recorder; after
 * each scenario (successes and every failure path: missing objects, wrong
 * kinds, bad and truncated files, writes refused by a file size limit,
 * failed renames) each recorded identifier must be closed.  Built with
 * -fsanitize=address, LeakSanitizer checks the malloc side at exit.
 *
 *   cc -g -fsanitize=address $(pkg-config --cflags hdf5) -Iruntime \
 *      tests/h5_leaks.c runtime/h5.c <the other core objects> \
 *      -Wl,--wrap=H5Fcreate,--wrap=H5Fopen,... -lhdf5 ...
 *   ./h5_leaks <an empty directory>      prints "all closed", exit 0 */
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "core/error.h"
#include "io/h5.h"
#include "core/tensor.h"

/* --- the recorder ----------------------------------------------------- */

#define MAX_IDS 100000
static struct {
    hid_t id;
    const char *by;
} ids[MAX_IDS];
static int nids, failures;

static hid_t record(hid_t id, const char *by)
{
    if (id >= 0 && nids < MAX_IDS) {
        ids[nids].id = id;
        ids[nids].by = by;
        nids++;
    }
    return id;
}

#define WRAP(ret, name, params, args) \
    ret __real_##name params;         \
    ret __wrap_##name params { return record(__real_##name args, #name); }

WRAP(hid_t, H5Fcreate, (const char *n, unsigned f, hid_t c, hid_t a), (n, f, c, a))
WRAP(hid_t, H5Fopen, (const char *n, unsigned f, hid_t a), (n, f, a))
WRAP(hid_t, H5Oopen, (hid_t l, const char *n, hid_t a), (l, n, a))
WRAP(hid_t, H5Gcreate2, (hid_t l, const char *n, hid_t a, hid_t b, hid_t c), (l, n, a, b, c))
WRAP(hid_t, H5Dcreate2, (hid_t l, const char *n, hid_t t, hid_t s, hid_t a, hid_t b, hid_t c), (l, n, t, s, a, b, c))
WRAP(hid_t, H5Dget_space, (hid_t d), (d))
WRAP(hid_t, H5Dget_type, (hid_t d), (d))
WRAP(hid_t, H5Screate, (H5S_class_t c), (c))
WRAP(hid_t, H5Screate_simple, (int r, const hsize_t *d, const hsize_t *m), (r, d, m))
WRAP(hid_t, H5Tcopy, (hid_t t), (t))
WRAP(hid_t, H5Acreate2, (hid_t l, const char *n, hid_t t, hid_t s, hid_t a, hid_t b), (l, n, t, s, a, b))
WRAP(hid_t, H5Aopen, (hid_t o, const char *n, hid_t a), (o, n, a))
WRAP(hid_t, H5Aget_type, (hid_t a), (a))
WRAP(hid_t, H5Aget_space, (hid_t a), (a))

static void check_closed(const char *scenario)
{
    int open = 0;
    for (int i = 0; i < nids; i++) {
        if (H5Iis_valid(ids[i].id) > 0) {
            fprintf(stderr, "%s: an identifier from %s is still open\n", scenario, ids[i].by);
            open++;
        }
    }
    if (open) failures++;
    else printf("ok   %s (%d identifiers, all closed)\n", scenario, nids);
    nids = 0;
}

static void expect(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "FAIL %s (last error: %s)\n", what, ae_error());
        failures++;
    }
}

/* --- scenarios -------------------------------------------------------- */

static char dir[512];

static const char *path(const char *name)
{
    static char buf[8][1024];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void write_text(const char *p, const char *s)
{
    FILE *f = fopen(p, "wb");
    fputs(s, f);
    fclose(f);
}

static void round_trip(void)
{
    int64_t shape[2] = {3, 4};
    ae_tensor *t = ae_randn(2, shape);
    ae_h5 *f = ae_h5_open(path("rt.h5"), "w");
    expect(f != NULL, "create");
    double v[3] = {0.1, 0.2, 0.3};
    expect(ae_h5_write_tensor(f, "a/b/w", t) == 0, "write tensor");
    expect(ae_h5_write_tensor(f, "a/b/w", t) == 0, "rewrite in place");
    expect(ae_h5_write_f64(f, "m/loss", v, 3) == 0, "write f64");
    expect(ae_h5_write_bytes(f, "rng", "abc\0def", 7) == 0, "write bytes");
    expect(ae_h5_set_attr_str(f, "/", "format", "aerun.checkpoint") == 0, "string attr");
    expect(ae_h5_set_attr_int(f, "/", "v", 1) == 0, "int attr");
    expect(ae_h5_set_attr_f64(f, "g", "x", 2.5) == 0, "float attr on a new group");
    expect(ae_h5_set_attr_int(f, "/", "format", 3) == 0, "replace an attr");
    expect(ae_h5_create_group(f, "empty/group") == 0, "group");
    expect(ae_h5_close(f) == 0, "close");

    f = ae_h5_open(path("rt.h5"), "r");
    ae_tensor *r = ae_h5_read_tensor(f, "a/b/w");
    expect(r && memcmp(ae_data(r), ae_data(t), 12 * sizeof(float)) == 0, "tensor round trip");
    ae_release(r);
    int64_t n;
    double *d = ae_h5_read_f64(f, "m/loss", &n);
    expect(d && n == 3 && d[1] == 0.2, "f64 round trip");
    free(d);
    size_t nb;
    unsigned char *b = ae_h5_read_bytes(f, "rng", &nb);
    expect(b && nb == 7 && memcmp(b, "abc\0def", 7) == 0, "bytes round trip");
    free(b);
    char **names;
    size_t count;
    expect(ae_h5_list(f, "/", &names, &count) == 0 && count == 5, "list");
    ae_h5_free_names(names, count);
    expect(ae_h5_attr_names(f, "/", &names, &count) == 0 && count == 2, "attr names");
    for (size_t i = 0; i < count; i++) {
        ae_h5_value val;
        expect(ae_h5_get_attr(f, "/", names[i], &val) == 0, "get attr");
        ae_h5_value_free(&val);
    }
    ae_h5_free_names(names, count);
    int64_t s[AE_MAX_DIMS];
    expect(ae_h5_shape(f, "a/b/w", s) == 2 && s[0] == 3, "shape");
    expect(ae_h5_kind(f, "a/b") == AE_H5_GROUP && ae_h5_kind(f, "nope") == AE_H5_MISSING, "kind");
    expect(ae_h5_close(f) == 0, "close read");
    ae_release(t);
    check_closed("round trip");
}

static void failures_on_objects(void)
{
    ae_h5 *f = ae_h5_open(path("rt.h5"), "r");
    int64_t s[AE_MAX_DIMS], n;
    size_t nb, count;
    char **names;
    ae_h5_value val;
    ae_tensor *one = ae_zeros(0, s);
    expect(ae_h5_read_tensor(f, "a/missing") == NULL, "read missing");
    expect(ae_h5_read_tensor(f, "a/b") == NULL, "read group");
    expect(ae_h5_read_tensor(f, "a/b/w/x") == NULL, "read below a dataset");
    expect(ae_h5_read_tensor(f, "a//b") == NULL, "bad name");
    expect(ae_h5_read_f64(f, "nope", &n) == NULL, "f64 missing");
    expect(ae_h5_read_bytes(f, "a/b/w", &nb) == NULL, "bytes of floats");
    expect(ae_h5_list(f, "a/b/w", &names, &count) < 0, "list a dataset");
    expect(ae_h5_list(f, "nope", &names, &count) < 0, "list missing");
    expect(ae_h5_get_attr(f, "/", "nope", &val) < 0, "attr missing");
    expect(ae_h5_get_attr(f, "nope", "x", &val) < 0, "attr of missing object");
    expect(ae_h5_attr_names(f, "nope", &names, &count) < 0, "attr names of missing object");
    expect(ae_h5_shape(f, "a", s) < 0, "shape of a group");
    expect(ae_h5_write_tensor(f, "x", one) < 0, "write read-only");
    expect(ae_h5_set_attr_int(f, "/", "x", 1) < 0, "attr read-only");
    expect(ae_h5_close(f) == 0, "close");
    f = ae_h5_open(path("rt.h5"), "a");
    expect(ae_h5_write_tensor(f, "a/b/w/x", one) < 0, "write below a dataset");
    expect(ae_h5_set_attr_int(f, "a/b/w/x", "k", 1) < 0, "attr below a dataset");
    expect(ae_h5_create_group(f, "a/b/w") < 0, "group over a dataset");
    expect(ae_h5_write_tensor(f, "/", one) < 0, "root as a dataset");
    /* a compound attribute, made here with HDF5 itself */
    hid_t ct = H5Tcreate(H5T_COMPOUND, 4);
    H5Tinsert(ct, "a", 0, H5T_NATIVE_INT);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t file = H5Fopen(path("rt.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    H5Fclose(file);
    expect(ae_h5_close(f) == 0, "close a");
    file = H5Fopen(path("rt.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    int zero = 0;
    hid_t at = H5Acreate2(file, "comp", ct, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(at, ct, &zero);
    H5Aclose(at);
    H5Sclose(sp);
    H5Tclose(ct);
    H5Fclose(file);
    f = ae_h5_open(path("rt.h5"), "r");
    expect(ae_h5_get_attr(f, "/", "comp", &val) == AE_H5_UNSUPPORTED, "compound attr refused");
    expect(ae_h5_close(f) == 0, "close r");
    ae_release(one);
    check_closed("failures on objects");
}

static void bad_files(void)
{
    write_text(path("text.h5"), "not hdf5");
    write_text(path("empty.h5"), "");
    expect(ae_h5_open(path("text.h5"), "r") == NULL, "text file");
    expect(ae_h5_open(path("empty.h5"), "r") == NULL, "empty file");
    expect(ae_h5_open(path("missing.h5"), "r") == NULL, "missing file");
    expect(ae_h5_open(dir, "r") == NULL, "directory");
    expect(ae_h5_open(path("no/dir/x.h5"), "w") == NULL, "missing directory");
    expect(ae_h5_open(path("rt.h5"), "x") == NULL, "bad mode");
    /* truncated at several places */
    FILE *in = fopen(path("rt.h5"), "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    char *buf = malloc((size_t)size);
    fseek(in, 0, SEEK_SET);
    expect(fread(buf, 1, (size_t)size, in) == (size_t)size, "read file");
    fclose(in);
    long cuts[] = {size / 2, size - 1, 100, 9};
    for (int i = 0; i < 4; i++) {
        FILE *out = fopen(path("cut.h5"), "wb");
        fwrite(buf, 1, (size_t)cuts[i], out);
        fclose(out);
        ae_h5 *f = ae_h5_open(path("cut.h5"), "r");
        if (f) { /* opened: reading must still fail cleanly */
            ae_tensor *t = ae_h5_read_tensor(f, "a/b/w");
            ae_release(t);
            ae_h5_close(f);
        }
    }
    free(buf);
    check_closed("bad files");
}

static void atomic_files(void)
{
    int64_t shape[1] = {5};
    ae_tensor *t = ae_zeros(1, shape);
    ae_h5 *f = ae_h5_open(path("atomic.h5"), "w");
    expect(f && ae_h5_write_tensor(f, "x", t) == 0, "atomic write");
    expect(ae_h5_close(f) == 0, "atomic commit");
    f = ae_h5_open(path("atomic.h5"), "w");
    expect(f && ae_h5_write_tensor(f, "y", t) == 0, "atomic write 2");
    ae_h5_abort(f);
    expect(ae_h5_open(path("text.h5/x.h5"), "w") == NULL, "atomic below a file");
    /* a commit that cannot rename: the target is a directory */
    mkdir(path("adir"), 0755);
    f = ae_h5_open(path("adir"), "w");
    expect(f && ae_h5_write_tensor(f, "x", t) == 0, "atomic write 3");
    expect(ae_h5_close(f) < 0, "commit over a directory fails");
    ae_release(t);
    check_closed("atomic files");
}

/* writes that fail at the operating system: a file size limit */
static void failed_writes(void)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    setrlimit(RLIMIT_FSIZE, &lim);
    int64_t shape[2] = {300, 300};
    ae_tensor *t = ae_zeros(2, shape);
    ae_h5 *f = ae_h5_open(path("big.h5"), "w");
    expect(f != NULL, "create big");
    int rc = ae_h5_write_tensor(f, "x", t);
    if (rc == 0) rc = ae_h5_close(f);
    else ae_h5_abort(f);
    expect(rc < 0, "a write over the limit fails");
    printf("     the failure reads: %s\n", ae_error());
    f = ae_h5_open(path("big2.h5"), "w");
    rc = f ? ae_h5_write_tensor(f, "x", t) : -1;
    if (f) rc = ae_h5_close(f) < 0 ? -1 : rc;
    expect(rc < 0, "a plain write over the limit fails");
    setrlimit(RLIMIT_FSIZE, &old);
    ae_release(t);
    check_closed("failed writes");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: h5_leaks <empty directory>\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    round_trip();
    failures_on_objects();
    bad_files();
    atomic_files();
    failed_writes();
    printf("%s\n", failures ? "FAILED" : "all closed");
    return failures ? 1 : 0;
}
