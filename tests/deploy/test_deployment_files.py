"""The deployment files (Dockerfile, deploy/) without a cluster or a Docker daemon: valid against the
Kubernetes schemas (kubernetes-validate) and the Compose Specification's schema, and true to the
program: real `chatrec` commands and probes, real settings, no secret values (`make check-deploy`)."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import fields
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import yaml

try:
    import kubernetes_validate
except ImportError as missing:  # an environment older than requirements.lock
    raise ImportError("kubernetes-validate is missing: "
                      "`make setup` builds the environment of requirements.lock") from missing

from chatrec.cli import COMMANDS
from chatrec.settings import OFFLINE, ROOT, Settings, variable

DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
COMPOSE = DEPLOY / "compose.yaml"
# The Compose Specification's schema ships in the docker-compose 1.29.2 wheel, which
# scripts/setup-env.sh unpacks (files only) into the environment; COMPOSE_SPEC_HOME points elsewhere.
COMPOSE_SPEC_HOME = Path(os.environ.get("COMPOSE_SPEC_HOME") or Path(sys.prefix) / "opt" / "compose")
KUBERNETES_VERSION = "1.28.0"  # the newest schemas kubernetes-validate 1.28.3 bundles

SETTINGS = {variable(spec.name) for spec in fields(Settings)}
PROBES = {"ready", "worker", "learning-worker"}  # `chatrec probe <what>`
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET")
# user:password@ in a URL; the password a ${...} reference (which may hold spaces) or plain characters
CREDENTIALS_IN_URL = re.compile(r"://[^/:@\s]+:(\$\{[^}]*\}|[^/@\s]*)@")
PURE_REFERENCE = re.compile(r"\$\{[A-Za-z_]\w*(:?[-?][^}]*)?\}")
# Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR, $$
INTERPOLATION = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
                           r"|(?P<bare>[A-Za-z_]\w*))")
TEST_ENVIRONMENT = {"POSTGRES_PASSWORD": "test-password"}


# --- reading the files ---------------------------------------------------------------------------

@cache  # read once; the tests only read what it returns
def manifests() -> list[tuple[str, dict]]:
    """(file, document) for every Kubernetes object under deploy/kubernetes."""
    return [(path.name, document)
            for path in sorted(KUBERNETES.glob("*.yaml")) if path.name != "kustomization.yaml"
            for document in yaml.safe_load_all(path.read_text()) if document]


def objects(kind: str) -> dict[str, dict]:
    return {document["metadata"]["name"]: document for _, document in manifests() if document["kind"] == kind}


def pod_specs() -> dict[str, dict]:
    """Workload name -> its pod spec (Deployments, the StatefulSet, the Job)."""
    return {name: document["spec"]["template"]["spec"] for kind in ("Deployment", "StatefulSet", "Job")
            for name, document in objects(kind).items()}


def containers() -> dict[str, dict]:
    return {container["name"]: container for spec in pod_specs().values()
            for container in spec.get("initContainers", []) + spec["containers"]}


def config_map() -> dict[str, str]:
    return objects("ConfigMap")["chatrec-config"]["data"]


def interpolate(value: object, environ: dict[str, str]) -> object:
    """`value` with Compose's variables replaced from `environ`; a missing required one raises KeyError."""
    if isinstance(value, dict):
        return {key: interpolate(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, environ) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"] or match["bare"], match["op"] or "", match["arg"] or ""
        found = environ.get(name)
        missing = found is None or (op.startswith(":") and found == "")
        if op.endswith("?") and missing:
            raise KeyError(f"{name}: {arg}")
        if op.endswith("-") and missing:
            return arg
        return found or ""

    return INTERPOLATION.sub(replace, value)


@cache
def compose_raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())  # merge keys (<<) and aliases resolved, nothing interpolated


def compose(environ: dict[str, str] = TEST_ENVIRONMENT) -> dict:
    return interpolate(compose_raw(), environ)


def services() -> dict[str, dict]:
    return compose()["services"]


def chatrec_services() -> dict[str, dict]:
    """The services that run the Chat-Rec image."""
    image = compose_raw()["x-image"]["image"]
    return {name: service for name, service in compose_raw()["services"].items()
            if service.get("image") == image}


def command_of(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else command


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


# --- Kubernetes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("source, document", manifests(),
                         ids=[f"{source}:{document['kind']}/{document['metadata']['name']}"
                              for source, document in manifests()])
def test_each_kubernetes_object_matches_its_schema(source: str, document: dict) -> None:
    # strict: the schemas that refuse unknown fields, so a misspelt key fails too
    assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True) == "1.28"


def test_the_kustomization_lists_every_manifest_but_the_optional_channels() -> None:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    files = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {"channels.yaml"}
    assert "channels.yaml" in (KUBERNETES / "kustomization.yaml").read_text()


def test_manifests_name_no_namespace_and_hold_no_secret() -> None:
    for source, document in manifests():
        assert "namespace" not in document["metadata"], f"{source}: kubectl -n chooses the namespace"
        assert document["kind"] != "Secret", f"{source}: secrets are created with kubectl, never written here"
    values = dict(config_map()) | {entry["name"]: entry["value"] for container in containers().values()
                                   for entry in container.get("env", []) if "value" in entry}
    for name, value in values.items():
        assert not SECRET_NAME.search(name) and not CREDENTIALS_IN_URL.search(value), name


def test_secret_values_come_from_the_documented_secret() -> None:
    documented = set(re.findall(r"--from-literal=(\w+)=", (KUBERNETES / "config.yaml").read_text()))
    for name, container in containers().items():
        for entry in container.get("env", []):
            if SECRET_NAME.search(entry["name"]) or entry["name"] in {"CHATREC_DATABASE_URL",
                                                                      "CHATREC_TRACKER_STORE_URL"}:
                assert "secretKeyRef" in entry.get("valueFrom", {}), (
                    f"{name}: {entry['name']} must come from a Secret")
            reference = entry.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == "chatrec-secrets" and reference["key"] == entry["name"], entry
                assert reference.get("optional") or reference["key"] in documented, (
                    f"{reference['key']}: config.yaml's `kubectl create secret` line should name it")
        assert not any("secretRef" in source for source in container.get("envFrom", [])), (
            f"{name}: only the keys it needs, by name")


def test_every_container_runs_a_chatrec_command_through_the_images_entrypoint() -> None:
    expected = {"bot": "bot", "router": "router", "actions": "actions", "worker": "worker",
                "learning-worker": "learning-worker", "beat": "beat", "train": "train",
                "telegram": "telegram", "slack": "slack"}
    found = {}
    for name, container in containers().items():
        assert "command" not in container, (
            f"{name}: the image's ENTRYPOINT (python -m chatrec) runs the command")
        assert container["args"][0] in COMMANDS, f"{name}: `chatrec {container['args'][0]}` does not exist"
        found[name] = container["args"][0]
        assert container["image"] == "chatrec:latest", name  # one image; kustomization's images: retags it
        assert {"configMapRef": {"name": "chatrec-config"}} in container["envFrom"], name
    assert found == expected


def test_every_chatrec_variable_set_is_a_setting() -> None:
    names = {(f"ConfigMap {key}", key) for key in config_map()}
    names |= {(f"{container} env", entry["name"]) for container, spec in containers().items()
              for entry in spec.get("env", [])}
    unknown = sorted(where for where, name in names if name not in SETTINGS)
    assert not unknown, f"not a setting of chatrec/settings.py: {unknown}"


def exec_probe(container: dict, probe: str) -> list[str] | None:
    found = container.get(probe, {})
    return found.get("exec", {}).get("command")


def http_probe(container: dict, probe: str) -> tuple[str, int] | None:
    found = container.get(probe, {}).get("httpGet")
    if found is None:
        return None
    ports = {port["name"]: port["containerPort"] for port in container.get("ports", [])}
    return found["path"], ports.get(found["port"], found["port"])


def test_probes_are_the_processes_own() -> None:
    every = containers()
    config = config_map()
    rasa, router, actions = (int(config[name]) for name in
                             ("CHATREC_RASA_PORT", "CHATREC_ROUTER_PORT", "CHATREC_ACTIONS_PORT"))
    bot = every["bot"]
    assert http_probe(bot, "livenessProbe") == http_probe(bot, "startupProbe") == ("/status", rasa)
    assert exec_probe(bot, "readinessProbe") == ["python", "-m", "chatrec", "probe", "ready"]
    assert http_probe(every["router"], "livenessProbe") == ("/health", router)
    assert http_probe(every["router"], "readinessProbe") == ("/ready", router)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert http_probe(every["actions"], probe) == ("/health", actions)
    for worker in ("worker", "learning-worker"):
        for probe in ("startupProbe", "livenessProbe"):
            assert exec_probe(every[worker], probe) == ["python", "-m", "chatrec", "probe", worker]
    for name, container in every.items():
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            command = exec_probe(container, probe)
            if command:
                assert command[:4] == ["python", "-m", "chatrec", "probe"], (name, probe)
                assert command[4] in PROBES, (name, probe)
    assert "probe" in COMMANDS and all(f"`probe {what}`" in COMMANDS["probe"][0] for what in PROBES)


def test_the_router_lists_every_bot_of_the_stateful_set() -> None:
    bot = objects("StatefulSet")["bot"]
    service = objects("Service")[bot["spec"]["serviceName"]]
    assert service["spec"]["clusterIP"] == "None", "headless: each bot pod gets its own name"
    assert service["spec"]["selector"] == bot["spec"]["selector"]["matchLabels"]
    name, port = service["metadata"]["name"], config_map()["CHATREC_RASA_PORT"]
    expected = [f"http://bot-{index}.{name}:{port}" for index in range(bot["spec"]["replicas"])]
    assert config_map()["CHATREC_RASA_BACKENDS"].split(",") == expected
    assert config_map()["CHATREC_RASA_URL"] == f"http://router:{config_map()['CHATREC_ROUTER_PORT']}"
    assert config_map()["CHATREC_ACTIONS_URL"] == f"http://actions:{config_map()['CHATREC_ACTIONS_PORT']}/webhook"


def test_replicas_storage_and_the_train_job() -> None:
    deployments, statefulset = objects("Deployment"), objects("StatefulSet")["bot"]
    assert statefulset["spec"]["replicas"] == 2
    replicas = {name: deployments[name]["spec"]["replicas"] for name in ("worker", "learning-worker", "beat")}
    assert replicas == {"worker": 2, "learning-worker": 1, "beat": 1}
    assert deployments["beat"]["spec"]["strategy"]["type"] == "Recreate", (
        "never two beats, even while updating")
    assert set(objects("Job")) == {"train"}
    claim = objects("PersistentVolumeClaim")["models"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    models_dir = config_map()["CHATREC_MODELS_DIR"]
    for name, spec in pod_specs().items():
        volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
        mounts = {mount["mountPath"]: mount["name"] for container in spec["containers"]
                  for mount in container.get("volumeMounts", [])}
        if name not in ("beat", "router", "telegram", "slack"):
            assert volumes[mounts[models_dir]]["persistentVolumeClaim"]["claimName"] == "models", name
        assert set(mounts.values()) <= set(volumes), name


def gibibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(Mi|Gi)", quantity).groups()
    return float(number) / (1024 if unit == "Mi" else 1)


def test_pods_run_as_the_images_user_with_bounded_resources() -> None:
    uid = int(re.search(r"^USER (\d+)", dockerfile(), re.MULTILINE)[1])
    for name, spec in pod_specs().items():
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == uid != 0, name
        for container in spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"])
            assert {"cpu", "memory"} <= set(resources["limits"])
    bot = containers()["bot"]["resources"]
    # multilingual BERT served on CPU: about 1.5 GiB per process, with room for Rasa around it
    assert gibibytes(bot["requests"]["memory"]) >= 1.5 and gibibytes(bot["limits"]["memory"]) >= 2.5


# --- Compose -------------------------------------------------------------------------------------

def compose_schema() -> dict:
    path = COMPOSE_SPEC_HOME / "compose" / "config" / "compose_spec.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: `make setup` installs it (docker-compose==1.29.2, files only)")
    return json.loads(path.read_text())


def test_the_compose_file_matches_the_compose_specification() -> None:
    schema = compose_schema()
    # the schema names draft 2019-09 as "http://json-schema.org/draft/2019-09/schema#", which jsonschema 4.17
    # does not recognise (it would fall back to 2020-12 with a warning): say it
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
                                 for error in errors)


def test_the_compose_file_needs_the_database_password_from_the_environment() -> None:
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        compose({})
    raw = compose_raw()["services"]
    for name, service in raw.items():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict), f"{name}: a mapping, so that it can be checked"
        for key, value in environment.items():
            if SECRET_NAME.search(key):
                assert value is None or PURE_REFERENCE.fullmatch(str(value)), f"{name}: {key} is written here"
            for password in CREDENTIALS_IN_URL.findall(str(value or "")):
                assert PURE_REFERENCE.fullmatch(password), f"{name}: {key} holds a password"


def test_every_dependency_and_volume_is_declared() -> None:
    everything = compose()
    declared = set(everything.get("volumes") or {})
    for name, service in everything["services"].items():
        for other, condition in (service.get("depends_on") or {}).items():
            assert other in everything["services"], f"{name} depends on {other}, which is no service"
            wanted = condition["condition"]
            if wanted == "service_healthy":
                assert "healthcheck" in everything["services"][other], (
                    f"{name} waits for {other}'s health check")
            if wanted == "service_completed_successfully":
                assert everything["services"][other].get("restart") == "no", f"{other} should run once"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (COMPOSE.parent / source).exists(), f"{name} mounts {source}, which is not there"
            else:
                assert source in declared, f"{name} uses volume {source}, which is not declared"


def test_the_two_bots_differ_only_in_name_and_the_router_lists_exactly_them() -> None:
    everything = services()
    bots = {name: service for name, service in everything.items() if command_of(service) == ["bot"]}
    assert sorted(bots) == ["bot-1", "bot-2"]
    assert bots["bot-1"] == bots["bot-2"]
    port = bots["bot-1"]["environment"]["CHATREC_RASA_PORT"]
    router = everything["router"]
    assert command_of(router) == ["router"]
    backends = router["environment"]["CHATREC_RASA_BACKENDS"].split(",")
    assert backends == [f"http://{bot}:{port}" for bot in sorted(bots)]
    assert set(router["depends_on"]) == set(bots)
    router_port = router["environment"]["CHATREC_ROUTER_PORT"]
    assert router["ports"] == [f"127.0.0.1:{router_port}:{router_port}"]
    for adapter in ("telegram", "slack"):
        assert everything[adapter]["environment"]["CHATREC_RASA_URL"] == f"http://router:{router_port}"
    actions_port = everything["actions"]["environment"]["CHATREC_ACTIONS_PORT"]
    assert bots["bot-1"]["environment"]["CHATREC_ACTIONS_URL"] == f"http://actions:{actions_port}/webhook"


def test_services_run_chatrec_commands_with_their_probes() -> None:
    ours = chatrec_services()
    assert {name: command_of(service) for name, service in ours.items()} == {
        "train": ["train"], "bot-1": ["bot"], "bot-2": ["bot"], "router": ["router"], "actions": ["actions"],
        "worker": ["worker"], "learning-worker": ["learning-worker"], "beat": ["beat"],
        "telegram": ["telegram"], "slack": ["slack"]}
    for name, service in ours.items():
        command = command_of(service)[0]
        assert command in COMMANDS, f"{name}: `chatrec {command}` does not exist"
        for key in service.get("environment") or {}:
            assert key in SETTINGS, f"{name}: {key} is not a setting of chatrec/settings.py"
    everything = services()
    probe = ["CMD", "python", "-m", "chatrec", "probe"]
    assert everything["bot-1"]["healthcheck"]["test"] == [*probe, "ready"]
    assert everything["worker"]["healthcheck"]["test"] == [*probe, "worker"]
    assert everything["learning-worker"]["healthcheck"]["test"] == [*probe, "learning-worker"]
    router_port = everything["router"]["environment"]["CHATREC_ROUTER_PORT"]
    assert f"http://127.0.0.1:{router_port}/ready" in everything["router"]["healthcheck"]["test"][-1]
    actions_port = everything["actions"]["environment"]["CHATREC_ACTIONS_PORT"]
    assert f"http://127.0.0.1:{actions_port}/health" in everything["actions"]["healthcheck"]["test"][-1]
    for name in ("redis", "postgres"):
        assert "healthcheck" in everything[name]


def test_replicas_restarts_and_profiles() -> None:
    everything = services()
    assert everything["worker"]["deploy"]["replicas"] == 2
    for name in ("learning-worker", "beat", "train", "bot-1", "bot-2"):
        assert everything[name].get("deploy", {}).get("replicas", 1) == 1 and "scale" not in everything[name]
    for name, service in everything.items():
        assert service["restart"] == ("no" if name == "train" else "unless-stopped"), name
        assert service.get("profiles", []) == (["channels"] if name in ("telegram", "slack") else []), name
    needs_models = {"bot-1", "bot-2", "actions", "worker", "learning-worker"}
    trained = {"condition": "service_completed_successfully"}
    for name in needs_models:
        assert everything[name]["depends_on"]["train"] == trained, name
        assert "models:/models" in everything[name]["volumes"], name
    assert "models:/models" in everything["train"]["volumes"]


# --- the image, nginx, the docs ------------------------------------------------------------------

def test_the_image_is_built_as_the_set_up_builds_the_environment() -> None:
    text, setup = dockerfile(), (ROOT / "scripts" / "setup-env.sh").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.10-slim$", text, re.MULTILINE)
    assert "LIGHTFM_NO_CFLAGS=1 /opt/venv/bin/pip install -r /tmp/requirements.lock" in text
    recbole = re.search(r"--target \"\$venv/opt/recbole\" (recbole==\S+)", setup)[1]
    assert f"--target /opt/venv/opt/recbole {recbole}" in text, "recbole's files where the loader looks"
    assert "/opt/venv/bin/python -m bot.encoders.multilingual_e5" in text
    for name, value in OFFLINE.items():
        assert f"{name}={value}" in text
    assert re.search(r"^USER (\d+):\d+$", text, re.MULTILINE)[1] != "0"
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.MULTILINE)[1])
    assert entrypoint == ["python", "-m", "chatrec"]
    assert json.loads(re.search(r"^CMD (.+)$", text, re.MULTILINE)[1]) == ["bot"]
    for source in re.findall(r"^COPY (?!--from)(\S+) ", text, re.MULTILINE):
        assert (ROOT / source).exists() or source == ".", source
    assert set(re.findall(r"\b(CHATREC_\w+)=", text)) <= SETTINGS


def test_the_image_leaves_out_local_state_but_not_the_program() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".venv", ".state", "models", ".git"} <= ignored
    needed = {"chatrec", "launcher", "bot", "actions", "recommender", "channels", "data", "requirements.lock"}
    assert not ignored & needed


def test_nginx_hashes_on_the_routers_sender_header_over_the_compose_bots() -> None:
    from launcher.router import SENDER_HEADER

    text = (DEPLOY / "nginx.conf").read_text()
    code = "\n".join(line.split("#")[0] for line in text.splitlines())
    assert code.count("{") == code.count("}")
    header = "$http_" + SENDER_HEADER.lower().replace("-", "_")
    assert f"hash {header} consistent;" in code
    upstream = re.search(r"upstream chatrec_bots \{(.*?)\}", code, re.DOTALL)[1]
    bots = services()["bot-1"]["environment"]["CHATREC_RASA_PORT"]
    assert re.findall(r"server (\S+?)\s", upstream) == [f"bot-1:{bots}", f"bot-2:{bots}"]
    assert "lock store" in text, "the comment says what keeps turns in order without stickiness"


def test_the_production_guide_names_every_process() -> None:
    guide = (ROOT / "docs" / "production.md").read_text()
    commands = ("bot", "router", "actions", "worker", "learning-worker", "beat", "train", "telegram", "slack")
    for command in commands:
        assert f"`chatrec {command}`" in guide, command
    assert "make check-deploy" in guide
