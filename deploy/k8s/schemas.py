"""Turns the schemas that deploy/k8s/tools.sh fetched into kubeconform's offline layout.

* Kubernetes: the `kubernetes-validate` wheel (PyPI) ships JSON schemas per Kubernetes version
  whose `$ref`s point at https://kubernetes.io/api/_definitions.json. Rewritten to point at the
  sibling file, kubeconform resolves them from disk: `kubernetes/<version>-standalone-strict/`.
* Operators: each CustomResourceDefinition's openAPIV3Schema becomes a JSON schema
  `crds/<group>/<kind>_<version>.json`, the conversion kubeconform's openapi2jsonschema does:
  strict (no unknown fields where the CRD lists properties, unless it preserves unknown
  fields), int-or-string and nullable spelled out in JSON Schema terms.

    python deploy/k8s/schemas.py kubernetes SRC_DIR DEST_DIR
    python deploy/k8s/schemas.py crds DEST_DIR CRD_FILE_OR_DIR...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

REMOTE_DEFINITIONS = "/api/_definitions.json"


class _CrdLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare `=` as the obscure `value` type; in a CRD it is just a string."""


_CrdLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _rewrite_refs(node, definitions_ref: str):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$id":
                continue  # the remote id would make refs resolve against kubernetes.io
            if key == "$ref" and isinstance(value, str) and value.startswith(REMOTE_DEFINITIONS):
                out[key] = definitions_ref + value[len(REMOTE_DEFINITIONS) :]
            else:
                out[key] = _rewrite_refs(value, definitions_ref)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, definitions_ref) for v in node]
    return node


def kubernetes(src: Path, dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(src.glob("*.json")):
        schema = json.loads(path.read_text())
        # Inside the definitions file a ref is local; elsewhere it names the sibling file.
        target = "" if path.name == "_definitions.json" else "_definitions.json"
        (dest / path.name).write_text(json.dumps(_rewrite_refs(schema, target)))
        count += 1
    return count


def _strict(node):
    """openapi2jsonschema: close objects that list properties; spell out k8s extensions."""
    if isinstance(node, list):
        return [_strict(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "format"):
            node.pop(key, None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if node.pop("nullable", False) and isinstance(node.get("type"), str):
        node["type"] = [node["type"], "null"]
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in node and "additionalProperties" not in node and not preserve:
        node["additionalProperties"] = False
    return node


def _crd_documents(paths: list[Path]):
    for root in paths:
        files = sorted(root.rglob("*.yaml")) if root.is_dir() else [root]
        for path in files:
            for doc in yaml.load_all(path.read_text(), Loader=_CrdLoader):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    yield doc


def crds(dest: Path, sources: list[Path]) -> int:
    count = 0
    for crd in _crd_documents(sources):
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"].lower()
        for version in crd["spec"]["versions"]:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if schema is None:
                continue
            out = _strict(schema)
            out["$schema"] = "http://json-schema.org/draft-07/schema#"
            # apiVersion/kind/metadata are the API server's; CRDs often leave metadata open.
            out.setdefault("properties", {}).setdefault("metadata", {"type": "object"})
            target = dest / group / f"{kind}_{version['name']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(out))
            count += 1
    return count


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "kubernetes":
        print(f"kubernetes: {kubernetes(Path(argv[1]), Path(argv[2]))} schemas")
        return 0
    if len(argv) >= 3 and argv[0] == "crds":
        written = crds(Path(argv[1]), [Path(p) for p in argv[2:]])
        if not written:
            print("no CustomResourceDefinition found", file=sys.stderr)
            return 1
        print(f"crds: {written} schemas")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
