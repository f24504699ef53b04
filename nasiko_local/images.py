"""Platform images: present, pulled, built or pushed.

Images are named {NASIKO_REGISTRY_URL}/{service}:{NASIKO_VERSION} by the
compose file; a team builds and pushes once, everyone else pulls.
"""

from typing import TYPE_CHECKING

import docker

from .errors import NasikoError
from .reporter import Reporter

if TYPE_CHECKING:
    from .stack import Stack


def image_present(client: docker.DockerClient, image: str) -> bool:
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:
        if "invalid reference format" in str(exc):
            raise NasikoError(
                f"{image!r} is not a valid image name",
                hint="image names come from NASIKO_REGISTRY_URL and NASIKO_VERSION (and *_IMAGE): use lowercase "
                "for the registry and path, and only letters, digits, '_', '.' and '-' in the version",
            ) from None
        raise
    return True


def _own_services(stack: "Stack", services: list[str] | None) -> list[str]:
    """The named services (default: all) that this repository builds; others are refused."""
    config = stack.compose.config
    names = stack.resolve(services) if services else [s for s in config.services if config.built_here(s)]
    not_ours = [s for s in names if not config.built_here(s)]
    if not_ours:
        raise NasikoError(f"{', '.join(not_ours)} is not built from this repository",
                          hint="name one of: " + ", ".join(s for s in config.services if config.built_here(s)))
    return names


def ensure_images(stack: "Stack", reporter: Reporter, build: bool | None = None,
                  services: list[str] | None = None) -> None:
    """Images for every enabled service (or just `services`): build=True rebuilds ours,
    False never builds, None (default) pulls what is published and builds what is not."""
    config, client = stack.compose.config, stack.client
    wanted = stack.resolve(services) if services else stack.services
    ours = [s for s in wanted if config.built_here(s)]
    theirs = [s for s in wanted if not config.built_here(s)]
    to_build = list(ours) if build else []
    for service in ours if build is None else []:
        if image_present(client, config.image(service)):
            continue
        reporter.step(f"{config.image(service)} not on this machine: pulling")
        pulled = stack.compose.run("pull", "--quiet", service, profiles=stack.profiles, check=False)
        if pulled.returncode != 0:
            reporter.step(f"{config.image(service)} is not published: building it")
            to_build.append(service)
    if build is False:
        missing = [config.image(s) for s in ours if not image_present(client, config.image(s))]
        if missing:
            raise NasikoError(f"--no-build, but these images are missing: {', '.join(missing)}",
                              hint="run `invoke build`, or pull them (check NASIKO_REGISTRY_URL and NASIKO_VERSION)")
    for service in theirs:
        image = config.image(service)
        if image_present(client, image):
            continue
        reporter.step(f"pulling {image}")
        if stack.compose.run("pull", "--quiet", service, profiles=stack.profiles, check=False).returncode != 0:
            raise NasikoError(
                f"image {image} ({service}) is not on this machine and cannot be pulled",
                hint="check your network and registry login; on a machine without a registry, build the "
                "offline stand-ins (scripts/ci/provision.sh) and start with --config scripts/ci/offline.env",
            )
    if to_build:
        build_images(stack, reporter, to_build)


def build_images(stack: "Stack", reporter: Reporter, services: list[str] | None = None) -> list[str]:
    """Build platform images under their registry names; returns the image names."""
    config = stack.compose.config
    names = _own_services(stack, services)
    reporter.step(f"building {', '.join(names)}")
    stack.compose.run("build", *names, profiles=("*",), capture=not reporter.live, what="building images")
    return [config.image(s) for s in names]


def push_images(stack: "Stack", reporter: Reporter, services: list[str] | None = None) -> list[str]:
    """Publish platform images to NASIKO_REGISTRY_URL, so others can start with --no-build."""
    config = stack.compose.config
    names = _own_services(stack, services)
    images = [config.image(s) for s in names]
    missing = [i for i in images if not image_present(stack.client, i)]
    if missing:
        raise NasikoError(f"not built yet: {', '.join(missing)}", hint="run `invoke build` first")
    reporter.step(f"pushing {', '.join(images)}")
    stack.compose.run("push", *names, profiles=("*",), capture=not reporter.live, what="pushing images")
    return images
