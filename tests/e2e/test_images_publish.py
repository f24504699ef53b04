"""Pre-built images: `invoke build` names them {NASIKO_REGISTRY_URL}/{service}:{NASIKO_VERSION},
`invoke push` publishes them, and `invoke up` pulls what is published and
builds only what is not. A real registry (Debian's docker-registry, built by
scripts/ci/build-offline-images.sh) runs on 127.0.0.1 for the test.
"""

import time
import uuid

import docker
import httpx
import pytest

from nasiko_local import images
from nasiko_local import stack as nasiko
from nasiko_local.docker_api import docker_client
from nasiko_local.errors import NasikoError
from nasiko_local.reporter import SilentReporter
from tests.utils.redis_server import free_port

pytestmark = pytest.mark.e2e
REGISTRY_IMAGE = "nasiko-offline/registry:2"


@pytest.fixture
def registry():
    client = docker_client()
    try:
        client.images.get(REGISTRY_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.skip(f"not run: no registry image ({REGISTRY_IMAGE}); build it with scripts/ci/build-offline-images.sh")
    port = free_port()
    container = client.containers.run(REGISTRY_IMAGE, detach=True, name=f"nasiko-test-registry-{uuid.uuid4().hex[:8]}",
                                      ports={"5000/tcp": ("127.0.0.1", port)}, labels={"nasiko.test": "registry"})
    url = f"127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"http://{url}/v2/", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url
    container.remove(force=True, v=True)


@pytest.fixture
def published_stack(registry, stack_config, tmp_path):
    version = f"e2e-{uuid.uuid4().hex[:8]}"
    env = tmp_path / "publish.env"
    env.write_text((stack_config.read_text() if stack_config else "")
                   + f"\nNASIKO_REGISTRY_URL={registry}/team\nNASIKO_VERSION={version}\n")
    stack = nasiko.load_stack(env)
    yield stack, registry, version
    for image in stack.client.images.list(name=f"{registry}/team/*"):
        for tag in image.tags:
            stack.client.images.remove(tag, force=True)


def test_build_push_then_up_pulls_the_published_image_and_builds_the_rest(published_stack):
    stack, registry, version = published_stack
    reporter = SilentReporter()
    built = images.build_images(stack, reporter, ["nasiko-auth"])
    assert built == [f"{registry}/team/nasiko-auth:{version}"]
    pushed_id = stack.client.images.get(built[0]).id

    assert images.push_images(stack, reporter, ["nasiko-auth"]) == built
    tags = httpx.get(f"http://{registry}/v2/team/nasiko-auth/tags/list", timeout=5).json()
    assert tags["tags"] == [version]

    stack.client.images.remove(built[0], force=True)
    pulling = SilentReporter()
    images.ensure_images(stack, pulling, services=["nasiko-auth", "nasiko-router"])
    assert stack.client.images.get(built[0]).id == pushed_id, "the published image came back by pull"
    assert any("not published: building" in step and "nasiko-router" in step for step in pulling.steps)
    assert not any("building" in step and "nasiko-auth" in step for step in pulling.steps)
    assert stack.client.images.get(f"{registry}/team/nasiko-router:{version}")


def test_no_build_refuses_when_an_image_is_missing(published_stack):
    stack, _, version = published_stack
    with pytest.raises(NasikoError) as error:
        images.ensure_images(stack, SilentReporter(), build=False, services=["nasiko-web"])
    assert f"nasiko-web:{version}" in error.value.message
    assert "invoke build" in error.value.hint


def test_push_before_build_says_to_build_first(published_stack):
    stack, _, _ = published_stack
    with pytest.raises(NasikoError, match="not built yet"):
        images.push_images(stack, SilentReporter(), ["chat-history"])
