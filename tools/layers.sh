#!/bin/sh
# Checks the includes between the runtime's layers (docs/architecture.md):
#   core  may include core
#   ops   may include core and ops
#   io    may include core and io
#   lua   may include every layer, and Lua
# Lua's headers are on runtime/lua's include path alone, so the compiler
# refuses lua.h elsewhere too; this check names the rule.  Prints each
# offending include and fails; silent when the layers are clean.
cd "$(dirname "$0")/.." || exit 2
out=$(
for layer in core ops io lua; do
    case $layer in
    core) allowed="core" ;;
    ops) allowed="core ops" ;;
    io) allowed="core io" ;;
    lua) allowed="core ops io lua" ;;
    esac
    for f in runtime/$layer/*.c runtime/$layer/*.h; do
        [ -e "$f" ] || continue
        grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
            inc=$(printf '%s\n' "$line" | sed -n 's/.*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p')
            case "$inc" in
            \"core/*|\"ops/*|\"io/*|\"lua/*)
                to=${inc#\"}; to=${to%%/*}
                case " $allowed " in
                *" $to "*) ;;
                *) echo "$f:${line%%:*}: the $layer layer includes $inc; it may use only: $allowed" ;;
                esac ;;
            \<lua*|\<lauxlib*|\<lualib*)
                [ $layer = lua ] || echo "$f:${line%%:*}: the $layer layer includes $inc; only runtime/lua may use Lua" ;;
            \<hdf5*|\<H5*|\<png.h\>|\<jpeglib.h\>|\<cairo.h\>|\<cairo/*)
                [ $layer = io ] || [ $layer = lua ] || echo "$f:${line%%:*}: the $layer layer includes $inc; file formats belong to runtime/io" ;;
            esac
        done
    done
done)
[ -z "$out" ] && exit 0
printf '%s\n' "$out" >&2
echo "layers: $(printf '%s\n' "$out" | wc -l) include(s) break the layers' rules (docs/architecture.md)" >&2
exit 1
