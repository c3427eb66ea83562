-- aerun as a LuaRocks rock.  From a checkout:
--   luarocks --lua-version=5.4 make --tree=DIR      (or luarocks-5.4 make ...)
-- builds with the Makefile and installs what `make install` installs:
--   lib/lua/5.4/aerun.so         the module, with the Lua library compiled in
--   share/lua/5.4/aerun/*.lua    the Lua library's sources
--   bin/aerun                    the executable
-- The version is lua/aerun/init.lua's ae.version and runtime/core/version.h's
-- AERUN_VERSION (tests/rock_spec.lua checks that the three agree).
rockspec_format = "3.0"
package = "aerun"
version = "0.1.0-1"

source = {
  -- `luarocks make` builds the checkout it runs in and never fetches this
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
  -- the Makefile's default target (all) builds both; its install target
  -- puts them into the rock's directories, which LuaRocks then deploys
  variables = {
    LUA = "$(LUA)",                      -- runs tools/embed.lua at build time
    LUA_CFLAGS = "-I$(LUA_INCDIR)",      -- the Lua this rock is for
  },
  install_variables = {
    INSTALL_BIN = "$(BINDIR)",
    INSTALL_CMOD = "$(LIBDIR)",
    INSTALL_LMOD = "$(LUADIR)",
  },
}
