#!/usr/bin/env python3
"""Renders a Kustomize overlay without kubectl, for CI machines that have none.

Only what deploy/k8s uses: `resources` (files and directories with a kustomization.yaml),
`images` (newName, newTag) and `patches` given as JSON 6902 files with a target kind and
name. ci/deploy-check.sh compares its output with `kubectl kustomize` where kubectl exists.

    python3 ci/kustomize.py deploy/k8s/overlays/gpu > rendered.yaml
"""
import os
import sys

import jsonpatch
import yaml


def render(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        k = yaml.safe_load(f)
    known = {"apiVersion", "kind", "resources", "images", "patches"}
    unknown = set(k) - known
    if unknown:
        sys.exit(f"{directory}: kustomization fields this renderer does not know: {sorted(unknown)}")
    docs = []
    for resource in k.get("resources", []):
        path = os.path.join(directory, resource)
        if os.path.isdir(path):
            docs.extend(render(path))
        else:
            with open(path) as f:
                docs.extend(d for d in yaml.safe_load_all(f) if d)
    for image in k.get("images", []):
        for doc in docs:
            spec = doc.get("spec", {}).get("template", {}).get("spec", {})
            for container in spec.get("containers", []):
                name, _, _ = container["image"].partition(":")
                if name == image["name"]:
                    name = image.get("newName", name)
                    container["image"] = f"{name}:{image['newTag']}" if "newTag" in image else name
    for patch in k.get("patches", []):
        with open(os.path.join(directory, patch["path"])) as f:
            ops = yaml.safe_load(f)
        target = patch["target"]
        matched = [d for d in docs if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        if not matched:
            sys.exit(f"{directory}: patch {patch['path']} matches no resource")
        for doc in matched:
            docs[docs.index(doc)] = jsonpatch.apply_patch(doc, ops)
    return docs


if __name__ == "__main__":
    yaml.safe_dump_all(render(sys.argv[1]), sys.stdout, sort_keys=True)
