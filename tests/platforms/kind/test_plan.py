"""The kind platform's up and down plans, pinned command by command (kind/plan.py)."""

from __future__ import annotations

from pathlib import Path

from gameday.platforms.kind.containers import Publish, SideContainer
from gameday.platforms.kind.edgefiles import edge_runs
from gameday.platforms.kind.plan import (
    Command,
    KindRequest,
    ProxyCall,
    down_plan,
    images_for,
    links_for,
    up_plan,
)

HOME = Path("/srv/gameday-home")
ROOT = Path(".")
WITNESS = SideContainer(name="gameday-etcd-witness", image="quay.io/coreos/etcd:v3.5.15",
                        stacks=("rag",), args=("etcd", "--name", "witness"),
                        env={"ETCD_LOG_LEVEL": "warn"},
                        publish=(Publish(host_port=32379, container_port=2379),))

CLUSTERS = [
    "kind create cluster --name region-a --config clusters/kind/region-a.yaml --wait 180s",
    "kind create cluster --name region-b --config clusters/kind/region-b.yaml --wait 180s",
]


def _build(image: str, dockerfile: str) -> list[str]:
    # the tabular image keeps the checkout's absolute path (its MLflow registry names it)
    checkout = f" --build-arg CHECKOUT={Path(__file__).resolve().parents[3]}" \
        if dockerfile == "tabular" else ""
    return [f"docker build -t {image} -f clusters/docker/{dockerfile}.Dockerfile{checkout} .",
            f"kind load docker-image {image} --name region-a",
            f"kind load docker-image {image} --name region-b"]


TOXIPROXY = ("docker run -d --name gameday-toxiproxy --network kind -p 127.0.0.1:8474:8474 "
             "ghcr.io/shopify/toxiproxy:2.9.0")


def _link(name: str, listen: int, upstream: str) -> str:
    return ('POST http://127.0.0.1:8474/proxies {"name":"' + name + '","listen":'
            f'"gameday-toxiproxy:{listen}","upstream":"{upstream}","enabled":true}}')


EDGE = [
    "docker run -d --network kind --user 1000:1000 --name gameday-edge-haproxy "
    "-p 127.0.0.1:8081:8081 -p 127.0.0.1:8404:8404 "
    f"-v {HOME}/edge/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro "
    f"-v {HOME}/edge/regions.map:/usr/local/etc/haproxy/regions.map:ro "
    f"-v {HOME}/edge/run:/var/run/gameday haproxy:2.8",
    "docker run -d --network kind --user 1000:1000 --name gameday-edge-nginx "
    "-p 127.0.0.1:8080:8080 -p 127.0.0.1:8082:8082 "
    f"-v {HOME}/edge/nginx-home:/etc/gameday "
    f"-v {HOME}/edge/nginx.conf:/etc/gameday/nginx.conf:ro "
    f"-v {HOME}/edge/modsecurity.conf:/etc/gameday/modsecurity.conf:ro "
    "-v /usr/share/modsecurity-crs:/usr/share/modsecurity-crs:ro "
    "-v /etc/nginx/unicode.mapping:/etc/nginx/unicode.mapping:ro "
    "-v {x}:{x}:ro --entrypoint nginx owasp/modsecurity-crs:4.7.0-nginx-202410090410 "
    "-c /etc/gameday/nginx.conf -g 'daemon off;'".replace(
        "{x}", str(Path(__file__).resolve().parents[3] / "targets/edge/crs-exclusions.conf")),
]


def _apply(region: str, stacks: list[str]) -> list[str]:
    kubectl = f"kubectl --context kind-{region} apply -k clusters/manifests"
    return [f"{kubectl}/metrics/overlays/{region}",
            *(f"{kubectl}/{stack}/overlays/{region}" for stack in stacks)]


def _lines(request: KindRequest, existing: tuple[str, ...] = ()) -> list[str]:
    return [step.line for step in up_plan(request, root=ROOT, home=HOME, existing=existing)]


def _request(*stacks: str, gpu: bool = False) -> KindRequest:
    return KindRequest(stacks=stacks, components=(("triton", "gpu"),) if gpu else (),
                       containers=(WITNESS,),
                       edge_runs=edge_runs(HOME, uid=1000, gid=1000))


def test_the_tabular_plan_is_pinned_command_by_command() -> None:
    assert _lines(_request("tabular")) == [
        *CLUSTERS,
        *_build("gameday/tabular:dev", "tabular"),
        TOXIPROXY,
        _link("tabular-api-region-a", 20100, "region-a-control-plane:30100"),
        _link("tabular-api-region-b", 21100, "region-b-control-plane:30100"),
        *EDGE,
        *_apply("region-a", ["tabular"]),
        *_apply("region-b", ["tabular"]),
    ]


def test_the_rag_and_tabular_plan_is_pinned_command_by_command() -> None:
    assert _lines(_request("tabular", "rag")) == [
        *CLUSTERS,
        *_build("gameday/tabular:dev", "tabular"),
        *_build("gameday/rag:dev", "rag"),
        *_build("gameday/embedder:dev", "embedder"),
        *_build("gameday/postgres-patroni:dev", "postgres-patroni"),
        TOXIPROXY,
        _link("tabular-api-region-a", 20100, "region-a-control-plane:30100"),
        _link("tabular-api-region-b", 21100, "region-b-control-plane:30100"),
        _link("rag-api-region-a", 20300, "region-a-control-plane:30300"),
        _link("rag-api-region-b", 21300, "region-b-control-plane:30300"),
        _link("rag-db-region-a", 20432, "region-a-control-plane:30432"),
        _link("rag-db-region-b", 21432, "region-b-control-plane:30432"),
        _link("rag-db-patroni-region-a", 20808, "region-a-control-plane:30808"),
        _link("rag-db-patroni-region-b", 21808, "region-b-control-plane:30808"),
        "docker run -d --name gameday-etcd-witness --network kind -p 127.0.0.1:32379:2379 "
        "-e ETCD_LOG_LEVEL=warn quay.io/coreos/etcd:v3.5.15 etcd --name witness",
        *EDGE,
        *_apply("region-a", ["tabular", "rag"]),
        *_apply("region-b", ["tabular", "rag"]),
    ]


def test_a_cluster_kind_already_lists_is_not_created_again() -> None:
    lines = _lines(_request("tabular"), existing=("region-a",))
    assert [line for line in lines if line.startswith("kind create")] == [CLUSTERS[1]]
    assert _lines(_request("tabular"), existing=("region-a", "region-b"))[0] == \
        _build("gameday/tabular:dev", "tabular")[0]


def test_every_step_says_why_in_one_line() -> None:
    for step in up_plan(_request("tabular", "rag", "triton"), root=ROOT, home=HOME):
        assert step.why and "\n" not in step.why


def test_tritons_server_is_pulled_and_its_models_image_built() -> None:
    lines = _lines(_request("triton"))
    image = "nvcr.io/nvidia/tritonserver:24.08-py3"
    assert [line for line in lines if line.startswith(("docker pull", "docker build",
                                                        "kind load"))] == [
        f"docker pull {image}",
        f"kind load docker-image {image} --name region-a",
        f"kind load docker-image {image} --name region-b",
        *_build("gameday/triton-models:dev", "triton-models")]


def test_triton_gets_the_gpu_overlay_only_when_a_gpu_is_asked_for() -> None:
    cpu = [line for line in _lines(_request("triton")) if "triton" in line
           and line.startswith("kubectl")]
    assert cpu == [f"kubectl --context kind-{r} apply -k clusters/manifests/triton/overlays/{r}"
                   for r in ("region-a", "region-b")]
    gpu = [line for line in _lines(_request("triton", gpu=True)) if "triton" in line
           and line.startswith("kubectl")]
    assert gpu == [f"kubectl --context kind-{r} apply -k {HOME}/kustomize/triton-{r}"
                   for r in ("region-a", "region-b")]


def test_links_go_through_toxiproxy_to_each_regions_node_port() -> None:
    links = {link.name: link for link in links_for(["rag"])}
    assert sorted(links) == ["rag-api-region-a", "rag-api-region-b", "rag-db-patroni-region-a",
                             "rag-db-patroni-region-b", "rag-db-region-a", "rag-db-region-b"]
    patroni = links["rag-db-patroni-region-b"]
    assert (patroni.listen, patroni.upstream) == ("gameday-toxiproxy:21808",
                                                  "region-b-control-plane:30808")


def test_the_proxies_are_api_calls_on_loopback_not_shell_steps() -> None:
    calls = [s for s in up_plan(_request("tabular"), root=ROOT, home=HOME)
             if isinstance(s, ProxyCall)]
    assert [c.url for c in calls] == ["http://127.0.0.1:8474/proxies"] * 2
    assert all(isinstance(s, Command) for s in up_plan(_request("tabular"), root=ROOT,
                                                        home=HOME) if s not in calls)


def test_images_are_named_once_in_the_stacks_order() -> None:
    assert images_for(["rag", "tabular", "rag"]) == [
        "gameday/rag:dev", "gameday/embedder:dev", "gameday/postgres-patroni:dev",
        "gameday/tabular:dev"]


def test_the_feature_store_component_adds_its_image_only_with_its_stack() -> None:
    feature_store = [("tabular", "feature-store")]
    assert images_for(["tabular"], feature_store) == ["gameday/tabular:dev",
                                                      "gameday/tabular-features:dev"]
    assert images_for(["rag"], feature_store) == [
        "gameday/rag:dev", "gameday/embedder:dev", "gameday/postgres-patroni:dev"]


def test_every_built_image_has_its_dockerfile_in_clusters_docker() -> None:
    repo = Path(__file__).resolve().parents[3]
    lines = _lines(KindRequest(stacks=("tabular", "rag", "triton"),
                               components=(("tabular", "feature-store"),)))
    for line in lines:
        if line.startswith("docker build"):
            assert (repo / line.split(" -f ")[1].split()[0]).is_file(), line


def test_down_removes_the_side_containers_then_both_clusters() -> None:
    assert [step.line for step in down_plan(["gameday-etcd-witness", "gameday-etcd-witness"])] \
        == ["docker rm -f gameday-edge-nginx gameday-edge-haproxy gameday-etcd-witness "
            "gameday-toxiproxy",
            "kind delete cluster --name region-a", "kind delete cluster --name region-b"]
