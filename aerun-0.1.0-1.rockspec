-- aerun as a LuaRocks rock.  In a checkout:
--   luarocks --lua-version=5.4 make --tree=DIR
-- runs the Makefile (into build/, as make does) and its install target,
-- so a rock holds what `make install` installs:
--   bin/aerun                    the executable
--   lib/lua/5.4/aerun.so         the module, the Lua library compiled in
--   share/lua/5.4/aerun/*.lua    the Lua library's sources
-- The C libraries it links come from the system (make deps on Debian).
-- The version is ae.version (lua/aerun/init.lua) and AERUN_VERSION
-- (runtime/core/version.h); tests/rock_spec.lua checks that all agree.
rockspec_format = "3.0"
package = "aerun"
version = "0.1.0-1"

source = {
  -- `luarocks make` builds the checkout it runs in and never fetches this;
  -- a packed source rock needs the project's public repository here
  url = "git+file://.",
}

description = {
  summary = "A C runtime with a Lua 5.4 binding for autoencoder experiments",
  detailed = [[
    Float32 tensors, define-by-run autograd, layers, losses, optimizers and
    dataset readers (IDX, HDF5, NPY, CSV, images) in C, driven by plain Lua
    5.4 scripts with PyTorch's names: nn.Linear, opt:zero_grad(),
    loss:backward(), opt:step().
  ]],
}

dependencies = {
  "lua >= 5.4, < 5.5",
}

build = {
  type = "make",
  -- both passes: the default target (all) builds, install installs.  The
  -- Makefile keeps its own optimisation flags (OPT), so LuaRocks warns that
  -- its CFLAGS is not passed; OPT=... in the environment changes them.
  variables = {
    LUA = "$(LUA)",                   -- runs tools/embed.lua at build time
    LUA_CFLAGS = "-I$(LUA_INCDIR)",   -- the headers of the Lua the rock is for
  },
  -- the Makefile's install directories, named as in Lua's own Makefile
  install_variables = {
    INSTALL_BIN = "$(BINDIR)",
    INSTALL_CMOD = "$(LIBDIR)",
    INSTALL_LMOD = "$(LUADIR)",
  },
}
