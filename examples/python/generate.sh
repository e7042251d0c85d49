#!/usr/bin/env bash
# Generates the Python stubs for veribatch.v1 from ../../proto into ./generated/.
# Runs from any directory; set PYTHON to choose the interpreter (default: python3).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf generated
mkdir -p generated
"${PYTHON:-python3}" -m grpc_tools.protoc \
  -I ../../proto \
  --python_out=generated \
  --grpc_python_out=generated \
  veribatch/v1/verifier.proto
echo "generated stubs in $(pwd)/generated"
