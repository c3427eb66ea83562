#!/bin/sh
# Runs every busted spec under tests/ against the built module and executable.
# Debian's busted script starts with whatever /usr/bin/lua is, so it is run
# under lua5.4 explicitly.  The last line printed is "N passed, M failed".
BUILD=${BUILD:-build}
export BUILD
export LUA_CPATH="$BUILD/?.so;;"
export AERUN_BIN="$BUILD/aerun"
exec lua5.4 /usr/bin/busted --output=tests/summary_output.lua "$@" tests
