"""Content-addressed agent images: reuse when the context is unchanged, else build.

Image reference::

    {AGENT_REGISTRY_URL or "nasiko-agent"}/{agent}:{context hash[:16]}
    e.g. nasiko-agent/weather:3fa9c0d1e2b4a6f8

The tag is the cache key. An image counts as cached only if that tag exists
*and* carries the label `nasiko.content-hash` equal to the full hash, so a tag
made by hand can never pass for a build. The tag is written only after the
engine reports success, so a failed build leaves no cache entry behind.

Builds use the classic builder through docker-py (the engine here has no
BuildKit for API clients) on the engine's default build network;
WORKER_BUILD_NETWORK=host is for machines where only the host reaches the
package registries (CI here). Build args carry proxy settings only, never
secrets: those reach agents at run time.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import urllib3
from docker.errors import ImageNotFound

from .build_log import BuildFailed, BuildLine, BuiltImage, parse_build_stream
from .config import WorkerSettings
from .context_hash import build_context_archive

log = logging.getLogger(__name__)

CACHE_HIT_LINE = "---> Using cache"


@dataclass
class ImageResult:
    ref: str
    image_id: str
    built: bool
    seconds: float
    steps: int = 0
    cached_steps: int = 0


class BuildTimedOut(BuildFailed):
    """The build ran past WORKER_BUILD_TIMEOUT_SECONDS."""


class ImageBuilder:
    def __init__(self, api: docker.APIClient, settings: WorkerSettings) -> None:
        self.api = api
        self.settings = settings

    def image_repository(self, agent_name: str) -> str:
        return f"{self.settings.image_repository_prefix}/{agent_name}"

    def image_ref(self, agent_name: str, content_hash: str) -> str:
        return f"{self.image_repository(agent_name)}:{content_hash[:16]}"

    def cached_image(self, ref: str, content_hash: str) -> str | None:
        """Id of the image tagged `ref` if it was built from `content_hash`."""
        try:
            attrs = self.api.inspect_image(ref)
        except ImageNotFound:
            return None
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return attrs["Id"] if labels.get("nasiko.content-hash") == content_hash else None

    def ensure_image(
        self,
        agent_name: str,
        folder: Path,
        files: list[str],
        content_hash: str,
        on_log: Callable[[str], None],
        on_build_start: Callable[[str], None] = lambda ref: None,
    ) -> ImageResult:
        """Reuse the image for `content_hash` at once, or build and tag it."""
        started = time.monotonic()
        ref = self.image_ref(agent_name, content_hash)
        image_id = self.cached_image(ref, content_hash)
        if image_id is not None:
            self._tag_alias(image_id, agent_name)
            return ImageResult(ref, image_id, built=False, seconds=time.monotonic() - started)
        on_build_start(ref)
        result = self._build(agent_name, folder, files, content_hash, on_log)
        repository, tag = ref.rsplit(":", 1)
        self.api.tag(result.image_id, repository, tag)
        self._tag_alias(result.image_id, agent_name)
        result.ref = ref
        result.seconds = time.monotonic() - started
        return result

    def _build(self, agent_name, folder, files, content_hash, on_log) -> ImageResult:
        timeout = self.settings.WORKER_BUILD_TIMEOUT_SECONDS
        deadline = time.monotonic() + timeout
        labels = {
            "nasiko.agent": agent_name,
            "nasiko.content-hash": content_hash,
            "nasiko.managed-by": "nasiko-worker",
        }
        result = ImageResult(ref="", image_id="", built=True, seconds=0.0)
        with build_context_archive(folder, files) as archive:
            # decode=False: the raw chunks go through parse_build_stream, which
            # reassembles objects split across chunks. The HTTP read timeout
            # bounds a silent step; the deadline check bounds the whole build.
            chunks = self.api.build(
                fileobj=archive,
                custom_context=True,
                dockerfile="Dockerfile",
                rm=True,
                forcerm=True,
                network_mode=self.settings.WORKER_BUILD_NETWORK,
                labels=labels,
                buildargs=self.settings.proxy_build_args() or None,
                decode=False,
                timeout=timeout,
            )
            try:
                for item in parse_build_stream(chunks):
                    if isinstance(item, BuiltImage):
                        result.image_id = item.image_id
                        continue
                    self._count_step(item, result)
                    on_log(item.text)
                    if time.monotonic() > deadline:
                        raise BuildTimedOut(
                            f"the build took longer than {timeout:.0f}s: raise WORKER_BUILD_TIMEOUT_SECONDS "
                            "or make the Dockerfile faster"
                        )
            except docker.errors.APIError as exc:
                raise BuildFailed(f"the engine refused the build: {exc.explanation or exc}") from exc
            except (
                OSError,
                urllib3.exceptions.HTTPError,
            ) as exc:  # read timeout on a silent step, or a dropped connection
                if time.monotonic() > deadline:
                    raise BuildTimedOut(
                        f"the build took longer than {timeout:.0f}s: raise WORKER_BUILD_TIMEOUT_SECONDS"
                    ) from exc
                raise
            finally:
                chunks.close()
        if not result.image_id:
            raise BuildFailed("the build ended without reporting an image id")
        return result

    @staticmethod
    def _count_step(line: BuildLine, result: ImageResult) -> None:
        text = line.text.strip()
        if text.startswith("Step "):
            result.steps += 1
        elif text.startswith(CACHE_HIT_LINE):
            result.cached_steps += 1

    def _tag_alias(self, image_id: str, agent_name: str) -> None:
        if self.settings.AGENT_IMAGE_TAG:
            self.api.tag(image_id, self.image_repository(agent_name), self.settings.AGENT_IMAGE_TAG, force=True)
