#!/usr/bin/env bash
# Installs what deploy/k8s validation needs, from package registries only, into .local/k8s/:
#   bin/kustomize, bin/kubeconform          Go module proxy (go install)
#   schemas/kubernetes/<ver>-standalone-strict  PyPI: kubernetes-validate's JSON schemas
#   schemas/crds/<group>/<kind>_<ver>.json   CRDs of CloudNativePG, KEDA, external-secrets and
#                                            prometheus-operator (Go module proxy), Strimzi
#                                            (generated from its Maven Central jars)
# Idempotent and cached: a second run does nothing. Usage: bash deploy/k8s/tools.sh
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/deploy/k8s"
OUT="${ALIGNED_K8S_TOOLS:-$ROOT/.local/k8s}"
PYTHON="${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python3)}"

KUSTOMIZE_VERSION=v5.7.1
KUBECONFORM_VERSION=v0.7.0
KUBERNETES_VERSION=1.32.0              # the cluster version manifests are checked against
KUBERNETES_VALIDATE_VERSION=1.37.0     # PyPI package that ships the Kubernetes schemas
CNPG_VERSION=v1.27.1
KEDA_VERSION=v2.17.2
ESO_VERSION=v0.16.2
PROMETHEUS_OPERATOR_VERSION=v0.85.0
STRIMZI_VERSION=0.45.0                 # also in tools/strimzi-pom.xml

mkdir -p "$OUT/bin" "$OUT/schemas" "$OUT/stamps" "$OUT/work"
log() { echo "[k8s-tools] $*" >&2; }
done_already() { [ -f "$OUT/stamps/$1" ]; }
mark_done() { touch "$OUT/stamps/$1"; }

go_tool() {  # name module version
  local name=$1 module=$2 version=$3
  done_already "$name-$version" && [ -x "$OUT/bin/$name" ] && return
  log "go install $module@$version"
  GOBIN="$OUT/bin" GOFLAGS=-mod=mod go install "$module@$version"
  mark_done "$name-$version"
}

kubernetes_schemas() {
  local stamp="kubernetes-$KUBERNETES_VERSION-$KUBERNETES_VALIDATE_VERSION"
  done_already "$stamp" && return
  log "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION from PyPI"
  local dl="$OUT/work/kubernetes-validate"
  rm -rf "$dl" && mkdir -p "$dl"
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    "$PYTHON" -m pip download --quiet --no-deps -d "$dl" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  elif python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps -d "$dl" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  else
    uv pip install --quiet --no-deps --target "$dl/site" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
  local src="kubernetes_validate/kubernetes-json-schema/v$KUBERNETES_VERSION-local-strict"
  if ls "$dl"/*.whl >/dev/null 2>&1; then
    "$PYTHON" -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.startswith(sys.argv[3] + '/')]" \
      "$(ls "$dl"/*.whl | head -1)" "$dl/site" "$src"
  fi
  "$PYTHON" "$HERE/schemas.py" kubernetes "$dl/site/$src" "$OUT/schemas/kubernetes/v$KUBERNETES_VERSION-standalone-strict"
  rm -rf "$dl"
  mark_done "$stamp"
}

go_module_dir() {  # module@version -> its directory in the module cache
  (cd "$OUT/work" && GOFLAGS=-mod=mod go mod download -json "$1") | "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)['Dir'])"
}

go_module_crds() {  # name module@version subdir
  local name=$1 module=$2 subdir=$3
  done_already "crds-$name-${module##*@}" && return
  log "CRDs of $module ($subdir)"
  local dir
  dir="$(go_module_dir "$module")"
  "$PYTHON" "$HERE/schemas.py" crds "$OUT/schemas/crds" "$dir/$subdir"
  mark_done "crds-$name-${module##*@}"
}

strimzi_crds() {
  done_already "crds-strimzi-$STRIMZI_VERSION" && return
  log "Strimzi $STRIMZI_VERSION API and CRD generator from Maven Central"
  local work="$OUT/work/strimzi"
  rm -rf "$work" && mkdir -p "$work/crds"
  (cd "$work" && mvn --batch-mode --quiet -f "$HERE/tools/strimzi-pom.xml" \
     -Dstrimzi.version="$STRIMZI_VERSION" dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt")
  local model=io.strimzi.api.kafka.model
  java -cp "$(cat "$work/classpath.txt")" io.strimzi.crdgenerator.CrdGenerator \
    --crd-api-version v1 --api-versions v1beta2 --storage-version v1beta2 --yaml \
    "$model.kafka.Kafka=$work/crds/kafka.yaml" \
    "$model.nodepool.KafkaNodePool=$work/crds/kafkanodepool.yaml" \
    "$model.topic.KafkaTopic=$work/crds/kafkatopic.yaml" \
    "$model.user.KafkaUser=$work/crds/kafkauser.yaml" 2>/dev/null
  "$PYTHON" "$HERE/schemas.py" crds "$OUT/schemas/crds" "$work/crds"
  rm -rf "$work"
  mark_done "crds-strimzi-$STRIMZI_VERSION"
}

go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
kubernetes_schemas
go_module_crds cloudnative-pg "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION" config/crd/bases
go_module_crds keda "github.com/kedacore/keda/v2@$KEDA_VERSION" config/crd/bases
go_module_crds external-secrets "github.com/external-secrets/external-secrets@$ESO_VERSION" config/crds/bases
go_module_crds prometheus-operator "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" example/prometheus-operator-crd
strimzi_crds
echo "KUBERNETES_VERSION=$KUBERNETES_VERSION" > "$OUT/versions.env"
log "ready in $OUT"
