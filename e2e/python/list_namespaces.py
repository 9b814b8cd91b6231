#!/usr/bin/env python3
"""Lists Navarch namespaces with a Python client generated from proto/.

Generate the stubs first (from the repository root):

    python3 -m grpc_tools.protoc -I proto --python_out=OUT --grpc_python_out=OUT \
        $(find proto -name '*.proto')

then run, with OUT on PYTHONPATH:

    python3 list_namespaces.py 127.0.0.1:7443 "$(sed -n 's/^token: //p' ~/.navarch/config)"

Prints the namespace names one per line. Without a token (or on any gRPC error) it prints the
gRPC status code name, e.g. UNAUTHENTICATED, and exits with status 1.
"""
import sys

import grpc

from navarch.api.v1 import api_pb2, api_pb2_grpc


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(f"usage: {sys.argv[0]} HOST:PORT [TOKEN]", file=sys.stderr)
        return 2
    address = sys.argv[1]
    token = sys.argv[2] if len(sys.argv) == 3 else ""
    metadata = [("authorization", f"Bearer {token}")] if token else []
    # No proxy: the API is on this machine.
    with grpc.insecure_channel(address, options=[("grpc.enable_http_proxy", 0)]) as channel:
        namespaces = api_pb2_grpc.NamespaceServiceStub(channel)
        try:
            page = namespaces.List(api_pb2.ListRequest(), metadata=metadata, timeout=10)
        except grpc.RpcError as err:
            print(err.code().name)
            return 1
    for ns in page.items:
        print(ns.metadata.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
