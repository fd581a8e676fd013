#!/usr/bin/env bash
# Renders every overlay with kustomize and validates the result offline with kubeconform
# against the Kubernetes schemas and the CRD schemas of Strimzi, CloudNativePG, KEDA,
# external-secrets and the Prometheus operator (fetched by tools.sh). A resource whose
# schema is missing fails: nothing is skipped. Usage: bash deploy/k8s/validate.sh [overlay...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${ALIGNED_K8S_TOOLS:-$ROOT/.local/k8s}"
bash "$ROOT/deploy/k8s/tools.sh"
source "$OUT/versions.env"
overlays=("$@")
[ ${#overlays[@]} -gt 0 ] || overlays=($(ls "$ROOT/deploy/k8s/overlays"))
status=0
for overlay in "${overlays[@]}"; do
  rendered="$OUT/work/rendered-$overlay.yaml"
  "$OUT/bin/kustomize" build "$ROOT/deploy/k8s/overlays/$overlay" > "$rendered"
  echo "== $overlay"
  "$OUT/bin/kubeconform" -strict -summary -kubernetes-version "$KUBERNETES_VERSION" \
    -schema-location "$OUT/schemas/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$OUT/schemas/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
    "$rendered" || status=1
done
exit $status
