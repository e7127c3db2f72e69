"""The kind platform: each region one kind cluster (``region-a``, ``region-b``) on a Docker
host, the global edge, the cross-region fault proxy (Toxiproxy) and the etcd witness as
containers on kind's Docker network, every stack deployed from ``clusters/`` with kustomize.

Everything it touches from the host is published on 127.0.0.1 (``layout``); every kube context
it acts on is one of its own clusters' or allow-listed by the suite (blast-radius guard).
"""
